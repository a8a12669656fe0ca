package dev.changesync.engine.lease;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.lang.reflect.Proxy;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.postgresql.ds.PGSimpleDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A liveness session whose connection breaks while its process lives: it notices at once, counts
 * as not held (and so claims nothing) until it has really taken its lock again, and takes it again
 * by itself as soon as the database lets it.
 */
class LivenessSessionTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final OwnerId ALICE = OwnerId.newIncarnation("worker-a");
  private static final OwnerId BOB = OwnerId.newIncarnation("worker-b");
  private static final LeaseKey FETCH = LeaseKey.of("repo:42", "fetch");
  private static final LeaseKey BACKFILL = LeaseKey.of("repo:42", "backfill");

  private final List<AutoCloseable> closeAfter = new ArrayList<>();
  private Jdbi jdbi;
  private SwitchableDataSource source;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    source = new SwitchableDataSource(db.jdbcUrl());
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeAfter) {
      c.close();
    }
  }

  private LivenessSession open(OwnerId owner) {
    LivenessSession session = LivenessSession.open(source, owner);
    closeAfter.add(session);
    return session;
  }

  @Test
  void aKilledConnectionIsNoticedAndTheLockTakenAgainAtOnce() {
    LivenessSession session = open(ALICE);
    long killed = lockHolder(session.key()).orElseThrow();

    terminate(killed);

    // Nobody calls into the session: its own thread notices and takes the lock back.
    await()
        .atMost(5, SECONDS)
        .pollInterval(Duration.ofMillis(10))
        .until(() -> lockHolder(session.key()).filter(pid -> pid != killed).isPresent());
    assertThat(session.isHeld()).isTrue();
    assertThat(session.keyFor(ALICE)).contains(session.key());
  }

  @Test
  void whileTheLockCannotBeTakenAgainTheSessionIsLostAndItsOwnerClaimsNothing() {
    LivenessSession session = open(ALICE);
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(db.dataSource()).liveness(session).build();
    store.register(List.of(BACKFILL));
    source.down();

    terminate(lockHolder(session.key()).orElseThrow());

    await().atMost(5, SECONDS).until(() -> !session.isHeld());
    assertThat(session.keyFor(ALICE)).isEmpty();
    assertThat(store.claim(FETCH, ALICE, LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Unavailable.class);
    assertThat(
            store.claimNext(
                "backfill",
                ALICE,
                LeasePolicy.defaults(),
                Candidates.of("select 'repo:42' as resource", "c.resource")))
        .isEmpty();
    assertThat(store.list()).as("nothing was claimed for the session's owner").isEmpty();
    // Other owners are not this session's business: their leases get no key, as always.
    assertThat(store.claim(FETCH, BOB, LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Granted.class);
    assertThat(livenessKeyOf(FETCH)).isEmpty();

    source.up();

    await().atMost(5, SECONDS).until(session::isHeld);
    assertThat(lockHolder(session.key())).isPresent();
    assertThat(store.claim(BACKFILL, ALICE, LeasePolicy.defaults()))
        .isInstanceOf(ClaimResult.Granted.class);
    assertThat(livenessKeyOf(BACKFILL)).contains(session.key());
  }

  @Test
  void aLockStillTakenElsewhereIsTakenOnceItIsFree() throws Exception {
    LivenessSession session = open(ALICE);
    source.down();
    terminate(lockHolder(session.key()).orElseThrow());
    await().atMost(5, SECONDS).until(() -> !session.isHeld());
    // Stands for a dying backend or another worker's claim checking the lock at that instant.
    try (Connection other = DriverManager.getConnection(db.jdbcUrl())) {
      lock(other, "select pg_advisory_lock(?)", session.key());
      source.up();

      await()
          .during(Duration.ofMillis(300))
          .atMost(5, SECONDS)
          .until(() -> !session.isHeld());

      lock(other, "select pg_advisory_unlock(?)", session.key());
      await().atMost(5, SECONDS).until(session::isHeld);
    }
    assertThat(lockHolder(session.key())).isPresent();
  }

  @Test
  void notificationsOnAListenedChannelArriveAgainAfterTheConnectionIsReplaced() {
    LivenessSession session = open(ALICE);
    List<String> payloads = new CopyOnWriteArrayList<>();
    session.listen("changesync_test", payloads::add);

    await()
        .atMost(5, SECONDS)
        .untilAsserted(
            () -> {
              notify("changesync_test", "one");
              assertThat(payloads).contains("one");
            });
    long killed = lockHolder(session.key()).orElseThrow();
    terminate(killed);
    await()
        .atMost(5, SECONDS)
        .until(() -> lockHolder(session.key()).filter(pid -> pid != killed).isPresent());

    await()
        .atMost(5, SECONDS)
        .untilAsserted(
            () -> {
              notify("changesync_test", "two");
              assertThat(payloads).contains("two");
            });
    assertThat(session.isHeld()).isTrue();
  }

  @Test
  void aChannelMustBeAnIdentifierAndEverySubscriberGetsItsNotificationsUntilItUnsubscribes() {
    LivenessSession session = open(ALICE);
    assertThatThrownBy(() -> session.listen("wake up; drop table lease", p -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'wake up; drop table lease'");
    List<String> first = new CopyOnWriteArrayList<>();
    List<String> second = new CopyOnWriteArrayList<>();
    LivenessSession.Subscription firstSubscription = session.listen("changesync_work", first::add);
    session.listen("changesync_work", second::add);
    await()
        .atMost(5, SECONDS)
        .untilAsserted(
            () -> {
              notify("changesync_work", "one");
              assertThat(first).contains("one");
              assertThat(second).contains("one");
            });

    firstSubscription.close();
    await()
        .atMost(5, SECONDS)
        .untilAsserted(
            () -> {
              notify("changesync_work", "two");
              assertThat(second).contains("two");
            });
    assertThat(first).doesNotContain("two");
  }

  @Test
  void aPeerWatcherHearsOfAPeersLivenessLockGone() {
    LivenessSession session = open(ALICE);
    LivenessSession peer = open(BOB);
    List<Long> gone = new CopyOnWriteArrayList<>();
    session.watchPeers(() -> gone.add(System.nanoTime()));
    await().during(Duration.ofMillis(500)).atMost(5, SECONDS).until(gone::isEmpty);

    peer.close(); // its lock goes, as when its process dies and its connection closes

    await().atMost(5, SECONDS).until(() -> !gone.isEmpty());
  }

  @Test
  void connectionsThatShareOneSessionAsBehindATransactionPoolerAreRefused() throws Exception {
    Connection shared = DriverManager.getConnection(db.jdbcUrl());
    closeAfter.add(shared);
    DataSource pooler = new PGSimpleDataSource() {
      @Override
      public Connection getConnection() {
        // Every client connection is served by the same server session, as a transaction-mode
        // pooler does between transactions.
        return (Connection)
            Proxy.newProxyInstance(
                Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class},
                (proxy, method, args) ->
                    method.getName().equals("close") ? null : method.invoke(shared, args));
      }
    };

    assertThatThrownBy(() -> LivenessSession.open(pooler, ALICE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("share sessions")
        .hasMessageContaining("CHANGESYNC_LIVENESS=off");
    assertThat(lockHolder(LivenessSession.keyOf(ALICE))).as("no lock left behind").isEmpty();
  }

  @Test
  void closeReleasesTheLockAndTheSessionIsNoLongerHeld() {
    LivenessSession session = open(ALICE);

    session.close();

    assertThat(session.isHeld()).isFalse();
    assertThat(session.keyFor(ALICE)).isEmpty();
    assertThat(lockHolder(session.key())).isEmpty();
    LivenessSession again = open(ALICE); // the lock is free for the taking
    assertThat(again.isHeld()).isTrue();
  }

  @Test
  void openFailsWhileAnotherSessionHoldsTheLock() {
    open(ALICE);

    assertThatThrownBy(() -> LivenessSession.open(source, ALICE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already held");
  }

  // ---------------------------------------------------------------------------------------------

  /** The backend holding the session-level advisory lock {@code key}, if any. */
  private Optional<Long> lockHolder(long key) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    """
                    select pid from pg_locks
                     where locktype = 'advisory' and granted and objsubid = 1
                       and ((classid::bigint << 32) | objid::bigint) = :key
                    """)
                .bind("key", key)
                .mapTo(Long.class)
                .findOne());
  }

  private void terminate(long pid) {
    jdbi.useHandle(h -> h.execute("select pg_terminate_backend(?)", (int) pid));
  }

  private void notify(String channel, String payload) {
    jdbi.useHandle(h -> h.execute("select pg_notify(?, ?)", channel, payload));
  }

  private Optional<Long> livenessKeyOf(LeaseKey key) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select liveness_key from lease where resource = :resource and lane = :lane")
                .bind("resource", key.resource())
                .bind("lane", key.lane())
                .mapTo(Long.class)
                .findOne());
  }

  private static void lock(Connection connection, String sql, long key) throws Exception {
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, key);
      statement.execute();
    }
  }
}
