package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * The {@code repository_sync_state} and {@code open_pr} statements the lanes share: pass
 * bookkeeping, backoff, counts, and the lock order that keeps concurrent lanes of one repository
 * from deadlocking.
 *
 * <p><b>Lock order.</b> A transaction that changes the inventory and recounts locks the
 * repository's sync-state row <em>first</em> ({@link #lockState}), then inventory rows. The fetch
 * lane's page transactions touch inventory rows only and never the state row, so no transaction
 * ever waits for the state row while holding an inventory row another one needs.
 *
 * <p><b>Errors</b> are recorded in {@code last_error} prefixed with the lane ({@code "fetch: ..."}),
 * so that a later success of the same lane clears its own error and not another lane's.
 */
final class SyncState {

  static final int MAX_ERROR_LENGTH = 2_000;

  private final DbTime time;

  SyncState(DbTime time) {
    this.time = requireNonNull(time, "time");
  }

  DbTime time() {
    return time;
  }

  /** A repository as a pass sees it at its start. */
  record RepoRow(long id, RepoName name, Optional<Long> githubId) {}

  /** The repository a pass works on; it is an error for it to be gone (its leases go with it). */
  RepoRow repository(Handle h, long repositoryId) {
    return h.createQuery("select id, owner, name, github_id from repository where id = :id")
        .bind("id", repositoryId)
        .map(
            (rs, ctx) ->
                new RepoRow(
                    rs.getLong("id"),
                    RepoName.of(rs.getString("owner"), rs.getString("name")),
                    Optional.ofNullable((Long) rs.getObject("github_id"))))
        .findOne()
        .orElseThrow(() -> new IllegalStateException("repository " + repositoryId + " is gone"));
  }

  /** Locks the repository's sync-state row until the transaction ends; false when it is gone. */
  boolean lockState(Handle h, long repositoryId) {
    return h.createQuery(
            "select 1 from repository_sync_state where repository_id = :id for no key update")
        .bind("id", repositoryId)
        .mapTo(Integer.class)
        .findOne()
        .isPresent();
  }

  /** "Now" as the lanes' time authority sees it, read inside {@code h}'s transaction. */
  Instant now(Handle h) {
    return time.now(h);
  }

  /** Records that a pass of {@code lane} started. */
  void started(Handle h, Lane lane, long repositoryId) {
    time.bind(
            h.createUpdate(
                "update repository_sync_state set last_%s_started_at = %s where repository_id = :id"
                    .formatted(lane.column(), DbTime.NOW)))
        .bind("id", repositoryId)
        .execute();
  }

  /** Which of the open-PR counts one PR's inventory row is in. */
  enum Bucket {
    /** No inventory row: not counted. */
    ABSENT,
    /** Counted in total and current. */
    CURRENT,
    /** Counted in total and stale (stale head, stale base, or failed). */
    STALE,
    /** Counted in total only: no snapshot yet. */
    MISSING
  }

  /**
   * Runs {@code change}, which changes PR {@code number}'s inventory row (and whatever else the
   * transaction writes), and moves the PR between the open-PR counts accordingly: locks the state
   * row, then the PR's row, notes its bucket, changes it, and {@link #recountPull}s.
   */
  void changePull(Handle h, long repositoryId, int number, Runnable change) {
    lockState(h, repositoryId);
    Bucket before = bucket(h, repositoryId, number);
    change.run();
    recountPull(h, repositoryId, number, before);
  }

  /**
   * The bucket of PR {@code number}'s inventory row, which this locks until the transaction ends.
   * Call it after {@link #lockState}, before changing the row, and pass it to {@link
   * #recountPull} after.
   */
  Bucket bucket(Handle h, long repositoryId, int number) {
    return h.createQuery(
            """
            select case when freshness is null then 'MISSING'
                        when freshness = 'current' then 'CURRENT'
                        else 'STALE' end
              from open_pr where repository_id = :id and number = :number for update
            """)
        .bind("id", repositoryId)
        .bind("number", number)
        .mapTo(String.class)
        .findOne()
        .map(Bucket::valueOf)
        .orElse(Bucket.ABSENT);
  }

  /**
   * Moves PR {@code number} from bucket {@code before} to the bucket its inventory row is in now,
   * in the open-PR counts: two primary-key lookups instead of the whole inventory that {@link
   * #recount} reads. Exact because every transaction that changes one PR's row this way holds the
   * state row ({@link #lockState}) and the PR's row from {@link #bucket} on; the fetch lane's page
   * writes, which take neither, end with a full {@link #recount} that waits for the state row.
   */
  void recountPull(Handle h, long repositoryId, int number, Bucket before) {
    Bucket after = bucket(h, repositoryId, number);
    if (after == before) {
      return;
    }
    h.createUpdate(
            """
            update repository_sync_state
               set open_pr_total = open_pr_total + :total,
                   open_pr_current = open_pr_current + :current,
                   open_pr_stale = open_pr_stale + :stale
             where repository_id = :id
            """)
        .bind("total", in(after, Bucket.CURRENT, Bucket.STALE, Bucket.MISSING)
            - in(before, Bucket.CURRENT, Bucket.STALE, Bucket.MISSING))
        .bind("current", in(after, Bucket.CURRENT) - in(before, Bucket.CURRENT))
        .bind("stale", in(after, Bucket.STALE) - in(before, Bucket.STALE))
        .bind("id", repositoryId)
        .execute();
  }

