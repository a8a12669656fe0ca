package dev.changesync.engine.lease;

import static dev.changesync.engine.lease.LeaseSql.CLAIM;
import static dev.changesync.engine.lease.LeaseSql.CLAIM_FREE;
import static dev.changesync.engine.lease.LeaseSql.CLAIM_FREE_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.CLAIM_PROBE;
import static dev.changesync.engine.lease.LeaseSql.CLAIM_PROBE_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.CLAIM_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.claimedEventAndRow;
import static dev.changesync.engine.lease.LeaseSql.claimNextSql;
import static dev.changesync.engine.lease.LeaseSql.commitMode;
import static dev.changesync.engine.lease.LeaseSql.FIND_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.FREE_COLUMNS;
import static dev.changesync.engine.lease.LeaseSql.HEARTBEAT;
import static dev.changesync.engine.lease.LeaseSql.HEARTBEAT_ALL;
import static dev.changesync.engine.lease.LeaseSql.HEARTBEAT_ALL_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.HEARTBEAT_STATEMENT;
import static dev.changesync.engine.lease.LeaseSql.LEASE_COLUMNS;
import static dev.changesync.engine.lease.LeaseSql.NOW;
import static dev.changesync.engine.lease.LeaseSql.ownerGone;
import static dev.changesync.engine.lease.LeaseSql.prefixed;
import static dev.changesync.engine.lease.LeaseSql.reclaimable;
import static dev.changesync.engine.lease.LeaseSql.RECOVER;
import static dev.changesync.engine.lease.LeaseSql.RELEASE_CHECKED;
import static dev.changesync.engine.lease.LeaseSql.RELEASE_MANUALLY;
import static dev.changesync.engine.lease.LeaseSql.RELEASE_TEMPLATE;
import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Completion;
import dev.changesync.lease.GuardedWrite;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseStore;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.RecoveryReport;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.SqlStatement;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link LeaseStore} of changesync: leases in PostgreSQL, shared by every worker process.
 *
 * <p><b>One statement per operation.</b> Claim is a conditional update of a free lease row
 * returning the new lease (a lease with no row yet, or one that may be reclaimed, takes a second
 * statement: an insert-or-update-if-reclaimable); heartbeat, bare release, manual release and
 * recovery are single conditional updates. Each writes its lease event in the same statement, so
 * the audit log never disagrees with the leases — except that the claim of a free lease writes no
 * row of its own: the lease row records it, and the statement that ends the holding writes one row
 * carrying the holding's start ({@code held_since}); the view {@code lease_event_log} reads every
 * event back, one row each. Tokens and event ids come from one sequence, so they keep increasing
 * even if lease rows are deleted, and a claim event's id is the token it issued.
 *
 * <p><b>Time.</b> By default every decision uses the database's clock ({@code now()} of the
 * statement's transaction): all workers agree on "now" whatever their own clocks say, so a worker
 * with a skewed clock cannot steal a lease. {@link Builder#clock} replaces it with an injected
 * clock (tests), passed into the SQL as a parameter. The holder's own clock ({@link
 * Builder#holderClock}) is used only to record how far it is from the database clock.
 *
 * <p><b>Liveness.</b> With a {@link LivenessSession}, the claimer records the advisory lock key of
 * its process incarnation on every lease it takes. A lease whose owner's lock is held by no session
 * belongs to a dead process and is reclaimable without waiting for stale-after, once its owner has
 * also been silent for the <em>grace</em> ({@link Builder#ownerGoneAfter}, default {@value
 * #DEFAULT_OWNER_GONE_AFTER_MILLIS} ms): its last heartbeat — or its claim — is at least that old,
 * on the store's clock. The check is {@code pg_try_advisory_xact_lock(key)}, tried only on leases
 * past the grace: it succeeds only when no session holds the owner's lock, and the lock it takes is
 * gone when the claiming statement ends.
 *
 * <p>The grace is for owners that are alive but lost their liveness connection (a terminated
 * backend, a failover): such a session takes its lock back within milliseconds, and while it has
 * none this store claims nothing for it ({@link ClaimResult.Unavailable}, {@link #claimNext}
 * empty). Without the grace a lease claimed or renewed in the instant the connection broke would
 * be taken over at once, and its owner would take it back, over and over. With it, a lease changes
 * hands at most once per loss, and only if its owner was silent for the grace and still had no
 * lock. The price is on takeover after a crash: a killed process's lease is reclaimable at the
 * later of its death and its last heartbeat plus the grace — so within the grace plus the
 * claimer's poll interval — instead of at once.
 *
 * <p><b>Guarded writes</b> ({@link #inLease}) open a transaction, lock the lease row {@code FOR
 * SHARE} after checking owner and token, run the caller's writes on the same {@link Handle}, and
 * commit. A reclaim has to wait for that lock, so it can never slip in between the check and the
 * commit; a writer whose token has moved on gets {@link LeaseLostException} and writes nothing.
 *
 * <p><b>Durability.</b> Every statement that takes or fences a lease waits for its commit to reach
 * disk. Releases do not, unless {@link Builder#synchronousRelease} says so: losing one in a server
 * crash only delays the next claim of that lease. *
 * <p><b>Layout.</b> The statements' SQL is in {@link LeaseSql}; this class holds the flows around
 * them (which statement follows which, binding, the listener, liveness), about 1,000 lines: each
 * flow shares the store's clock, liveness session, commit mode and listener, and splitting them
 * further would scatter one lease operation over several files.
 */
public final class PostgresLeaseStore implements LeaseStore<Handle>, WorkerLeases {

  private static final Logger log = LoggerFactory.getLogger(PostgresLeaseStore.class);

  /** Default retention of lease events. */
  public static final Duration DEFAULT_EVENT_RETENTION = Duration.ofDays(7);

  /** Default cap on the number of lease event rows kept. */
  public static final long DEFAULT_EVENT_CAP = 1_000_000;

  /** Default grace, in milliseconds, of {@link Builder#ownerGoneAfter}. */
  public static final long DEFAULT_OWNER_GONE_AFTER_MILLIS = 500;

  /** Default grace of {@link Builder#ownerGoneAfter}. */
  public static final Duration DEFAULT_OWNER_GONE_AFTER =
      Duration.ofMillis(DEFAULT_OWNER_GONE_AFTER_MILLIS);

  private final Jdbi jdbi;
  private final DbTime time;
  private final InstantSource holderClock;
  private final LivenessSession liveness; // null: this process records no liveness key
  private final boolean checkOwnerLiveness;
  private final Duration ownerGoneAfter;
  private final LeaseListener listener;
  private final Duration eventRetention;
  private final long eventCap;
  private final Jdbc jdbc;
  private final Jdbc heartbeats; // heartbeat statements: their own pool when one was given
  private final Jdbc.Statement release; // RELEASE_TEMPLATE with this store's commit mode
  private final String releaseCommitMode; // a SQL expression; see commitMode()

  private PostgresLeaseStore(Builder builder) {
    this.jdbi = builder.jdbi;
    this.time = builder.clock == null ? DbTime.database() : DbTime.injected(builder.clock);
    this.holderClock = builder.holderClock;
    this.liveness = builder.liveness;
    this.checkOwnerLiveness =
        builder.checkOwnerLiveness != null ? builder.checkOwnerLiveness : builder.liveness != null;
    this.ownerGoneAfter = builder.ownerGoneAfter;
    this.listener = LeaseListener.safe(builder.listener);
    this.eventRetention = builder.eventRetention;
    this.eventCap = builder.eventCap;
    this.jdbc = new Jdbc(builder.dataSource);
    this.heartbeats =
        builder.heartbeatDataSource == null ? jdbc : new Jdbc(builder.heartbeatDataSource);
    String commitMode = commitMode(builder.synchronousRelease);
    this.release = Jdbc.Statement.of(RELEASE_TEMPLATE.formatted(NOW, FREE_COLUMNS, commitMode));
    this.releaseCommitMode = commitMode;
  }

  /**
   * A store on {@code dataSource} (a connection pool: every operation borrows a connection for one
   * statement or one transaction). {@link #jdbi()} is a JDBI on the same pool.
   */
  public static Builder builder(DataSource dataSource) {
    return new Builder(requireNonNull(dataSource, "dataSource"));
  }

  /** Builds a {@link PostgresLeaseStore}. */
  public static final class Builder {
    private final DataSource dataSource;
    private final Jdbi jdbi;
    private DataSource heartbeatDataSource;
    private InstantSource clock;
    private InstantSource holderClock = InstantSource.system();
    private LivenessSession liveness;
    private Boolean checkOwnerLiveness;
    private Duration ownerGoneAfter = DEFAULT_OWNER_GONE_AFTER;
    private LeaseListener listener = LeaseListener.NONE;
    private Duration eventRetention = DEFAULT_EVENT_RETENTION;
    private long eventCap = DEFAULT_EVENT_CAP;
    private boolean synchronousRelease;

    private Builder(DataSource dataSource) {
      this.dataSource = dataSource;
      this.jdbi = Jdbi.create(dataSource);
    }

    /**
     * Where {@link #heartbeat} borrows its connections; by default the store's own pool. Give
     * heartbeats a small pool of their own whose statement and socket timeouts are below
     * stale-after, so that a heartbeat never waits behind the pool's other users and a call stuck
     * on a lock or a dead connection fails in time for the next one to try again.
     */
    public Builder heartbeatDataSource(DataSource heartbeatDataSource) {
      this.heartbeatDataSource = requireNonNull(heartbeatDataSource, "heartbeatDataSource");
      return this;
    }

    /**
     * Decide "now" with this clock instead of the database's. For tests; in production leave it
     * unset so that all workers share the database clock.
     */
    public Builder clock(InstantSource clock) {
      this.clock = requireNonNull(clock, "clock");
      return this;
    }

    /** The holder's own clock, used only to record its skew from the database clock. */
    public Builder holderClock(InstantSource holderClock) {
      this.holderClock = requireNonNull(holderClock, "holderClock");
      return this;
    }

    /**
     * Record this process's liveness key on the leases it claims, and treat leases of owners whose
     * liveness lock is not held as reclaimable at once. Unset: liveness off.
     */
    public Builder liveness(LivenessSession liveness) {
      this.liveness = liveness;
      return this;
    }

    /**
     * Whether leases of owners whose liveness lock is held by no session count as reclaimable at
     * once (claims and recovery). Defaults to true exactly when a {@link #liveness} session is
     * set; a process that claims nothing (an admin tool) can turn it on without a session of its
     * own. Turn it off wherever liveness is off ({@code CHANGESYNC_LIVENESS=off}): behind a
     * session-less pooler a lock's absence proves nothing.
     */
    public Builder checkOwnerLiveness(boolean checkOwnerLiveness) {
      this.checkOwnerLiveness = checkOwnerLiveness;
      return this;
    }

    /**
     * The grace: how long an owner whose liveness lock is held by no session must also have been
     * silent (no heartbeat, no claim) before its lease counts as its process's, gone. It must
     * cover the time a live owner takes to get its lock back after its liveness connection broke
     * (one new connection); it also delays the takeover of a killed process's lease that had just
     * been renewed by up to this long. Zero turns it off. Default {@value
     * #DEFAULT_OWNER_GONE_AFTER_MILLIS} ms.
     */
    public Builder ownerGoneAfter(Duration ownerGoneAfter) {
      requireNonNull(ownerGoneAfter, "ownerGoneAfter");
      if (ownerGoneAfter.isNegative()) {
        throw new IllegalArgumentException(
            "ownerGoneAfter must not be negative, got " + ownerGoneAfter);
      }
      this.ownerGoneAfter = ownerGoneAfter;
      return this;
    }

    public Builder listener(LeaseListener listener) {
      this.listener = requireNonNull(listener, "listener");
      return this;
    }

    /** Lease events older than this are deleted by {@link #pruneEvents()}. */
    public Builder eventRetention(Duration eventRetention) {
      if (eventRetention.isNegative() || eventRetention.isZero()) {
        throw new IllegalArgumentException("eventRetention must be positive, got " + eventRetention);
      }
      this.eventRetention = eventRetention;
      return this;
    }

    /** At most this many lease events are kept by {@link #pruneEvents()}. */
    public Builder eventCap(long eventCap) {
      if (eventCap <= 0) {
        throw new IllegalArgumentException("eventCap must be positive, got " + eventCap);
      }
      this.eventCap = eventCap;
      return this;
    }

    /**
     * Whether a release waits for its commit to reach disk. By default it does not: a release
     * (with its completion updates and its event) commits with {@code synchronous_commit = off},
     * which halves the WAL flushes of a claim-work-release cycle. That is safe because a release
     * only ever gives a lease up. If the PostgreSQL server crashes in the fraction of a second
     * before the release reaches disk, the release is undone: the lease comes back HELD by its old
     * owner and becomes claimable at stale-after (or at once, when liveness finds its owner gone),
     * and the completion updates (changesync's are a pass's finished-at and failure bookkeeping)
     * are lost as if the pass had not finished, so its work is done again — never by two workers
     * at once. Claims, heartbeats, manual releases, recovery and guarded writes always wait for
     * the flush, and a later synchronous commit flushes an earlier release with it. Set true to
     * make releases wait too.
     */
    public Builder synchronousRelease(boolean synchronousRelease) {
      this.synchronousRelease = synchronousRelease;
      return this;
    }

    public PostgresLeaseStore build() {
      return new PostgresLeaseStore(this);
    }
  }

  @Override
  public Jdbi jdbi() {
    return jdbi;
  }

  /** True when this store treats leases of dead owners as reclaimable at once. */
  public boolean livenessEnabled() {
    return checkOwnerLiveness;
  }

  // ---------------------------------------------------------------------------------------------
  // Claim
  // ---------------------------------------------------------------------------------------------

  /** A row of {@link LeaseSql#CLAIM_PROBE}: its outcome, and the lease row unless it is free. */
  private record FreeClaimRow(String outcome, Optional<Lease> lease) {}

  /**
   * The lease a {@link LeaseSql#CLAIM_FREE} row stands for. The statement returns only what the database
   * chose — the token and its time — and the rest is what it was told: reading back the whole row
   * cost the client more than the statement's own work (a timestamp decoded is an allocation-heavy
   * call of the driver, three of them per claim).
   */
  private static Lease freeClaimLease(ResultSet rs, LeaseKey key, OwnerId owner, LeasePolicy policy)
      throws SQLException {
    Instant at = instant(rs, "heartbeat_at");
    LeasePolicy stored = asStored(policy);
    return new Lease(
        key,
        owner,
        rs.getLong("token"),
        at,
        at,
        at.plus(stored.leaseFor()),
        stored);
  }

  /** {@code policy} as the lease row keeps it: whole microseconds, like {@link #policy}. */
  private static LeasePolicy asStored(LeasePolicy policy) {
    Duration leaseFor = Duration.of(micros(policy.leaseFor()), ChronoUnit.MICROS);
    Duration heartbeatEvery = Duration.of(micros(policy.heartbeatEvery()), ChronoUnit.MICROS);
    Duration staleAfter = Duration.of(micros(policy.staleAfter()), ChronoUnit.MICROS);
    if (leaseFor.equals(policy.leaseFor())
        && heartbeatEvery.equals(policy.heartbeatEvery())
        && staleAfter.equals(policy.staleAfter())) {
      return policy;
    }
    return LeasePolicy.of(leaseFor, heartbeatEvery, staleAfter);
  }

  private static FreeClaimRow freeClaimRow(ResultSet rs, StatementContext ctx)
      throws SQLException {
    return new FreeClaimRow(
        rs.getString("outcome"),
        rs.getString("owner_id") == null ? Optional.empty() : Optional.of(lease(rs, "")));
  }

  @Override
  public ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy) {
    requireNonNull(key, "key");
    requireNonNull(owner, "owner");
    requireNonNull(policy, "policy");
    Optional<Long> livenessKey = livenessKey(owner);
    if (livenessKey.isEmpty() && isLivenessOwner(owner)) {
      return new ClaimResult.Unavailable(
          "the liveness lock of " + owner + " is being taken again");
    }
    Jdbc.Params params =
        claimParams(owner, livenessKey, policy)
            .put("resource", key.resource())
            .put("lane", key.lane());
    Optional<Lease> claimedFree =
        jdbc.queryFirst(
            CLAIM_FREE_STATEMENT, params, (rs, ctx) -> freeClaimLease(rs, key, owner, policy));
    if (claimedFree.isPresent()) {
      ClaimResult.Granted granted = new ClaimResult.Granted(claimedFree.get(), Optional.empty());
      listener.claimed(granted.lease());
      return granted;
    }
    Optional<FreeClaimRow> free =
        jdbc.queryFirst(CLAIM_PROBE_STATEMENT, params, PostgresLeaseStore::freeClaimRow);
    if (free.isPresent()) {
      switch (free.get().outcome()) {
        case "held" -> {
          return new ClaimResult.Held(free.get().lease().orElseThrow());
        }
        case "raced" -> {
          return claim(key, owner, policy); // released since the update looked: try again
        }
        default -> {
          // reclaimable, or so it seems: the full statement decides, and logs the reclaim.
        }
      }
    }
    Optional<ClaimRow> row;
    try {
      row = jdbc.queryFirst(CLAIM_STATEMENT, params, PostgresLeaseStore::claimRow);
    } catch (UnableToExecuteStatementException e) {
      if (!isLockTimeout(e)) {
        throw e;
      }
      // The row is locked past the pool's lock_timeout: its holder is writing under the lease.
      return find(key)
          .<ClaimResult>map(ClaimResult.Held::new)
          .orElseGet(
              () -> new ClaimResult.Unavailable("the lease row of " + key + " stayed locked"));
    }
    if (row.isEmpty()) {
      // Another claimer inserted the row after this statement's snapshot and holds it.
      return find(key)
          .<ClaimResult>map(ClaimResult.Held::new)
          .orElseGet(() -> claim(key, owner, policy));
    }
    ClaimRow claimed = row.get();
    if (!claimed.granted()) {
      if (claimed.lease().isEmpty()) {
        // The row exists but is free, and still we could not take it: a concurrent claim won
        // after this statement's snapshot. Report what holds it now.
        return find(key)
            .<ClaimResult>map(ClaimResult.Held::new)
            .orElseGet(() -> claim(key, owner, policy));
      }
      return new ClaimResult.Held(claimed.lease().orElseThrow());
    }
    ClaimResult.Granted granted =
        new ClaimResult.Granted(claimed.lease().orElseThrow(), claimed.previous());
    fireGranted(granted);
    return granted;
  }

  /** Whether {@code e} is PostgreSQL's {@code lock_not_available}: a lock_timeout ran out. */
  private static boolean isLockTimeout(UnableToExecuteStatementException e) {
    return e.getCause() instanceof SQLException sql && "55P03".equals(sql.getSQLState());
  }

  /**
   * The liveness key to record on a lease {@code owner} claims, or empty. Empty for this process's
   * own owner means its lock is not held right now, and then nothing is claimed for it: one
   * volatile read of the session decides both, at no extra round trip.
   */
  private Optional<Long> livenessKey(OwnerId owner) {
    return liveness == null ? Optional.empty() : liveness.keyFor(owner);
  }

  private boolean isLivenessOwner(OwnerId owner) {
    return liveness != null && liveness.owner().equals(owner);
  }

  private Jdbc.Params claimParams(OwnerId owner, Optional<Long> livenessKey, LeasePolicy policy) {
    return nowParams()
        .put("owner", owner.toString())
        .put("worker", owner.workerName())
        .put("liveness_key", livenessKey.orElse(null), Jdbc.Null.BIGINT)
        .put("liveness", checkOwnerLiveness)
        .put("owner_gone_after_us", micros(ownerGoneAfter))
        .put("lease_for_us", micros(policy.leaseFor()))
        .put("heartbeat_every_us", micros(policy.heartbeatEvery()))
        .put("stale_after_us", micros(policy.staleAfter()))
        .put("holder_epoch_us", epochMicros(holderClock.instant()));
  }

  private Jdbc.Params nowParams() {
    return new Jdbc.Params().put("now", time.boundNow(), Jdbc.Null.TIMESTAMPTZ);
  }

  private void fireGranted(ClaimResult.Granted granted) {
    granted
        .reclaimedFrom()
        .ifPresentOrElse(
            previous -> listener.reclaimed(granted.lease(), previous),
            () -> listener.claimed(granted.lease()));
  }

  /**
   * Claims the first reclaimable lease of {@code lane} among {@code candidates}, in their order.
   * Rows locked by a concurrent claimer are skipped ({@code FOR UPDATE SKIP LOCKED}), so many
   * workers polling at once each get different work instead of all racing for the same row. Lease
   * rows must exist for a candidate to be picked (see {@link #register}). Returns empty when
   * nothing is claimable, and — without asking the database — while {@code owner} is this
   * process's liveness owner and its lock is being taken again.
   */
  @Override
  public Optional<ClaimResult.Granted> claimNext(
      String lane, OwnerId owner, LeasePolicy policy, Candidates candidates) {
    return claimNext(lane, owner, policy, candidates, 1).stream().findFirst();
  }

  /**
   * Claims up to {@code limit} reclaimable leases of {@code lane} among {@code candidates}, the
   * first ones in their order, in one statement (one round trip and one commit whatever the
   * count): for a process that has {@code limit} threads free, as a scheduler's poller fetches a
   * batch of due executions. Each lease granted is a claim like {@link #claimNext(String, OwnerId,
   * LeasePolicy, Candidates)}'s — its own token from the sequence, its {@code reclaimed} event when
   * it was held, its listener call — and rows locked by a concurrent claimer are skipped. Returns
   * the grants in no particular order; empty when nothing is claimable (or while {@code owner}'s
   * liveness lock is being taken again).
   *
   * @param limit how many leases at most, at least 1
   * @throws IllegalArgumentException when {@code limit} is below 1
   */
  @Override
  public List<ClaimResult.Granted> claimNext(
      String lane, OwnerId owner, LeasePolicy policy, Candidates candidates, int limit) {
    requireNonNull(lane, "lane");
    requireNonNull(owner, "owner");
    requireNonNull(policy, "policy");
    requireNonNull(candidates, "candidates");
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    Optional<Long> livenessKey = livenessKey(owner);
    if (livenessKey.isEmpty() && isLivenessOwner(owner)) {
      return List.of();
    }
    String sql = claimNextSql(candidates);
    Jdbc.Params params =
        claimNextParams(lane, owner, livenessKey, policy, candidates).put("claim_limit", limit);
    List<ClaimRow> rows = jdbc.queryAll(Jdbc.Statement.of(sql), params, PostgresLeaseStore::claimRow);
    List<ClaimResult.Granted> granted = new ArrayList<>(rows.size());
    for (ClaimRow row : rows) {
      ClaimResult.Granted grant = new ClaimResult.Granted(row.lease().orElseThrow(), row.previous());
      fireGranted(grant);
      granted.add(grant);
    }
    return List.copyOf(granted);
  }

  private Jdbc.Params claimNextParams(
      String lane,
      OwnerId owner,
      Optional<Long> livenessKey,
      LeasePolicy policy,
      Candidates candidates) {
    Jdbc.Params params = claimParams(owner, livenessKey, policy).put("lane", lane);
    candidates.params().forEach(params::put);
    return params;
  }

  /**
   * PostgreSQL's plan for the very statement {@link #claimNext} would run with these arguments:
   * {@code EXPLAIN (options)} of it, in a transaction that is rolled back, so that even with
   * {@code ANALYZE} nothing is claimed (a token drawn from the sequence is skipped, which is
   * harmless: tokens only have to increase). For diagnostics and for tests that pin a candidate
   * query's plan. Returns the plan as PostgreSQL prints it (one row per line; the JSON document for
   * {@code FORMAT JSON}).
   *
   * @param options EXPLAIN's options, e.g. {@code FORMAT JSON} or {@code ANALYZE, BUFFERS}: words,
   *     spaces and commas only
   * @throws IllegalArgumentException when {@code options} holds anything else
   */
  public String explainClaimNext(
      String lane, OwnerId owner, LeasePolicy policy, Candidates candidates, String options) {
    requireNonNull(lane, "lane");
    requireNonNull(owner, "owner");
    requireNonNull(policy, "policy");
    requireNonNull(candidates, "candidates");
    if (!options.matches("[A-Za-z_ ,]+")) {
      throw new IllegalArgumentException("EXPLAIN options must be words and commas: " + options);
    }
    Jdbc.Statement statement =
        Jdbc.Statement.of("explain (" + options + ") " + claimNextSql(candidates));
    Jdbc.Params params =
        claimNextParams(lane, owner, livenessKey(owner), policy, candidates).put("claim_limit", 1);
    return jdbi.withHandle(
        h -> {
          h.begin();
          try (var ps = h.getConnection().prepareStatement(statement.sql())) {
            params.bind(ps, statement.names());
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                plan.append(plan.length() == 0 ? "" : "\n").append(rs.getString(1));
              }
            }
            return plan.toString();
          } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
          } finally {
            h.rollback();
          }
        });
  }

  /**
   * Makes sure a (FREE) lease row exists for each key, so that {@link #claimNext} can pick it.
   * Existing rows are left alone.
   */
  public void register(Collection<LeaseKey> keys) {
    if (keys.isEmpty()) {
      return;
    }
    jdbi.useHandle(
        h -> {
          var batch =
              h.prepareBatch(
                  "insert into lease (resource, lane) values (:resource, :lane)"
                      + " on conflict do nothing");
          for (LeaseKey key : keys) {
            batch.bind("resource", key.resource()).bind("lane", key.lane()).add();
          }
          batch.execute();
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Heartbeat and release
  // ---------------------------------------------------------------------------------------------

  /** One round trip whatever the count: every lease in one statement. */
  @Override
  public List<HeartbeatResult> heartbeatAll(List<Lease> leases) {
    requireNonNull(leases, "leases");
    int n = leases.size();
    if (n == 0) {
      return List.of();
    }
    String[] resources = new String[n];
    String[] lanes = new String[n];
    String[] owners = new String[n];
    Long[] tokens = new Long[n];
    Set<LeaseKey> keys = new HashSet<>(n * 2);
    for (int i = 0; i < n; i++) {
      Lease lease = requireNonNull(leases.get(i), "leases[" + i + "]");
      if (!keys.add(lease.key())) {
        throw new IllegalArgumentException(
            "heartbeatAll got the key " + lease.key() + " more than once");
      }
      resources[i] = lease.key().resource();
      lanes[i] = lease.key().lane();
      owners[i] = lease.owner().toString();
      tokens[i] = lease.token();
    }
    Jdbc.Params params =
        nowParams()
            .put("resources", new Jdbc.Array("text", resources))
            .put("lanes", new Jdbc.Array("text", lanes))
            .put("owners", new Jdbc.Array("text", owners))
            .put("tokens", new Jdbc.Array("bigint", tokens))
            .put("holder_epoch_us", epochMicros(holderClock.instant()));
    HeartbeatResult[] results = new HeartbeatResult[n];
    for (IndexedRow row :
        heartbeats.queryAll(
            HEARTBEAT_ALL_STATEMENT,
            params,
            (rs, ctx) -> new IndexedRow(rs.getInt("ord") - 1, heartbeatRow(rs, ctx)))) {
      results[row.index()] = heartbeatResult(leases.get(row.index()), Optional.of(row.row()));
    }
    for (int i = 0; i < n; i++) {
      if (results[i] == null) {
        // No lease row at all for this key: never registered, so not ours.
        results[i] = heartbeatResult(leases.get(i), Optional.empty());
      }
    }
    return Arrays.asList(results);
  }

  /** A row of {@link LeaseSql#HEARTBEAT_ALL}: which lease it answers, and the answer. */
  private record IndexedRow(int index, ClaimRow row) {}

  @Override
  public HeartbeatResult heartbeat(Lease lease) {
    requireNonNull(lease, "lease");
    Optional<ClaimRow> row =
        heartbeats.queryFirst(
            HEARTBEAT_STATEMENT,
            leaseParams(lease).put("holder_epoch_us", epochMicros(holderClock.instant())),
            PostgresLeaseStore::heartbeatRow);
    return heartbeatResult(lease, row);
  }

  /** What a heartbeat row (or none) says of {@code lease}, told to the listener. */
  private HeartbeatResult heartbeatResult(Lease lease, Optional<ClaimRow> row) {
    if (row.isPresent() && row.get().granted()) {
      Lease renewed = row.get().lease().orElseThrow();
      listener.heartbeat(renewed);
      return new HeartbeatResult.Renewed(renewed);
    }
    Optional<Lease> current = row.flatMap(ClaimRow::lease);
    LossReason reason = LossReason.of(current);
    listener.lost(lease, reason);
    return new HeartbeatResult.Lost(reason, current);
  }

  @Override
  public boolean release(Lease lease, Completion<Handle> completion) {
    requireNonNull(lease, "lease");
    requireNonNull(completion, "completion");
    boolean released;
    if (completion == Completion.<Handle>none()) {
      released = jdbc.queryFirst(release, leaseParams(lease), (rs, ctx) -> true).isPresent();
      if (!released) {
        recordLost(lease, "release refused");
      }
    } else {
      released =
          jdbi.inTransaction(
              h -> {
                if (!lockIfOwned(h, lease, releaseCommitMode, "for update")) {
                  return false;
                }
                try {
                  completion.apply(h);
                } catch (RuntimeException e) {
                  throw e;
                } catch (Exception e) {
                  throw new IllegalStateException(
                      "completion updates failed for " + lease.key(), e);
                }
                bindLease(bindNow(h.createUpdate(RELEASE_CHECKED)), lease).execute();
                return true;
              });
      if (!released) {
        recordLost(lease, "release refused");
      }
    }
    if (released) {
      listener.released(lease);
    } else {
      Optional<Lease> current = find(lease.key());
      log.warn(
          "release of {} by {} with token {} refused: ownership changed (now {})",
          lease.key(),
          lease.owner(),
          lease.token(),
          current.map(l -> l.owner() + " token " + l.token()).orElse("free"));
      listener.lost(lease, LossReason.of(current));
    }
    return released;
  }

  // ---------------------------------------------------------------------------------------------
  // Guarded writes
  // ---------------------------------------------------------------------------------------------

  /**
   * Runs {@code write} in a transaction that first checks owner and token of {@code lease} and
   * locks its row until commit. Throws {@link LeaseLostException}, having written nothing, when the
   * lease has moved on.
   */
  @Override
  public <R, X extends Exception> R inLease(Lease lease, GuardedWrite<Handle, R, X> write) throws X {
    requireNonNull(lease, "lease");
    requireNonNull(write, "write");
    try {
      return jdbi.inTransaction(
          h -> {
            if (!lockIfOwned(h, lease, "1", "for share")) {
              throw LeaseLostException.of(lease, "owner or token no longer on record");
            }
            return write.write(h);
          });
    } catch (LeaseLostException e) {
      if (e.token() == lease.token() && e.owner().equals(lease.owner())) {
        recordLost(lease, "guarded write refused");
        Optional<Lease> current = find(lease.key());
        listener.lost(lease, LossReason.of(current));
      }
      throw e;
    }
  }

  /**
   * Selects {@code column} from the lease row if {@code lease} still owns it, locking the row
   * ({@code lockMode}) until the transaction ends. False, locking nothing, when the lease moved on.
   */
  private static boolean lockIfOwned(Handle h, Lease lease, String column, String lockMode) {
    return bindLease(
            h.createQuery(
                "select %s from lease where resource = :resource and lane = :lane"
                        .formatted(column)
                    + " and owner_id is not distinct from :owner and token = :token "
                    + lockMode),
            lease)
        .mapTo(String.class)
        .findOne()
        .isPresent();
  }

  private void recordLost(Lease lease, String detail) {
    try {
      jdbi.useHandle(
          h ->
              bindLease(
                      bindNow(
                          h.createUpdate(
                              "insert into lease_event (at, resource, lane, kind, owner_id, token,"
                                  + " detail) select %s, :resource, :lane, 'lost', :owner, :token,"
                                      .formatted(NOW)
                                  + " :detail")),
                      lease)
                  .bind("detail", detail)
                  .execute());
    } catch (RuntimeException e) {
      log.warn("could not record the loss of {} in the lease event log", lease.key(), e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Manual release and recovery
  // ---------------------------------------------------------------------------------------------

  @Override
  public Optional<Lease> releaseManually(LeaseKey key, String actor) {
    requireNonNull(key, "key");
    requireNonNull(actor, "actor");
    Optional<Lease> released =
        jdbi.withHandle(
            h ->
                bindNow(h.createQuery(RELEASE_MANUALLY))
                    .bind("resource", key.resource())
                    .bind("lane", key.lane())
                    .bind("detail", "released by hand by " + actor)
                    .map((rs, ctx) -> lease(rs, ""))
                    .findOne());
    released.ifPresent(lease -> listener.manuallyReleased(lease, actor));
    return released;
  }

  @Override
  public RecoveryReport recover(OwnerId self) {
    requireNonNull(self, "self");
    List<RecoveryReport.Freed> freed =
        jdbi.withHandle(
            h ->
                bindNow(h.createQuery(RECOVER))
                    .bind("self", self.toString())
                    .bind("worker", self.workerName())
                    .bind("liveness", checkOwnerLiveness)
                    .bind("owner_gone_after_us", micros(ownerGoneAfter))
                    .map(
                        (rs, ctx) ->
                            new RecoveryReport.Freed(
                                lease(rs, ""),
                                RecoveryReport.Reason.valueOf(rs.getString("reason"))))
                    .list());
    RecoveryReport report = new RecoveryReport(self, new ArrayList<>(freed));
    if (report.total() > 0) {
      log.info("recovery by {} freed {} lease(s): {}", self, report.total(), report.countsByLane());
    }
    listener.recovered(report);
    return report;
  }

  // ---------------------------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------------------------

  @Override
  public Optional<Lease> find(LeaseKey key) {
    requireNonNull(key, "key");
    return jdbc.queryFirst(
        FIND_STATEMENT,
        new Jdbc.Params().put("resource", key.resource()).put("lane", key.lane()),
        (rs, ctx) -> lease(rs, ""));
  }

  @Override
  public List<Lease> list() {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select "
                        + LEASE_COLUMNS
                        + " from lease where owner_id is not null order by resource, lane")
                .map((rs, ctx) -> lease(rs, ""))
                .list());
  }

  @Override
  public Instant now() {
    return jdbi.withHandle(time::now);
  }

  /** The grace of {@link Builder#ownerGoneAfter}. */
  @Override
  public Duration ownerGoneAfter() {
    return ownerGoneAfter;
  }

  /**
   * How long until the next lease held by someone other than {@code self} goes stale, if one will:
   * the earliest {@code stale_at} still ahead, on the store's clock. A lease whose holder keeps
   * renewing it is renewed before then; one whose holder died or hung goes stale at that instant.
   * One pass over the lease table (one row per repository and lane).
   */
  @Override
  public Optional<Duration> untilNextStale(OwnerId self) {
    requireNonNull(self, "self");
    return jdbi.withHandle(
        h ->
            bindNow(
                    h.createQuery(
                        """
                        with t as (select %s as now)
                        select (extract(epoch from min(l.stale_at) - t.now) * 1000000)::bigint
                          from lease l, t
                         where l.owner_id is not null and l.owner_id <> :self
                           and l.stale_at > t.now
                         group by t.now
                        """
                            .formatted(NOW)))
                .bind("self", self.toString())
                .mapTo(Long.class)
                .findOne()
                .map(us -> Duration.of(us, ChronoUnit.MICROS)));
  }


  /**
   * Deletes lease events older than the retention and beyond the cap (oldest first). Returns how
   * many were deleted.
   */
  @Override
  public int pruneEvents() {
    int pruned =
        jdbi.withHandle(
        h -> {
          int byAge =
              bindNow(
                      h.createUpdate(
                          "delete from lease_event where at < %s - :retention_us * interval '1 microsecond'"
                              .formatted(NOW)))
                  .bind("retention_us", micros(eventRetention))
                  .execute();
          int byCount =
              h.createUpdate(
                      """
                      delete from lease_event
                       where id <= (select id from lease_event order by id desc
                                     offset :cap limit 1)
                      """)
                  .bind("cap", eventCap)
                  .execute();
          return byAge + byCount;
        });
    vacuumEvents();
    return pruned;
  }

  /**
   * Vacuums the event log after pruning: the space of deleted rows is reused, and the BRIN indexes
   * summarize the page ranges filled since (VACUUM leaves the last, partial range alone, so rows
   * appended there still cost the indexes nothing). Only the table's owner may; anyone else's
   * pruning still works, reading more pages.
   */
  private void vacuumEvents() {
    try {
      jdbi.useHandle(h -> h.execute("vacuum lease_event"));
    } catch (RuntimeException e) {
      log.debug("could not vacuum lease_event; pruning reads more pages", e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Mapping and binding
  // ---------------------------------------------------------------------------------------------

  /** One row of a claim or heartbeat: the outcome, the lease (if any) and the previous lease. */
  private record ClaimRow(boolean granted, Optional<Lease> lease, Optional<Lease> previous) {}

  /** A row of {@link LeaseSql#HEARTBEAT}: the outcome and the lease, if any. */
  private static ClaimRow heartbeatRow(ResultSet rs, StatementContext ctx) throws SQLException {
    boolean renewed = rs.getBoolean(1);
    Optional<Lease> lease =
        rs.getString("owner_id") == null ? Optional.empty() : Optional.of(lease(rs, ""));
    return new ClaimRow(renewed, lease, Optional.empty());
  }

  /** A row of a claim: the outcome, the lease (if any) and the previous holder's lease. */
  private static ClaimRow claimRow(ResultSet rs, StatementContext ctx) throws SQLException {
    boolean granted = rs.getBoolean(1);
    Optional<Lease> lease =
        rs.getString("owner_id") == null ? Optional.empty() : Optional.of(lease(rs, ""));
    Optional<Lease> previous = Optional.empty();
    if (granted && rs.getString("p_owner_id") != null) {
      previous =
          Optional.of(
              new Lease(
                  new LeaseKey(rs.getString("resource"), rs.getString("lane")),
                  OwnerId.parse(rs.getString("p_owner_id")),
                  rs.getLong("p_token"),
                  instant(rs, "p_claimed_at"),
                  instant(rs, "p_heartbeat_at"),
                  instant(rs, "p_expires_at"),
                  policy(rs, "p_")));
    }
    return new ClaimRow(granted, lease, previous);
  }

  static Lease lease(ResultSet rs, String prefix) throws SQLException {
    return new Lease(
        new LeaseKey(rs.getString(prefix + "resource"), rs.getString(prefix + "lane")),
        OwnerId.parse(rs.getString(prefix + "owner_id")),
        rs.getLong(prefix + "token"),
        instant(rs, prefix + "claimed_at"),
        instant(rs, prefix + "heartbeat_at"),
        instant(rs, prefix + "expires_at"),
        policy(rs, prefix));
  }

  private static LeasePolicy policy(ResultSet rs, String prefix) throws SQLException {
    return LeasePolicy.of(
        Duration.of(rs.getLong(prefix + "lease_for_us"), ChronoUnit.MICROS),
        Duration.of(rs.getLong(prefix + "heartbeat_every_us"), ChronoUnit.MICROS),
        Duration.of(rs.getLong(prefix + "stale_after_us"), ChronoUnit.MICROS));
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime value = rs.getObject(column, OffsetDateTime.class);
    return value == null ? null : value.toInstant();
  }

  private <S extends SqlStatement<S>> S bindNow(S statement) {
    return time.bind(statement);
  }


  private Jdbc.Params leaseParams(Lease lease) {
    return nowParams()
        .put("resource", lease.key().resource())
        .put("lane", lease.key().lane())
        .put("owner", lease.owner().toString())
        .put("token", lease.token());
  }

  private static <S extends SqlStatement<S>> S bindLease(S statement, Lease lease) {
    return statement
        .bind("resource", lease.key().resource())
        .bind("lane", lease.key().lane())
        .bind("owner", lease.owner().toString())
        .bind("token", lease.token());
  }


  static long micros(Duration duration) {
    return duration.toNanos() / 1_000;
  }

  private static long epochMicros(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }
}
