package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.engine.repo.WorkSignal;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseOperator;
import dev.changesync.lease.LeaseState;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lease diagnostics and operations: the leases and their state, the audit log, the workers, manual
 * release and the recovery pass. "Now" is the time authority of {@link DbTime} — the database's
 * clock in production — the same one that decides whether a lease is HELD.
 */
public final class LeaseService {

  private static final Logger log = LoggerFactory.getLogger(LeaseService.class);

  private final LeaseOperator store;
  private final Jdbi jdbi;
  private final WorkerRegistry workers;
  private final DbTime time;
  private final OwnerId recoverAs;
  private final Duration workerSeenWithin;

  /**
   * @param recoverAs the owner id recovery passes run as: this process's own owner id when it runs
   *     workers (its own leases are never freed; those of earlier incarnations of its worker name
   *     are), else an identity of its own — never another live process's worker name, or its leases
   *     would be freed as an "earlier incarnation"
   * @param workerSeenWithin a worker without a liveness lock counts as alive while it was seen
   *     within this window
   */
  public LeaseService(
      LeaseOperator store,
      Jdbi jdbi,
      WorkerRegistry workers,
      DbTime time,
      OwnerId recoverAs,
      Duration workerSeenWithin) {
    this.store = requireNonNull(store, "store");
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.workers = requireNonNull(workers, "workers");
    this.time = requireNonNull(time, "time");
    this.recoverAs = requireNonNull(recoverAs, "recoverAs");
    this.workerSeenWithin = requireNonNull(workerSeenWithin, "workerSeenWithin");
  }

  private static final String LEASES =
      """
      select l.resource, l.lane, l.owner_id, l.token, l.claimed_at, l.heartbeat_at, l.expires_at,
             l.stale_at, l.lease_for_us, l.heartbeat_every_us, l.stale_after_us, l.transitions,
             l.holder_clock_skew_us, l.stale_at > :now as held, r.full_name
        from lease l
        left join repository r on l.resource = %s
       where l.owner_id is not null and (not :stale_only or l.stale_at <= :now)
       order by l.resource, l.lane
      """
          .formatted(Lanes.resourceSql("r.id"));

  /** Every owned lease (HELD or STALE), or only the STALE ones. */
  public LeaseList leases(boolean staleOnly) {
    return Database.call(
        () ->
            jdbi.inTransaction(
                h -> {
                  Instant now = time.now(h);
                  List<LeaseList.Entry> leases =
                      h.createQuery(LEASES)
                          .bindByType(
                              "now",
                              OffsetDateTime.ofInstant(now, ZoneOffset.UTC),
                              OffsetDateTime.class)
                          .bind("stale_only", staleOnly)
                          .map(
                              (rs, ctx) ->
                                  new LeaseList.Entry(
                                      rs.getString("resource"),
                                      rs.getString("lane"),
                                      Rows.optString(rs, "full_name"),
                                      rs.getBoolean("held") ? LeaseState.HELD : LeaseState.STALE,
                                      rs.getString("owner_id"),
                                      rs.getLong("token"),
                                      Rows.instant(rs, "claimed_at"),
                                      Rows.instant(rs, "heartbeat_at"),
                                      Rows.instant(rs, "expires_at"),
                                      Rows.instant(rs, "stale_at"),
                                      micros(rs.getLong("lease_for_us")),
                                      micros(rs.getLong("heartbeat_every_us")),
                                      micros(rs.getLong("stale_after_us")),
                                      rs.getLong("transitions"),
                                      Rows.optLong(rs, "holder_clock_skew_us")
                                          .map(LeaseService::micros)))
                          .list();
                  return new LeaseList(now, leases);
                }));
  }

