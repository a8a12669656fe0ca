package dev.changesync.engine.service;

import static dev.changesync.engine.service.WebhookIntakeTest.headers;
import static dev.changesync.engine.service.WebhookIntakeTest.pullRequestPayload;
import static dev.changesync.engine.service.WebhookIntakeTest.sign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.config.Secret;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.GeneratedBody;
import dev.changesync.testkit.PostgresDatabase;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Webhook intake from a stream: the signature header's shape before the first byte, the HMAC over
 * the stream, and the bytes kept only within the budget of bodies in flight.
 */
class WebhookStreamingTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String SECRET = "It's a Secret to Everybody";
  private static final long MB = 1024 * 1024;
  private static final long MAX = WebhookIntake.MAX_BODY_BYTES;

  private final WebhookBudget budget = new WebhookBudget(MAX + 8 * MB, 8 * MB);
  private Jdbi jdbi;
  private WebhookIntake intake;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    DbTime time = DbTime.injected(new MutableClock());
    intake = new WebhookIntake(jdbi, time, Optional.of(Secret.of(SECRET)), budget);
    new AdminService(jdbi, time)
        .configureBackfill(RepoName.of("Octocat", "Hello-World"), BackfillMode.OPEN_ONLY, 0);
  }

  /** A body that must not be read: the test fails if intake reads a byte of it. */
  private static final InputStream UNREAD =
      new InputStream() {
        @Override
        public int read() {
          throw new AssertionError("the body was read");
        }
      };

  private long written() {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select (select count(*) from webhook_delivery)"
                        + " + (select count(*) from refresh_hint)")
                .mapTo(Long.class)
                .one());
  }

  @Test
  void aSignedStreamedDeliveryIsAcceptedWithOrWithoutALength() {
    byte[] body = pullRequestPayload("opened", 5);

    WebhookResult declared =
        intake.receive(
            headers("pull_request", "s-1", sign(SECRET, body)),
            OptionalLong.of(body.length),
            new ByteArrayInputStream(body));
    WebhookResult chunked =
        intake.receive(
            headers("pull_request", "s-2", sign(SECRET, body)),
            OptionalLong.empty(),
            new ByteArrayInputStream(body));

    assertThat(declared.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(declared.number()).contains(5);
    assertThat(chunked.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(budget.usedBytes()).as("reservations given back").isZero();
  }

  @Test
  void aStreamedBodyWhoseSignatureDoesNotMatchIs401AndWritesNothing() {
    GeneratedBody body = GeneratedBody.spaces(6 * MB);
    String signature = sign(SECRET, pullRequestPayload("opened", 5)); // well-formed, wrong body

    assertThatThrownBy(
            () ->
                intake.receive(
                    headers("pull_request", "s-3", signature), OptionalLong.of(6 * MB), body))
        .isInstanceOf(UnauthorizedException.class)
        .hasMessage("X-Hub-Signature-256 does not match the body");

    assertThat(body.remaining()).as("the HMAC covered the whole stream").isZero();
    assertThat(budget.usedBytes()).isZero();
    assertThat(written()).isZero();
  }

  @Test
  void aMalformedOrMissingSignatureIsRefusedBeforeAByteIsRead() {
    byte[] body = pullRequestPayload("opened", 5);
    String good = sign(SECRET, body);
    List<String> bad =
        List.of(
            "",
            "sha256=zz",
            good.substring(0, 40),
            good.replace("sha256=", "sha1="),
            good + "00",
            "sha256=" + "g".repeat(64));

    for (String signature : bad) {
      assertThatThrownBy(
              () ->
                  intake.receive(
                      headers("pull_request", "s-4", signature.isEmpty() ? null : signature),
                      OptionalLong.of(body.length),
                      UNREAD))
          .as(signature)
          .isInstanceOf(UnauthorizedException.class);
    }
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void aDeclaredLengthTheBudgetCannotCoverIs503BeforeAByteIsRead() {
    byte[] body = pullRequestPayload("opened", 5);
    try (WebhookBudget.Reservation others = budget.tryReserve(MAX).orElseThrow()) {
      assertThatThrownBy(
              () ->
                  intake.receive(
                      headers("pull_request", "s-5", sign(SECRET, body)),
                      OptionalLong.of(2 * MB),
                      UNREAD))
          .isInstanceOfSatisfying(
              OverloadedException.class,
              e -> {
                assertThat(e.httpStatus()).isEqualTo(503);
                assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(5));
                assertThat(e.getMessage()).contains("in flight");
              });
      assertThat(budget.usedBytes()).isEqualTo(others.bytes());

      WebhookResult small =
          intake.receive(
              headers("pull_request", "s-6", sign(SECRET, body)),
              OptionalLong.of(body.length),
              new ByteArrayInputStream(body));
      assertThat(small.outcome())
          .as("a small delivery fits beside the large body")
          .isEqualTo(WebhookResult.Outcome.ACCEPTED);
    }
    assertThat(budget.usedBytes()).isZero();
  }

  @Test
  void aChunkedBodyThatOutgrowsTheBudgetIs503AndGivesItsBytesBack() {
    GeneratedBody body = GeneratedBody.spaces(3 * MB);
    try (WebhookBudget.Reservation others = budget.tryReserve(MAX).orElseThrow()) {
      assertThatThrownBy(
              () ->
                  intake.receive(
                      headers("pull_request", "s-7", sign(SECRET, new byte[0])),
                      OptionalLong.empty(),
                      body))
          .isInstanceOf(OverloadedException.class);

      assertThat(body.remaining()).as("refused part way").isPositive();
      assertThat(budget.usedBytes()).isEqualTo(others.bytes());
    }
    assertThat(written()).isZero();
  }

  @Test
  void aChunkedBodyOver25MbIs413AndGivesItsBytesBack() {
    GeneratedBody body = GeneratedBody.spaces(MAX + 1);

    assertThatThrownBy(
            () ->
                intake.receive(
                    headers("pull_request", "s-8", sign(SECRET, new byte[0])),
                    OptionalLong.empty(),
                    body))
        .isInstanceOf(PayloadTooLargeException.class)
        .hasMessageContaining("25 MB");

    assertThat(budget.usedBytes()).isZero();
    assertThat(written()).isZero();
  }

  @Test
  void aDeclaredLengthOver25MbIs413AndWithoutASecretIntakeIs403() {
    String signature = sign(SECRET, new byte[0]);
    assertThatThrownBy(
            () ->
                intake.receive(
                    headers("pull_request", "s-9", signature), OptionalLong.of(MAX + 1), UNREAD))
        .isInstanceOf(PayloadTooLargeException.class);

    WebhookIntake off =
        new WebhookIntake(jdbi, DbTime.injected(new MutableClock()), Optional.empty(), budget);
    assertThatThrownBy(
            () ->
                off.receive(
                    headers("pull_request", "s-10", signature), OptionalLong.of(10), UNREAD))
        .isInstanceOf(NotConfiguredException.class);
  }

  @Test
  void aBodyShorterThanItsLengthIsBadInput() {
    byte[] body = pullRequestPayload("opened", 5);

    assertThatThrownBy(
            () ->
                intake.receive(
                    headers("pull_request", "s-11", sign(SECRET, body)),
                    OptionalLong.of(body.length + 10L),
                    new ByteArrayInputStream(body)))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("ended after");
    assertThat(budget.usedBytes()).isZero();
  }
}
