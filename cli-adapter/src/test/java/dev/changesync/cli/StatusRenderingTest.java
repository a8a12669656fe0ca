package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.Changesync;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code changesync status} renders every lease field per lane exactly as expected, for a
 * repository whose fetch lease is held, backfill lease stale and refresh lease free — on a fixed
 * clock that both the engine (deciding held / stale) and the relative times use.
 */
class StatusRenderingTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final LeasePolicy POLICY = LeasePolicy.defaults(); // 15m TTL, stale after 30s

  @Test
  void heldStaleAndFreeLeasesRenderExactly() throws Exception {
    MutableClock clock = new MutableClock(); // 2026-01-01T00:00:00Z
    long repoId;
    try (Changesync engine =
        Changesync.builder()
            .dataSource(db.dataSource())
            .runWorkers(false)
            .migrateOnStart(false)
            .clock(clock)
            .build()
            .start()) {
      repoId =
          engine
              .admin()
              .configureBackfill(RepoName.of("acme", "widgets"), BackfillMode.OPEN_ONLY, 10)
              .repositoryId();
    }
    PostgresLeaseStore store =
        PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
    clock.advance(Duration.ofSeconds(10));
    claim(store, Lanes.key(repoId, Lanes.BACKFILL), new OwnerId("worker-b", "b1"));
    clock.advance(Duration.ofSeconds(40));
    claim(store, Lanes.key(repoId, Lanes.FETCH), new OwnerId("worker-a", "a1"));
    clock.advance(Duration.ofSeconds(12)); // backfill: 52s without heartbeat, stale; fetch held

    CliRunner.Result r = cli(db).engineClock(clock).run("status", "acme/widgets");

    assertThat(r.err()).isEmpty();
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).isEqualTo(resource("status-held-stale-free.txt"));
  }

  private static void claim(PostgresLeaseStore store, dev.changesync.lease.LeaseKey key, OwnerId owner) {
    assertThat(store.claim(key, owner, POLICY)).isInstanceOf(ClaimResult.Granted.class);
  }

  static String resource(String name) throws IOException {
    try (InputStream in = StatusRenderingTest.class.getResourceAsStream(name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
