package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.RateLimit;
import dev.changesync.lease.OwnerId;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The registry of worker processes: who started when, on which host, and when each was last seen.
 * A worker with a liveness lock is alive exactly while its lock is held; one without is taken as
 * alive while it was seen recently and has not stopped.
 */
public final class WorkerRegistry {

  /**
   * The usual window of {@link #list}: a worker without a liveness lock is taken as alive while it
   * was seen within 45 s. Running workers record that they are alive every 15 s, so this allows
   * two missed touches (a slow database, a long GC pause) before a live worker is shown as gone.
   */
  public static final Duration DEFAULT_SEEN_WITHIN = Duration.ofSeconds(45);

  private static final String NOW = DbTime.NOW;

  private final Jdbi jdbi;
  private final DbTime time;

  /** A registry on database time. */
  public WorkerRegistry(Jdbi jdbi) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = DbTime.database();
  }

  /** A registry on an injected clock (tests). */
  public WorkerRegistry(Jdbi jdbi, InstantSource clock) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = DbTime.injected(clock);
  }

  /** What a worker says about itself when it registers. */
  public record Registration(
      OwnerId owner, String host, long pid, String version, Optional<Long> livenessKey) {
    public Registration {
      requireNonNull(owner, "owner");
      requireNonNull(livenessKey, "livenessKey");
    }
  }

  /** A registered worker as the database shows it. */
  public record Worker(
      OwnerId owner,
      String host,
      long pid,
      String version,
      Instant startedAt,
      Instant lastSeenAt,
      Optional<Instant> stoppedAt,
      boolean livenessTracked,
      boolean alive,
      Optional<Integer> githubRateLimitRemaining,
      Optional<Instant> githubRateLimitResetAt) {}

  /** Registers (or re-registers) a worker process; started-at and last-seen are now. */
  public void register(Registration registration) {
    jdbi.useHandle(
        h ->
            bindNow(
                    h.createUpdate(
                        """
                        insert into worker (owner_id, worker_name, incarnation, host, pid, version,
                                            liveness_key, started_at, last_seen_at)
                        values (:owner, :worker, :incarnation, :host, :pid, :version,
                                :liveness_key, %1$s, %1$s)
                        on conflict (owner_id) do update
                           set host = excluded.host, pid = excluded.pid, version = excluded.version,
                               liveness_key = excluded.liveness_key,
                               last_seen_at = excluded.last_seen_at, stopped_at = null
                        """
                            .formatted(NOW)))
                .bind("owner", registration.owner().toString())
                .bind("worker", registration.owner().workerName())
                .bind("incarnation", registration.owner().incarnation())
                .bind("host", registration.host())
                .bind("pid", registration.pid())
                .bind("version", registration.version())
                .bind("liveness_key", registration.livenessKey().orElse(null))
                .execute());
  }

  /** Records that {@code owner} is still running. Returns false when it is not registered. */
  public boolean touch(OwnerId owner) {
    return touch(owner, Optional.empty());
  }

  /**
   * Records that {@code owner} is still running and, when given, the GitHub rate limit it last
   * saw. Returns false when it is not registered.
   */
  public boolean touch(OwnerId owner, Optional<RateLimit> rateLimit) {
    return jdbi.withHandle(
            h ->
                bindNow(
                        h.createUpdate(
                            """
                            update worker
                               set last_seen_at = %s,
                                   github_rate_limit_remaining =
                                     coalesce(:remaining, github_rate_limit_remaining),
                                   github_rate_limit_reset_at =
                                     coalesce(:reset_at, github_rate_limit_reset_at)
                             where owner_id = :owner
                            """
                                .formatted(NOW)))
                    .bind("owner", owner.toString())
                    .bind("remaining", rateLimit.map(RateLimit::remaining).orElse(null))
                    .bind(
                        "reset_at",
                        rateLimit
                            .map(r -> r.resetAt().atOffset(java.time.ZoneOffset.UTC))
                            .orElse(null))
                    .execute())
        == 1;
  }

  /** Records that {@code owner} stopped cleanly. */
  public void stopped(OwnerId owner) {
    jdbi.useHandle(
        h ->
            bindNow(
                    h.createUpdate(
                        "update worker set last_seen_at = %1$s, stopped_at = %1$s where owner_id = :owner"
                            .formatted(NOW)))
                .bind("owner", owner.toString())
                .execute());
  }

  /**
   * Every registered worker, most recently seen first. A worker without liveness is alive while it
   * has not stopped and was seen within {@code seenWithin}.
   */
  public List<Worker> list(Duration seenWithin) {
    return jdbi.withHandle(
        h ->
            bindNow(
                    h.createQuery(
                        """
                        select w.*,
                               case when w.stopped_at is not null then false
                                    when w.liveness_key is not null then exists (
                                      select 1 from pg_locks pl
                                       where pl.locktype = 'advisory' and pl.granted
                                         and pl.objsubid = 1
                                         and ((pl.classid::bigint << 32) | pl.objid::bigint)
                                             = w.liveness_key)
                                    else w.last_seen_at > %s - :within_us * interval '1 microsecond'
                               end as alive
                          from worker w
                         order by w.last_seen_at desc, w.owner_id
                        """
                            .formatted(NOW)))
                .bind("within_us", seenWithin.toNanos() / 1_000)
                .map(
                    (rs, ctx) ->
                        new Worker(
                            OwnerId.parse(rs.getString("owner_id")),
                            rs.getString("host"),
                            rs.getLong("pid"),
                            rs.getString("version"),
                            PostgresLeaseStore.instant(rs, "started_at"),
                            PostgresLeaseStore.instant(rs, "last_seen_at"),
                            Optional.ofNullable(PostgresLeaseStore.instant(rs, "stopped_at")),
                            rs.getObject("liveness_key") != null,
                            rs.getBoolean("alive"),
                            Optional.ofNullable((Integer) rs.getObject("github_rate_limit_remaining")),
                            Optional.ofNullable(
                                PostgresLeaseStore.instant(rs, "github_rate_limit_reset_at"))))
                .list());
  }

  /** How long a worker that stopped (or fell silent without a liveness lock) stays listed. */
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);

  /**
   * Removes the workers that stopped — or, never marked stopped, were last seen — more than {@code
   * retention} ago and hold no liveness lock: the list of workers stays about the processes of the
   * last days, not every start ever. Returns how many were removed.
   */
  public int prune(Duration retention) {
    return jdbi.withHandle(
        h ->
            bindNow(
                    h.createUpdate(
                        """
                        delete from worker w
                         where coalesce(w.stopped_at, w.last_seen_at)
                                 < %s - :retention_us * interval '1 microsecond'
                           and (w.liveness_key is null or not exists (
                                 select 1 from pg_locks pl
                                  where pl.locktype = 'advisory' and pl.granted
                                    and pl.objsubid = 1
                                    and ((pl.classid::bigint << 32) | pl.objid::bigint)
                                        = w.liveness_key))
                        """
                            .formatted(NOW)))
                .bind("retention_us", retention.toNanos() / 1_000)
                .execute());
  }

  private <S extends SqlStatement<S>> S bindNow(S statement) {
    return time.bind(statement);
  }

}