  private static int in(Bucket bucket, Bucket... buckets) {
    for (Bucket b : buckets) {
      if (bucket == b) {
        return 1;
      }
    }
    return 0;
  }

  /**
   * Recomputes the open-PR counts of a repository from its inventory rows. Call it after {@link
   * #lockState} in the same transaction, so that it counts every inventory change committed before.
   */
  void recount(Handle h, long repositoryId) {
    h.createUpdate(
            """
            update repository_sync_state s
               set (open_pr_total, open_pr_current, open_pr_stale) = (
                   select count(*),
                          count(*) filter (where p.freshness = 'current'),
                          count(*) filter (where p.freshness in
                                             ('stale_head_changed', 'stale_base_moved', 'failed'))
                     from open_pr p where p.repository_id = :id)
             where s.repository_id = :id
            """)
        .bind("id", repositoryId)
        .execute();
  }

  /**
   * The completion of a successful pass: finished-at, failure count and retry-after reset, and the
   * lane's own last error cleared.
   */
  void succeeded(Handle h, Lane lane, long repositoryId) {
    time.bind(
            h.createUpdate(
                """
                update repository_sync_state
                   set last_%1$s_finished_at = %2$s, %1$s_failure_count = 0,
                       %1$s_retry_after = null,
                       last_error = case when last_error like :prefix then null else last_error end,
                       last_error_at = case when last_error like :prefix then null
                                            else last_error_at end
                 where repository_id = :id
                """
                    .formatted(lane.column(), DbTime.NOW)))
        .bind("id", repositoryId)
        .bind("prefix", lane.column() + ": %")
        .execute();
  }

  /**
   * The completion of a failed pass: finished-at, last error, failure count + 1, and a retry-after
   * growing exponentially with the failure count (base, doubled per further failure, capped) — or
   * {@code notBefore} when that is later (GitHub said when it takes requests again).
   */
  void failed(
      Handle h,
      Lane lane,
      long repositoryId,
      String error,
      Optional<Instant> notBefore,
      SyncSettings settings) {
    time.bind(
            h.createUpdate(
                """
                update repository_sync_state
                   set last_%1$s_finished_at = %2$s,
                       last_error = :error, last_error_at = %2$s,
                       %1$s_failure_count = %1$s_failure_count + 1,
                       %1$s_retry_after = greatest(
                           %2$s + least(cast(:cap_us as float8),
                               :base_us * power(float8 '2', least(%1$s_failure_count, 40)))
                               * interval '1 microsecond',
                           :not_before)
                 where repository_id = :id
                """
                    .formatted(lane.column(), DbTime.NOW)))
        .bind("id", repositoryId)
        .bind("error", truncate(lane.column() + ": " + error))
        .bind("cap_us", micros(settings.retryBackoffCap()))
        .bind("base_us", micros(settings.retryBackoffBase()))
        .bindByType("not_before", offset(notBefore.orElse(null)), OffsetDateTime.class)
        .execute();
  }

  /** Records that GitHub says the repository does not exist: no lane works on it any more. */
  void notFoundOnGitHub(Handle h, long repositoryId) {
    time.bind(
            h.createUpdate(
                "update repository_sync_state set github_not_found_at = %s where repository_id = :id"
                    .formatted(DbTime.NOW)))
        .bind("id", repositoryId)
        .execute();
  }

  /** The completion of a pass cut short by a worker shutdown: finished-at only, no backoff. */
  void interrupted(Handle h, Lane lane, long repositoryId) {
    time.bind(
            h.createUpdate(
                "update repository_sync_state set last_%s_finished_at = %s where repository_id = :id"
                    .formatted(lane.column(), DbTime.NOW)))
        .bind("id", repositoryId)
        .execute();
  }

  static String truncate(String error) {
    if (error == null) {
      return null;
    }
    return error.length() <= MAX_ERROR_LENGTH ? error : error.substring(0, MAX_ERROR_LENGTH) + "…";
  }

  static String describe(Throwable t) {
    String message = t.getMessage();
    String name = t.getClass().getSimpleName();
    return message == null || message.isBlank() ? name : name + ": " + message;
  }

  static long micros(Duration d) {
    return d.toNanos() / 1_000;
  }

  static OffsetDateTime offset(Instant instant) {
    return instant == null
        ? null
        : OffsetDateTime.ofInstant(DbTime.truncate(instant), java.time.ZoneOffset.UTC);
  }
}
