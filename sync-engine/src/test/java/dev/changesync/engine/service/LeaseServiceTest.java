package dev.changesync.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.lease.WorkerRegistry;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.HeartbeatResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.LeaseState;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Lease diagnostics and operations as the adapters see them. */
class LeaseServiceTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final OwnerId ALICE = new OwnerId("worker-a", "a1");
  private static final OwnerId BOB = new OwnerId("worker-b", "b1");
  private static final OwnerId SELF = new OwnerId("worker-s", "s2");
  private static final LeasePolicy POLICY = LeasePolicy.defaults(); // stale after 30 s

  private final MutableClock clock = new MutableClock();
  private Jdbi jdbi;
  private PostgresLeaseStore store;
  private WorkerRegistry registry;
  private LeaseService service;
  private long repoId;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(h -> h.execute("create table if not exists fence_probe (marker text not null)"));
    jdbi.useHandle(h -> h.execute("truncate fence_probe"));
    DbTime time = DbTime.injected(clock);
    store = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
    registry = new WorkerRegistry(jdbi, clock);
    service = new LeaseService(store, store.jdbi(), registry, time, SELF, Duration.ofMinutes(1));
    repoId =
        new AdminService(jdbi, time)
            .configureBackfill(RepoName.of("octo", "hello"), BackfillMode.OPEN_ONLY, 0)
            .repositoryId();
  }

  private Lease claim(LeaseKey key, OwnerId owner) {
    ClaimResult result = store.claim(key, owner, POLICY);
    assertThat(result).isInstanceOf(ClaimResult.Granted.class);
    return ((ClaimResult.Granted) result).lease();
  }

  @Test
  void leasesShowTheirStateAtNow() {
    Lease fetch = claim(Lanes.key(repoId, Lanes.FETCH), ALICE);
    clock.advance(Duration.ofSeconds(20));
    Lease backfill = claim(Lanes.key(repoId, Lanes.BACKFILL), BOB);
    claim(LeaseKey.of("maintenance", "prune"), BOB);
    clock.advance(Duration.ofSeconds(10)); // fetch is now 30 s without heartbeat: stale

    LeaseList list = service.leases(false);

    assertThat(list.now()).isEqualTo(clock.instant());
    assertThat(list.leases())
        .extracting(LeaseList.Entry::resource, LeaseList.Entry::lane, LeaseList.Entry::state)
        .containsExactly(
            tuple("maintenance", "prune", LeaseState.HELD),
            tuple(Lanes.resource(repoId), Lanes.BACKFILL, LeaseState.HELD),
            tuple(Lanes.resource(repoId), Lanes.FETCH, LeaseState.STALE));
    LeaseList.Entry f = list.leases().get(2);
    assertThat(f.repository()).contains("octo/hello");
    assertThat(f.ownerId()).isEqualTo(ALICE.toString());
    assertThat(f.token()).isEqualTo(fetch.token());
    assertThat(f.claimedAt()).isEqualTo(fetch.claimedAt());
    assertThat(f.heartbeatAt()).isEqualTo(fetch.heartbeatAt());
    assertThat(f.expiresAt()).isEqualTo(fetch.expiresAt());
    assertThat(f.staleAt()).isEqualTo(fetch.staleAt());
    assertThat(f.leaseFor()).isEqualTo(POLICY.leaseFor());
    assertThat(f.heartbeatEvery()).isEqualTo(POLICY.heartbeatEvery());
    assertThat(f.staleAfter()).isEqualTo(POLICY.staleAfter());
    assertThat(f.transitions()).isEqualTo(1);
    assertThat(f.holderClockSkew()).isPresent();
    assertThat(list.leases().get(0).repository()).isEmpty();
    assertThat(list.leases().get(1).token()).isEqualTo(backfill.token());

    assertThat(service.leases(true).leases())
        .extracting(LeaseList.Entry::lane)
        .containsExactly(Lanes.FETCH);

    JsonNode json = ApiJson.newMapper().valueToTree(list);
    assertThat(json.get("leases").get(2).get("state").asText()).isEqualTo("STALE");
    assertThat(json.get("leases").get(2).get("stale_after").asText()).isEqualTo("PT30S");
    assertThat(json.get("leases").get(2).has("holder_clock_skew")).isTrue();
  }

  @Test
  void manualReleaseFencesTheOldOwner() {
    LeaseKey key = Lanes.key(repoId, Lanes.FETCH);
    Lease alice = claim(key, ALICE);

    ReleasedLease released = service.release(key.resource(), key.lane(), "admin@ops");

    assertThat(released)
        .isEqualTo(
            new ReleasedLease(
                key.resource(),
                key.lane(),
                ALICE.toString(),
                alice.token(),
                alice.claimedAt(),
                alice.heartbeatAt(),
                alice.expiresAt(),
                "admin@ops"));
    assertThatThrownBy(
            () -> store.inLease(alice, h -> h.execute("insert into fence_probe values ('alice')")))
        .isInstanceOf(LeaseLostException.class);
    long probes =
        jdbi.withHandle(h -> h.select("select count(*) from fence_probe").mapTo(Long.class).one());
    assertThat(probes).isZero();
    assertThat(store.heartbeat(alice)).isInstanceOf(HeartbeatResult.Lost.class);
    Lease bob = claim(key, BOB);
    assertThat(bob.token()).isGreaterThan(alice.token() + 1); // the release itself took a token
    assertThat(service.events(Optional.of(key.resource()), 10))
        .extracting(LeaseEvent::kind)
        .contains("manually_released");
  }

  @Test
  void releasingAFreeLeaseIsNotFoundAndBadKeysAreBadInput() {
    assertThatThrownBy(() -> service.release(Lanes.resource(repoId), Lanes.FETCH, "admin"))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("lease (" + Lanes.resource(repoId) + ", fetch) is not held by anyone");
    assertThatThrownBy(() -> service.release(" ", Lanes.FETCH, "admin"))
        .isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> service.release(null, Lanes.FETCH, "admin"))
        .isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> service.release("repo:1", "x".repeat(201), "admin"))
        .isInstanceOf(BadInputException.class);
    claim(Lanes.key(repoId, Lanes.FETCH), ALICE);
    assertThatThrownBy(() -> service.release(Lanes.resource(repoId), Lanes.FETCH, ""))
        .isInstanceOf(BadInputException.class);
  }

  @Test
  void aTrackedRepositoryCanBeNamedInsteadOfItsResource() {
    LeaseKey key = Lanes.key(repoId, Lanes.BACKFILL);
    Lease alice = claim(key, ALICE);

    ReleasedLease released = service.release("Octo/Hello", Lanes.BACKFILL, "admin@ops");

    assertThat(released.resource()).isEqualTo(key.resource());
    assertThat(released.previousToken()).isEqualTo(alice.token());
    assertThat(service.events(Optional.of("octo/hello"), 10))
        .extracting(LeaseEvent::resource, LeaseEvent::kind)
        .containsExactly(
            tuple(key.resource(), "manually_released"), tuple(key.resource(), "claimed"));
    assertThatThrownBy(() -> service.release("octo/elsewhere", Lanes.FETCH, "admin"))
        .isInstanceOf(NotFoundException.class)
        .hasMessage("repository octo/elsewhere is not tracked");
    assertThatThrownBy(() -> service.events(Optional.of("octo/a/b"), 10))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("invalid resource: expected OWNER/REPO");
  }

  @Test
  void recoveryFreesStaleLeasesAndCountsThemPerLane() {
    claim(Lanes.key(repoId, Lanes.FETCH), ALICE);
    claim(Lanes.key(repoId, Lanes.BACKFILL), ALICE);
    claim(LeaseKey.of("repo:999", Lanes.FETCH), ALICE);
    clock.advance(Duration.ofMinutes(1));
    Lease fresh = claim(Lanes.key(repoId, Lanes.REFRESH), BOB);
    Lease earlier = claim(LeaseKey.of("repo:998", Lanes.REFRESH), new OwnerId("worker-s", "s1"));
    Lease own = claim(LeaseKey.of("repo:997", Lanes.REFRESH), SELF);

    RecoveryResult result = service.recover();

    assertThat(result.recoveredBy()).isEqualTo(SELF.toString());
    assertThat(result.total()).isEqualTo(4);
    assertThat(result.countsByLane())
        .isEqualTo(Map.of(Lanes.FETCH, 2, Lanes.BACKFILL, 1, Lanes.REFRESH, 1));
    assertThat(result.freed())
        .extracting(
            RecoveryResult.Freed::resource,
            RecoveryResult.Freed::lane,
            RecoveryResult.Freed::reason)
        .containsExactlyInAnyOrder(
            tuple(Lanes.resource(repoId), Lanes.FETCH, "STALE"),
            tuple(Lanes.resource(repoId), Lanes.BACKFILL, "STALE"),
            tuple("repo:999", Lanes.FETCH, "STALE"),
            tuple("repo:998", Lanes.REFRESH, "EARLIER_INCARNATION"));
    assertThat(store.find(fresh.key())).contains(fresh);
    assertThat(store.find(own.key())).contains(own);
    assertThat(store.find(earlier.key())).isEmpty();
    assertThat(service.leases(false).leases()).hasSize(2);
  }

  @Test
  void eventsAreNewestFirstFilteredAndLimited() {
    LeaseKey fetch = Lanes.key(repoId, Lanes.FETCH);
    Lease a = claim(fetch, ALICE);
    store.release(a, dev.changesync.lease.Completion.none());
    claim(fetch, BOB);
    claim(LeaseKey.of("repo:5", Lanes.FETCH), ALICE);

    List<LeaseEvent> all = service.events(Optional.empty(), 100);
    assertThat(all)
        .extracting(LeaseEvent::resource, LeaseEvent::kind)
        .containsExactly(
            tuple("repo:5", "claimed"),
            tuple(fetch.resource(), "claimed"),
            tuple(fetch.resource(), "released"),
            tuple(fetch.resource(), "claimed"));
    assertThat(all.get(1).ownerId()).contains(BOB.toString());
    assertThat(all.get(0).at()).isEqualTo(clock.instant());

    assertThat(service.events(Optional.of(fetch.resource()), 2))
        .extracting(LeaseEvent::kind)
        .containsExactly("claimed", "released");
    assertThat(service.events(Optional.of(" "), 1)).hasSize(1);
    assertThat(service.events(Optional.of("repo:404"), 10)).isEmpty();

    for (int bad : new int[] {0, -1, 1001}) {
      assertThatThrownBy(() -> service.events(Optional.empty(), bad))
          .isInstanceOf(BadInputException.class);
    }
    assertThat(Inputs.eventLimit((String) null)).isEqualTo(Inputs.DEFAULT_EVENT_LIMIT);
    assertThat(Inputs.eventLimit("1000")).isEqualTo(1000);
    assertThatThrownBy(() -> Inputs.eventLimit("ten")).isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> service.events(Optional.of("r".repeat(201)), 10))
        .isInstanceOf(BadInputException.class);
  }

  @Test
  void workersAreListedWithTheirLiveness() {
    registry.register(
        new WorkerRegistry.Registration(ALICE, "host-a", 11, "0.1.0", Optional.empty()));
    clock.advance(Duration.ofMinutes(5));
    registry.register(
        new WorkerRegistry.Registration(BOB, "host-b", 22, "0.1.0", Optional.empty()));

    WorkerList list = service.workers();

    assertThat(list.now()).isEqualTo(clock.instant());
    assertThat(list.workers())
        .extracting(WorkerList.Entry::ownerId, WorkerList.Entry::host, WorkerList.Entry::alive)
        .containsExactly(
            tuple(BOB.toString(), Optional.of("host-b"), true),
            tuple(ALICE.toString(), Optional.of("host-a"), false));
    WorkerList.Entry bob = list.workers().get(0);
    assertThat(bob.workerName()).isEqualTo("worker-b");
    assertThat(bob.incarnation()).isEqualTo("b1");
    assertThat(bob.pid()).isEqualTo(22);
    assertThat(bob.startedAt()).isEqualTo(clock.instant());
    assertThat(bob.stoppedAt()).isEmpty();
    assertThat(bob.livenessTracked()).isFalse();
  }

  @Test
  void workersGoneForLongerThanTheRetentionLeaveTheList() {
    OwnerId carol = new OwnerId("worker-c", "c1");
    registry.register(
        new WorkerRegistry.Registration(ALICE, "host-a", 11, "0.1.0", Optional.empty()));
    registry.register(
        new WorkerRegistry.Registration(carol, "host-c", 33, "0.1.0", Optional.empty()));
    registry.stopped(ALICE);
    clock.advance(Duration.ofDays(6));
    registry.register(
        new WorkerRegistry.Registration(BOB, "host-b", 22, "0.1.0", Optional.empty()));
    clock.advance(Duration.ofDays(1).plusSeconds(1));

    // Alice stopped and Carol fell silent more than 7 days ago; Bob was seen a day ago.
    assertThat(registry.prune(WorkerRegistry.DEFAULT_RETENTION)).isEqualTo(2);
    assertThat(service.workers().workers())
        .extracting(WorkerList.Entry::ownerId)
        .containsExactly(BOB.toString());
  }
}
