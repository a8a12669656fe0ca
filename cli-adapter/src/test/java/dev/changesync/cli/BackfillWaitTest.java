package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.Changesync;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code backfill --wait} against the fake GitHub, with workers running (an embedded engine, or
 * the in-process server's): it reaches completion, printing progress lines (no terminal here).
 */
class BackfillWaitTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private FakeGitHub fake;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    fake = FakeGitHub.start();
    fake.latency(Duration.ofMillis(15)); // a backfill of 24 PRs takes a second or so
    fake.createRepo("acme", "gadgets").openPrs(24);
  }

  @AfterEach
  void tearDown() {
    fake.close();
  }

  @Test
  void waitsForTheBackfillThroughTheDatabase() {
    try (Changesync workers = Fixtures.workers(db, fake, "wait-worker")) {
      CliRunner.Result r =
          cli(db).run("backfill", "acme/gadgets", "--priority", "3", "--wait", "--poll-interval", "50ms");

      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertCompletedWithProgress(r.out());
      RepositoryStatus done = workers.status().repositoryStatus(RepoName.of("acme", "gadgets"));
      assertThat(done.openPrCurrent()).isEqualTo(24);
    }
  }

  @Test
  void waitsForTheBackfillThroughTheServer() throws Exception {
    try (ChangesyncServer server = Fixtures.server(db, fake)) {
      CliRunner.Result r =
          cli()
              .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
              .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN)
              .run(
                  "backfill", "acme/gadgets", "--priority", "3", "--wait", "--poll-interval", "50ms",
                  "--json");

      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertCompletedWithProgress(r.err()); // progress on stderr, the JSON alone on stdout
      JsonNode status = ApiJson.newMapper().readTree(r.out());
      assertThat(status.path("open_pr_total").asInt()).isEqualTo(24);
      assertThat(status.path("open_pr_current").asInt()).isEqualTo(24);
    }
  }

  @Test
  void trackIsOpenOnlyAtTheDefaultPriorityAndWaitsUntilTheOpenPullRequestsAreCurrent()
      throws Exception {
    try (ChangesyncServer server = Fixtures.server(db, fake)) {
      CliRunner.Result r =
          cli()
              .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
              .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN)
              .run("track", "acme/gadgets", "--wait", "--poll-interval", "50ms");

      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertCompletedWithProgress(r.out());
      RepositoryStatus done =
          server.changesync().status().repositoryStatus(RepoName.of("acme", "gadgets"));
      assertThat(done.backfillMode()).isEqualTo(BackfillMode.OPEN_ONLY);
      assertThat(done.backfillPriority()).isEqualTo(TrackCommand.DEFAULT_PRIORITY);
      assertThat(done.lastOpenPrScanAt()).isPresent();
      assertThat(done.openPrCurrent()).isEqualTo(24);
    }
  }

  @Test
  void ctrlCStopsWaitingAndLeavesTheBackfillConfigured() {
    CompletableFuture<Void> ctrlC = new CompletableFuture<>();
    ctrlC.complete(null); // pressed before the first poll: no workers run, nothing would finish

    CliRunner.Result r =
        cli(db).stop(ctrlC).run("backfill", "acme/gadgets", "--priority", "4", "--wait");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(BackfillCommand.STOPPED);
    assertThat(r.out())
        .contains("acme/gadgets: waiting for the scan of open PRs")
        .endsWith(
            "Stopped waiting; the backfill of acme/gadgets stays configured (open_only, priority"
                + " 4) and goes on in the workers.\n");
    try (Changesync reader =
        Changesync.builder().dataSource(db.dataSource()).runWorkers(false).build().start()) {
      RepositoryStatus status = reader.status().repositoryStatus(RepoName.of("acme", "gadgets"));
      assertThat(status.backfillMode()).isEqualTo(BackfillMode.OPEN_ONLY);
      assertThat(status.backfillPriority()).isEqualTo(4);
    }
  }

  @Test
  void aWaitThatOutlastsItsTimeoutShowsThePhaseAndExits1() {
    // No workers run: the repository never gets scanned.
    CliRunner.Result r =
        cli(db)
            .run(
                "backfill", "acme/gadgets", "--priority", "2", "--wait", "--poll-interval", "50ms",
                "--timeout", "400ms");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).contains("acme/gadgets: waiting for the scan of open PRs (waiting_debounce)");
    assertThat(r.err())
        .isEqualTo(
            "gave up waiting after 400ms (--timeout): acme/gadgets is waiting_debounce, 0/0 open"
                + " PRs current; the backfill goes on in the workers\n");
  }

  private static void assertCompletedWithProgress(String output) {
    List<String> lines = output.lines().toList();
    assertThat(lines).as(output).last().asString().startsWith("acme/gadgets: backfill complete, 24/24 open PRs current");
    assertThat(lines)
        .as("progress lines before completion:\n%s", output)
        .anySatisfy(l -> assertThat(l).matches("acme/gadgets: \\d+/24 open PRs current \\(\\d+%\\).*"));
    assertThat(output).doesNotContain("\r");
  }
}
