package dev.changesync.benchmarks;

import static java.util.Objects.requireNonNull;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.jdbc.JdbcLockProvider;

/**
 * The peers the lease store is measured against, on the same server, pool and key count, each in a
 * throw-away database of its own:
 *
 * <ul>
 *   <li><b>jdbc-cycle</b>: the least a lease cycle can be in plain JDBC: a conditional claim UPDATE
 *       (free or expired) that bumps a token, then the release UPDATE checking that token; two
 *       autocommit statements, each on a connection borrowed from the pool, both waiting for their
 *       commit to reach disk. No audit, no holder timing, no fencing beyond the token.
 *   <li><b>jdbc-audited</b>: the same cycle keeping what changesync's audit keeps at the least:
 *       the release UPDATE feeds one INSERT of the holding's row into an event table (BRIN on id
 *       and time, like {@code lease_event}) in the same statement, committed asynchronously like
 *       the store's default release. Not a peer product: the floor of an audited cycle, to tell
 *       the audit's cost from the store's.
 *   <li><b>shedlock</b>: ShedLock's {@code JdbcLockProvider} (plain JDBC, its README's table) lock
 *       and unlock of a random one of {@value #SHEDLOCK_NAMES} names, lock-at-most-for 15 minutes.
 *   <li><b>db-scheduler</b>: db-scheduler with {@code pollUsingLockAndFetch(1.0, 4.0)} (fetch up
 *       to four executions per thread at once, fetch again when fewer than one per thread are
 *       left) running a one-time task with an empty body over a backlog of {@value #BACKLOG} due
 *       executions: executions completed per second (each is its share of a locking batch fetch,
 *       and a delete).
 * </ul>
 */
final class PeerScenarios {

  /** Lock names of the ShedLock scenario. */
  static final int SHEDLOCK_NAMES = 1_000;

  /** Due executions scheduled before the db-scheduler scenario starts. */
  static final int BACKLOG = 1_000_000;

  private static final Duration LEASE_FOR = Duration.ofMinutes(15);

  private PeerScenarios() {}

  // ---------------------------------------------------------------------------------------------
  // Plain JDBC
  // ---------------------------------------------------------------------------------------------

  private static final String JDBC_TABLE =
      """
      create table jdbc_lease (
        name text primary key,
        owner text,
        token bigint not null default 0,
        expires_at timestamptz
      ) with (fillfactor = 70)
      """;

  private static final String JDBC_CLAIM =
      """
      update jdbc_lease set owner = ?, token = token + 1, expires_at = now() + interval '15 minutes'
       where name = ? and (owner is null or expires_at <= now())
      returning token
      """;

  private static final String JDBC_RELEASE =
      "update jdbc_lease set owner = null, expires_at = null where name = ? and token = ?";

  private static final String JDBC_EVENT_TABLE =
      """
      create table jdbc_lease_event (
        id bigint generated always as identity,
        at timestamptz not null,
        name text not null,
        owner text not null,
        token bigint not null,
        held_since timestamptz
      );
      create index jdbc_lease_event_id on jdbc_lease_event using brin (id);
      create index jdbc_lease_event_at on jdbc_lease_event using brin (at)
      """;

  private static final String JDBC_CLAIM_AUDITED =
      """
      update jdbc_lease set owner = ?, token = token + 1, expires_at = now() + interval '15 minutes',
             claimed_at = now()
       where name = ? and (owner is null or expires_at <= now())
      returning token
      """;

  private static final String JDBC_RELEASE_AUDITED =
      """
      with up as (
        update jdbc_lease set owner = null, expires_at = null
         where name = ? and token = ?
           and set_config('synchronous_commit', 'off', true) is not null
        returning name, token, claimed_at
      )
      insert into jdbc_lease_event (at, name, owner, token, held_since)
      select now(), name, ?, token, claimed_at from up
      """;

