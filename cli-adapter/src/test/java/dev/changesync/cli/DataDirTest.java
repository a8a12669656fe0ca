package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.Changesync;
import dev.changesync.testkit.github.FakeGitHub;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --data-dir DIR} (and {@code CHANGESYNC_DATA_DIR}): the CLI starts the embedded PostgreSQL
 * on DIR itself when no server holds it — a real cluster in a temporary directory — and refuses in
 * one line, naming the holder, when another process or {@link Changesync} does.
 */
class DataDirTest {

  @TempDir Path dir;

  @Test
  void migrateThenCommandsOnTheDataDirKeepTheirDataAcrossInvocations() {
    try (FakeGitHub fake = FakeGitHub.start()) {
      fake.createRepo("acme", "widgets");
      migrateTrackAndRead(fake);
    }
  }

  private void migrateTrackAndRead(FakeGitHub fake) {
    CliRunner.Result migrate = cli().run("migrate", "--data-dir", dir.toString());
    assertThat(migrate.exitCode()).as(migrate.toString()).isZero();
    assertThat(migrate.out()).contains("the embedded PostgreSQL of " + dir.toAbsolutePath());

    CliRunner.Result track =
        cli()
            .env("CHANGESYNC_GITHUB_API_URL", fake.baseUrl())
            .env("CHANGESYNC_GITHUB_TOKEN", FakeGitHub.DEFAULT_TOKEN)
            .run("--data-dir", dir.toString(), "track", "acme/widgets");
    assertThat(track.exitCode()).as(track.toString()).isZero();

    // A second invocation, by the variable this time: the repository is still there.
    CliRunner.Result repos = cli().env("CHANGESYNC_DATA_DIR", dir.toString()).run("repos");
    assertThat(repos.exitCode()).as(repos.toString()).isZero();
    assertThat(repos.out()).contains("acme/widgets");
    CliRunner.Result status = cli().run("status", "acme/widgets", "--data-dir", dir.toString());
    assertThat(status.exitCode()).as(status.toString()).isZero();
    assertThat(status.out()).contains("acme/widgets");
  }

  @Test
  void aDataDirHeldByAnotherChangesyncIsRefusedInOneLineNamingTheHolder() {
    try (Changesync holder =
        Changesync.builder().embeddedDatabase(dir).runWorkers(false).build().start()) {
      String url = holder.embeddedDatabase().orElseThrow().jdbcUrl();
      for (String[] args :
          new String[][] {
            {"migrate", "--data-dir", dir.toString()}, {"repos", "--data-dir", dir.toString()}
          }) {
        CliRunner.Result refused = cli().run(args);
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(ExitCodes.FAILURE);
        assertThat(refused.out()).isEmpty();
        assertThat(refused.err().strip().lines()).as(refused.toString()).hasSize(1);
        assertThat(refused.err())
            .contains("in use by another changesync process")
            .contains("pid " + ProcessHandle.current().pid())
            .contains(url);
      }
    }
  }

  @Test
  void dataDirIsAnAlternativeToTheOtherTargets() {
    CliRunner.Result both =
        cli().run("repos", "--data-dir", dir.toString(), "--server", "http://localhost:1");
    assertThat(both.exitCode()).as(both.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(both.err()).contains("--server, --database-url and --data-dir are alternatives");
  }
}