  /**
   * The newest {@code :limit} events of the view {@code lease_event_log}, read without expanding
   * the whole log. A row of {@code lease_event} that ends a holding whose claim has no row of its
   * own carries that claim ({@code held_since}); the claim's id, its token, is smaller than the
   * row's, so the newest events are among the newest rows, their claims, and the claims of leases
   * held now. Rows are looked for among ids above {@code :floor} (the BRIN index on id reads only
   * those pages); {@link #events} widens the window until it has enough.
   */
  private static final String EVENTS =
      """
      with r as (
        select * from lease_event
         where id > :floor and (cast(:resource as text) is null or resource = :resource)
         order by id desc limit :limit
      ),
      h as (
        select * from lease
         where owner_id is not null and not claim_logged
           and (cast(:resource as text) is null or resource = :resource)
         order by token desc limit :limit
      )
      select * from (
        select id, at, resource, lane, kind, owner_id, token,
               previous_owner_id, previous_token, detail
          from r
        union all
        select case when kind = 'released' then token else previous_token end,
               held_since, resource, lane, 'claimed',
               case when kind = 'released' then owner_id else previous_owner_id end,
               case when kind = 'released' then token else previous_token end,
               null, null, null
          from r where held_since is not null
        union all
        select token, claimed_at, resource, lane, 'claimed', owner_id, token, null, null, null
          from h
      ) e
       where e.id > :floor
       order by id desc
       limit :limit
      """;

  /**
   * How far below the newest id {@link #events} looks at first; each further try looks ten times
   * as far, until the newest events are found or the whole log was read.
   */
  static final long FIRST_EVENT_WINDOW = 10_000;

  /**
   * The newest {@code limit} (1–{@value Inputs#MAX_EVENT_LIMIT}) lease events, newest first,
   * optionally of one resource.
   */
  public List<LeaseEvent> events(Optional<String> resource, int limit) {
    requireNonNull(resource, "resource");
    int checkedLimit = Inputs.eventLimit(limit);
    Optional<String> filter =
        resource.map(String::strip).filter(r -> !r.isEmpty()).map(this::resolve);
    filter.ifPresent(
        r -> {
          if (r.length() > LeaseKey.MAX_LENGTH) {
            throw new BadInputException(
                "invalid resource: at most " + LeaseKey.MAX_LENGTH + " characters");
          }
        });
    return Database.call(
        () ->
            jdbi.withHandle(
                h -> {
                  // Ids (and tokens) come from lease_token_seq: its last value bounds every id.
                  long top =
                      h.createQuery("select last_value from lease_token_seq")
                          .mapTo(Long.class)
                          .one();
                  for (long window = FIRST_EVENT_WINDOW; ; window *= 10) {
                    long floor = window >= top ? Long.MIN_VALUE : top - window;
                    List<LeaseEvent> events =
                        events(h, filter.orElse(null), checkedLimit, floor);
                    // Every event with an id above the floor is in the answer: enough of them,
                    // or nothing below the floor, and these are the newest.
                    if (events.size() >= checkedLimit || floor == Long.MIN_VALUE) {
                      return events;
                    }
                  }
                }));
  }

  private static List<LeaseEvent> events(Handle h, String resource, int limit, long floor) {
    return h.createQuery(EVENTS)
                        .bind("resource", resource)
                        .bind("limit", limit)
                        .bind("floor", floor)
                        .map(
                            (rs, ctx) ->
                                new LeaseEvent(
                                    rs.getLong("id"),
                                    Rows.instant(rs, "at"),
                                    rs.getString("resource"),
                                    rs.getString("lane"),
                                    rs.getString("kind"),
                                    Rows.optString(rs, "owner_id"),
                                    Rows.optLong(rs, "token"),
                                    Rows.optString(rs, "previous_owner_id"),
                                    Rows.optLong(rs, "previous_token"),
                                    Rows.optString(rs, "detail")))
                        .list();
  }

  /** The registered worker processes, most recently seen first. */
  public WorkerList workers() {
    return Database.call(
        () -> {
          Instant now = jdbi.withHandle(time::now);
          List<WorkerList.Entry> entries =
              workers.list(workerSeenWithin).stream()
                  .map(
                      w ->
                          new WorkerList.Entry(
                              w.owner().toString(),
                              w.owner().workerName(),
                              w.owner().incarnation(),
                              Optional.ofNullable(w.host()),
                              w.pid(),
                              Optional.ofNullable(w.version()),
                              w.startedAt(),
                              w.lastSeenAt(),
                              w.stoppedAt(),
                              w.livenessTracked(),
                              w.alive(),
                              w.githubRateLimitRemaining(),
                              w.githubRateLimitResetAt()))
                  .toList();
          return new WorkerList(now, entries, jdbi.withHandle(LeaseService::credentials));
        });
  }

