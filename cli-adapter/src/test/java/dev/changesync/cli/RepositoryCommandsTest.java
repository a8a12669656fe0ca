package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.service.ApiJson;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 16 in the CLI, against a server over HTTP and against the database directly: {@code
 * backfill} of a repository GitHub does not know exits 1 with nothing stored, {@code repos} lists
 * what is tracked with its phase, {@code untrack} removes it.
 */
class RepositoryCommandsTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final ObjectMapper JSON = ApiJson.newMapper();

  enum Mode {
    DATABASE,
    SERVER
  }

  private FakeGitHub fake;
  private ChangesyncServer server;
  private Jdbi jdbi;

  @BeforeEach
  void start() throws Exception {
    db.truncateAllTables();
    fake = FakeGitHub.start();
    server = Fixtures.server(db, fake); // workers syncing from the fake
    jdbi = Jdbi.create(db.dataSource());
  }

  @AfterEach
  void stop() {
    server.close();
    fake.close();
  }

  private CliRunner.Result run(Mode mode, String... args) {
    CliRunner runner =
        switch (mode) {
          case DATABASE ->
              cli(db)
                  .env("CHANGESYNC_GITHUB_API_URL", fake.baseUrl())
                  .env("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN);
          case SERVER ->
              cli()
                  .env("CHANGESYNC_SERVER_URL", server.baseUri().toString())
                  .env("CHANGESYNC_ADMIN_TOKEN", Fixtures.ADMIN_TOKEN);
        };
    return runner.run(args);
  }

  private long count(String sql) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(Long.class).one());
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void backfillOfARepositoryGitHubDoesNotKnowExits1AndStoresNothing(Mode mode) {
    CliRunner.Result r = run(mode, "backfill", "acme/doesnotexist", "--mode", "open_only", "--priority", "0");

    assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo(
            "repository acme/doesnotexist was not found on GitHub (or the configured credentials"
                + " cannot see it): not tracked; for a private repository set"
                + " CHANGESYNC_GITHUB_TOKEN to a token that can read it\n");
    assertThat(count("select count(*) from repository")).isZero();
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void reposListsWhatIsTrackedAndUntrackRemovesIt(Mode mode) throws Exception {
    fake.createRepo("acme", "widgets").openPrs(2);
    fake.createRepo("acme", "gadgets").openPrs(1);
    assertThat(run(mode, "backfill", "acme/widgets", "--mode", "open_only", "--priority", "0").exitCode()).isZero();
    assertThat(run(mode, "backfill", "acme/gadgets", "--mode", "off", "--priority", "0").exitCode()).isZero();
    await()
        .atMost(60, SECONDS)
        .pollInterval(100, MILLISECONDS)
        .until(
            () ->
                JSON.readTree(run(mode, "status", "acme/widgets", "--json").out())
                    .path("converged")
                    .asBoolean());

    CliRunner.Result table = run(mode, "repos");
    assertThat(table.exitCode()).as(table.toString()).isZero();
    assertThat(table.out().lines().toList())
        .hasSize(5)
        .satisfies(
            lines -> {
              assertThat(lines.get(0)).startsWith("REPOSITORY").contains("PHASE", "NEXT RETRY");
              assertThat(lines.get(1)).startsWith("acme/gadgets").contains(" off ", " idle ");
              assertThat(lines.get(2))
                  .startsWith("acme/widgets")
                  .contains(" open_only ", "idle (converged)");
              assertThat(lines.get(3)).isEmpty();
              assertThat(lines.get(4)).isEqualTo("2 repositories");
            });
    CliRunner.Result page = run(mode, "repos", "--limit", "1", "--json");
    JsonNode json = JSON.readTree(page.out());
    assertThat(json.get("repositories")).hasSize(1);
    assertThat(json.get("next").asText()).isEqualTo("acme/gadgets");
    assertThat(run(mode, "repos", "--after", "acme/gadgets").out()).startsWith("REPOSITORY");

    CliRunner.Result status = run(mode, "status", "acme/widgets");
    assertThat(status.out()).contains("Phase:").contains("idle, converged");

    CliRunner.Result untrack = run(mode, "untrack", "acme/widgets");
    assertThat(untrack.exitCode()).as(untrack.toString()).isZero();
    assertThat(untrack.out())
        .contains("Untracked:")
        .contains("acme/widgets")
        .contains("2 open PRs, 2 snapshots");
    assertThat(count("select count(*) from repository")).isEqualTo(1);
    assertThat(run(mode, "status", "acme/widgets").exitCode()).isEqualTo(1);

    CliRunner.Result again = run(mode, "untrack", "acme/widgets");
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.err()).isEqualTo("repository acme/widgets is not tracked\n");
    assertThat(run(mode, "untrack", "not-a-repo").exitCode()).isEqualTo(2);
  }
}
