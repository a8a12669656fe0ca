package dev.changesync.engine;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.lease.ChildJvm;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker frozen (SIGSTOP) inside a guarded write, with shipped defaults: the lease row lock its
 * transaction holds would block the reclaim for as long as it stays frozen; the worker pool's
 * idle-in-transaction timeout ends that transaction first, so another worker holds the lease once
 * it is stale, on time.
 */
class FrozenWriterTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeaseKey KEY = LeaseKey.of("repo:7", "fetch");

  private ChildJvm child;

  @AfterEach
  void tearDown() {
    if (child != null) {
      child.kill();
    }
  }

  @Test
  void aWorkerFrozenInsideAGuardedWriteLosesItsLeaseAtStaleAfter() throws Exception {
    LeasePolicy policy = SyncSettings.defaults().leasePolicy();
    child = ChildJvm.start(FrozenWriterProcess.class, db.jdbcUrl(), KEY.resource(), KEY.lane(), "frozen");
    assertThat(child.next(Duration.ofSeconds(60))).startsWith("GRANTED ");
    child.send("write");
    String inWrite = child.next(Duration.ofSeconds(30));
    assertThat(inWrite).startsWith("IN_WRITE ");
    int writerPid = Integer.parseInt(inWrite.substring("IN_WRITE ".length()));
    child.signal("STOP");
    long frozenAt = System.nanoTime();

    try (LivenessSession liveness =
        LivenessSession.open(db.dataSource(), OwnerId.newIncarnation("survivor"))) {
      PostgresLeaseStore survivor =
          PostgresLeaseStore.builder(db.dataSource()).liveness(liveness).build();
      AtomicReference<ClaimResult> result = new AtomicReference<>();
      await()
          .atMost(policy.staleAfter().plusSeconds(20))
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                result.set(survivor.claim(KEY, liveness.owner(), policy));
                return result.get() instanceof ClaimResult.Granted;
              });
      Duration tookOver = Duration.ofNanos(System.nanoTime() - frozenAt);
      System.out.printf("frozen writer: lease taken over %d ms after SIGSTOP%n", tookOver.toMillis());
      assertThat(tookOver).isLessThan(policy.staleAfter().plusSeconds(2));
    }
    long writerSessions =
        Jdbi.create(db.dataSource())
            .withHandle(
                h ->
                    h.createQuery("select count(*) from pg_stat_activity where pid = :pid")
                        .bind("pid", writerPid)
                        .mapTo(Long.class)
                        .one());
    assertThat(writerSessions)
        .as("the frozen writer's session was ended by its idle-in-transaction timeout")
        .isZero();
  }
}