  /** Each GitHub credential's rate limit as last seen by any worker, by credential. */
  public List<GitHubCredential> githubCredentials() {
    return Database.call(() -> jdbi.withHandle(LeaseService::credentials));
  }

  private static List<GitHubCredential> credentials(org.jdbi.v3.core.Handle h) {
    return h.createQuery(
            """
            select credential, remaining, request_limit, reset_at, secondary_until, updated_at
              from github_credential_rate_limit
             order by credential
            """)
        .map(
            (rs, ctx) ->
                new GitHubCredential(
                    rs.getString("credential"),
                    rs.getInt("remaining"),
                    rs.getInt("request_limit"),
                    Rows.optInstant(rs, "reset_at").orElseThrow(),
                    Rows.optInstant(rs, "secondary_until"),
                    Rows.optInstant(rs, "updated_at").orElseThrow()))
        .list();
  }

  /**
   * Releases the lease on ({@code resource}, {@code lane}) by hand, whoever holds it, bumping its
   * token so that the holder is fenced off; recorded as a {@code manually_released} event naming
   * {@code actor}. {@link NotFoundException} when the lease is free.
   */
  public ReleasedLease release(String resource, String lane, String actor) {
    LeaseKey key;
    try {
      key = LeaseKey.of(resource == null ? null : resolve(resource), lane);
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new BadInputException("invalid lease: " + Inputs.printable(e.getMessage()), e);
    }
    if (actor == null || actor.isBlank()) {
      throw new BadInputException("a manual release needs an actor");
    }
    Lease released =
        Database.call(() -> store.releaseManually(key, actor))
            .orElseThrow(() -> new NotFoundException("lease " + key + " is not held by anyone"));
    signal(List.of(key.lane()));
    return new ReleasedLease(
        key.resource(),
        key.lane(),
        released.owner().toString(),
        released.token(),
        released.claimedAt(),
        released.heartbeatAt(),
        released.expiresAt(),
        actor);
  }

  /**
   * Runs the recovery pass now: frees every STALE lease, those of earlier incarnations of this
   * process's worker name and — with liveness — those whose owner's process is gone.
   */
  public RecoveryResult recover() {
    RecoveryReport report = Database.call(() -> store.recover(recoverAs));
    signal(report.countsByLane().keySet());
    return new RecoveryResult(
        report.recoveredBy().toString(),
        report.total(),
        report.countsByLane(),
        report.freed().stream()
            .map(
                f ->
                    new RecoveryResult.Freed(
                        f.lease().key().resource(),
                        f.lease().key().lane(),
                        f.lease().owner().toString(),
                        f.lease().token(),
                        f.reason().name()))
            .toList());
  }

  /** Wakes idle workers for the work of {@code lanes} that a lease just freed; best effort. */
  private void signal(Collection<String> lanes) {
    if (lanes.isEmpty()) {
      return;
    }
    try {
      jdbi.useHandle(h -> lanes.forEach(lane -> WorkSignal.send(h, lane)));
    } catch (RuntimeException e) {
      log.debug("could not wake idle workers; they find the freed work at their next poll", e);
    }
  }

  /**
   * A lease resource as stored ({@code repo:42}); {@code OWNER/REPO} names the repository's
   * resource, and must be tracked. Anything else is taken as it is.
   */
  private String resolve(String resource) {
    if (resource.startsWith("repo:") || resource.indexOf('/') < 0) {
      return resource;
    }
    RepoName name;
    try {
      name = RepoName.parse(resource);
    } catch (IllegalArgumentException e) {
      throw new BadInputException("invalid resource: " + Inputs.printable(e.getMessage()), e);
    }
    return Database.call(() -> new Repositories(jdbi, time).find(name))
        .map(repo -> Lanes.resource(repo.id()))
        .orElseThrow(() -> new NotFoundException("repository " + name + " is not tracked"));
  }

  private static Duration micros(long micros) {
    return Duration.of(micros, ChronoUnit.MICROS);
  }
}