  static void prepareJdbcAudited(DataSource pool, int keys) throws SQLException {
    prepareJdbc(pool, keys);
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute("alter table jdbc_lease add column claimed_at timestamptz");
      s.execute(JDBC_EVENT_TABLE);
      s.execute("vacuum analyze jdbc_lease");
    }
  }

  static void prepareJdbc(DataSource pool, int keys) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      // jdbc-cycle and jdbc-audited may run one after the other in one database.
      s.execute("drop table if exists jdbc_lease_event, jdbc_lease");
      s.execute(JDBC_TABLE);
      s.execute(
          "insert into jdbc_lease (name) select 'bench:' || g from generate_series(0, "
              + (keys - 1)
              + ") g");
      s.execute("vacuum analyze jdbc_lease");
    }
  }

  static LoadRun.LoopFactory jdbcCycle(DataSource pool, int keys) {
    return jdbcCycle(pool, keys, JDBC_CLAIM, JDBC_RELEASE, false);
  }

  static LoadRun.LoopFactory jdbcAudited(DataSource pool, int keys) {
    return jdbcCycle(pool, keys, JDBC_CLAIM_AUDITED, JDBC_RELEASE_AUDITED, true);
  }

  private static LoadRun.LoopFactory jdbcCycle(
      DataSource pool, int keys, String claimSql, String releaseSql, boolean audited) {
    requireNonNull(pool, "pool");
    return index -> {
      String owner = "bench-" + index;
      return tally -> {
        String name = "bench:" + ThreadLocalRandom.current().nextInt(keys);
        long start = System.nanoTime();
        long token = -1;
        try (Connection c = pool.getConnection();
            PreparedStatement claim = c.prepareStatement(claimSql)) {
          claim.setString(1, owner);
          claim.setString(2, name);
          try (ResultSet rs = claim.executeQuery()) {
            if (rs.next()) {
              token = rs.getLong(1);
            }
          }
        }
        long claimed = tally.record("claim", start);
        tally.count("statements");
        if (token < 0) {
          tally.count("held");
          return;
        }
        int released;
        try (Connection c = pool.getConnection();
            PreparedStatement release = c.prepareStatement(releaseSql)) {
          release.setString(1, name);
          release.setLong(2, token);
          if (audited) {
            release.setString(3, owner);
          }
          released = release.executeUpdate();
        }
        tally.record("release", claimed);
        tally.count("statements");
        if (released == 1) {
          tally.record("cycle", start);
          tally.count("ops");
        } else {
          tally.count("release refused");
        }
      };
    };
  }

  // ---------------------------------------------------------------------------------------------
  // ShedLock
  // ---------------------------------------------------------------------------------------------

  /** The table of ShedLock's README, for PostgreSQL. */
  private static final String SHEDLOCK_TABLE =
      """
      create table shedlock (
        name varchar(64) not null,
        lock_until timestamp not null,
        locked_at timestamp not null,
        locked_by varchar(255) not null,
        primary key (name)
      )
      """;

  static void prepareShedLock(DataSource pool) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(SHEDLOCK_TABLE);
    }
  }

  static LoadRun.LoopFactory shedLock(DataSource pool) {
    JdbcLockProvider provider = new JdbcLockProvider(requireNonNull(pool, "pool"));
    return index ->
        tally -> {
          String name = "bench:" + ThreadLocalRandom.current().nextInt(SHEDLOCK_NAMES);
          long start = System.nanoTime();
          Optional<SimpleLock> lock =
              provider.lock(new LockConfiguration(Instant.now(), name, LEASE_FOR, Duration.ZERO));
          long locked = tally.record("claim", start);
          tally.count("statements");
          if (lock.isEmpty()) {
            tally.count("held");
            return;
          }
          lock.get().unlock();
          tally.record("release", locked);
          tally.count("statements");
          tally.record("cycle", start);
          tally.count("ops");
        };
  }

  // ---------------------------------------------------------------------------------------------
  // db-scheduler
  // ---------------------------------------------------------------------------------------------

  /** db-scheduler's table for PostgreSQL, as its repository ships it for version 16. */
  private static final String DB_SCHEDULER_TABLE =
      """
      create table scheduled_tasks (
        task_name text not null,
        task_instance text not null,
        task_data bytea,
        execution_time timestamp with time zone not null,
        picked boolean not null,
        picked_by text,
        last_success timestamp with time zone,
        last_failure timestamp with time zone,
        consecutive_failures int,
        last_heartbeat timestamp with time zone,
        version bigint not null,
        priority smallint,
        primary key (task_name, task_instance)
      );
      create index execution_time_idx on scheduled_tasks (execution_time);
      create index last_heartbeat_idx on scheduled_tasks (last_heartbeat);
      create index priority_execution_time_idx on scheduled_tasks (priority desc, execution_time asc);
      """;

  private static final String TASK = "bench";

  static void prepareDbScheduler(DataSource pool) throws SQLException {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      s.execute(DB_SCHEDULER_TABLE);
      s.execute(
          "insert into scheduled_tasks (task_name, task_instance, execution_time, picked, version,"
              + " priority) select '"
              + TASK
              + "', 'i' || g, now() - interval '1 minute', false, 1, 0"
              + " from generate_series(1, "
              + BACKLOG
              + ") g");
      s.execute("vacuum analyze scheduled_tasks");
    }
  }

  /**
   * Runs db-scheduler on {@code pool} with {@code threads} executor threads for the warm-up and the
   * window, counting completed executions, and stops it.
   *
   * @param probe sampled at the window's start and end
   */
  static LoadRun.Result dbScheduler(
      DataSource pool, int threads, Duration warmupFor, Duration measureFor, LoadRun.Probe probe)
      throws Exception {
    LongAdder executed = new LongAdder();
    OneTimeTask<Void> task = Tasks.oneTime(TASK).execute((instance, context) -> executed.add(1));
    Scheduler scheduler =
        Scheduler.create(pool, task)
            .threads(threads)
            .pollUsingLockAndFetch(1.0, 4.0)
            .pollingInterval(Duration.ofSeconds(1))
            .build();
    long setupStart = System.nanoTime();
    scheduler.start();
    try {
      Duration setupTook = Duration.ofNanos(System.nanoTime() - setupStart);
      Thread.sleep(warmupFor.toMillis());
      Map<String, Long> before = probe.sample();
      long from = executed.sum();
      long windowStart = System.nanoTime();
      Thread.sleep(measureFor.toMillis());
      long to = executed.sum();
      long windowEnd = System.nanoTime();
      Map<String, Long> after = probe.sample();
      if (to >= BACKLOG) {
        throw new IllegalStateException(
            "db-scheduler ran out of its backlog of " + BACKLOG + " executions: shorten the run");
      }
      if (to == from) {
        throw new IllegalStateException("db-scheduler executed nothing in the measured window");
      }
      LoadRun.Tally tally = LoadRun.Tally.ofCounts(Map.of("ops", to - from));
      return LoadRun.Result.of(
          "db-scheduler",
          threads,
          setupTook,
          Duration.ofNanos(windowEnd - windowStart),
          tally,
          0,
          before,
          after);
    } finally {
      scheduler.stop();
    }
  }
}
