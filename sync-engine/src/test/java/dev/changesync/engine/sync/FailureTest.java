package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubException;
import dev.changesync.lease.LeaseKey;
import dev.changesync.lease.LeaseLostException;
import dev.changesync.lease.OwnerId;
import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import org.jdbi.v3.core.ConnectionException;
import org.junit.jupiter.api.Test;

/** Whom a failure blames, and what {@code last_error} says about it. */
class FailureTest {

  private static GitHubException status(int status) {
    return new GitHubException("GET http://127.0.0.1:1/repos/acme/widgets/pulls/7 -> " + status,
        status);
  }

  @Test
  void gitHubsAnswersAboutThePullBlameThePull() {
    assertThat(Failure.classify(status(404), 7))
        .isEqualTo(new Failure.OfPull("GitHub returned 404 for pull request #7"));
    assertThat(Failure.classify(status(410), 7)).isInstanceOf(Failure.OfPull.class);
    assertThat(Failure.classify(status(422), 7)).isInstanceOf(Failure.OfPull.class);
    assertThat(Failure.classify(status(200), 7))
        .isEqualTo(new Failure.OfPull("GitHub sent a response that cannot be read for pull request #7"));
  }

  @Test
  void theSameAnswersEndingAWholePassBlameNoPull() {
    assertThat(Failure.classify(status(404)))
        .isEqualTo(
            new Failure.OfInfrastructure(
                "repository not found or private (404): set CHANGESYNC_GITHUB_TOKEN to a token that"
                    + " can read it"));
    assertThat(Failure.classify(status(200))).isInstanceOf(Failure.OfInfrastructure.class);
  }

  @Test
  void gitHubsOwnTroubleIsInfrastructure() {
    assertThat(Failure.classify(status(502), 7))
        .isEqualTo(new Failure.OfInfrastructure("GitHub returned 502 for pull request #7"));
    assertThat(Failure.classify(status(401), 7))
        .isEqualTo(new Failure.OfInfrastructure("GitHub rejected the credentials (401)"));
    assertThat(Failure.classify(status(403), 7))
        .isEqualTo(new Failure.OfInfrastructure("GitHub refused access (403)"));
    Instant reset = Instant.parse("2026-12-03T10:15:30.250Z");
    assertThat(
            Failure.classify(
                new GitHubException("limited", OptionalInt.of(403), Optional.of(reset), null), 7))
        .isEqualTo(
            new Failure.OfInfrastructure("GitHub rate limit reached until 2026-12-03T10:15:30Z"));
    assertThat(
            Failure.classify(
                new GitHubException(
                    "GET x failed", OptionalInt.empty(), new HttpTimeoutException("timed out")),
                7))
        .isEqualTo(
            new Failure.OfInfrastructure(
                "GitHub did not answer for pull request #7 (timeout or network error)"));
  }

  @Test
  void theDatabaseBlamesThePullOnlyForItsData() {
    SQLException badData =
        new SQLException("ERROR: invalid byte sequence for encoding \"UTF8\": 0x00", "22021");
    assertThat(Failure.classify(new IllegalStateException("wrapped", badData), 7))
        .isEqualTo(new Failure.OfPull("the data of pull request #7 cannot be stored"));
    assertThat(Failure.classify(badData))
        .isEqualTo(new Failure.OfInfrastructure("database error"));
    assertThat(Failure.classify(new SQLException("terminating connection", "57P01"), 7))
        .isEqualTo(new Failure.OfInfrastructure("database unavailable"));
    assertThat(Failure.classify(new ConnectionException(new SQLException("refused", "08001"))))
        .isEqualTo(new Failure.OfInfrastructure("database unavailable"));
    assertThat(Failure.classify(new SQLException("deadlock detected", "40P01"), 7))
        .isEqualTo(new Failure.OfInfrastructure("database error while storing pull request #7"));
  }

  @Test
  void everythingElseIsInfrastructureAndSaysNothingOfItsInternals() {
    OwnerId owner = OwnerId.newIncarnation("worker-a");
    LeaseLostException lost =
        new LeaseLostException(
            LeaseKey.of("repo:1", "backfill"), owner, 42, "token 42 of " + owner + " lost");
    assertThat(Failure.classify(lost, 7))
        .isEqualTo(new Failure.OfInfrastructure("lease lost to another worker"));
    assertThat(Failure.classify(new IOException("disk full"), 7))
        .isEqualTo(new Failure.OfInfrastructure("I/O error for pull request #7"));
    assertThat(Failure.classify(new NullPointerException("owner " + owner), 7))
        .isEqualTo(
            new Failure.OfInfrastructure(
                "internal error for pull request #7 (details in the worker log)"));
    PassFailedException ended = new Failure.OfInfrastructure("database unavailable").endPass(lost);
    assertThat(Failure.classify(ended))
        .isEqualTo(new Failure.OfInfrastructure("database unavailable"));
    assertThat(ended).hasCause(lost);
  }
}
