package dev.changesync.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Webhook intake: signatures first, then dedupe, hints and dirty marks, in one transaction. */
class WebhookIntakeTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String SECRET = "It's a Secret to Everybody";
  private static final RepoName HELLO = RepoName.of("Octocat", "Hello-World");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final MutableClock clock = new MutableClock();
  private Jdbi jdbi;
  private WebhookIntake intake;
  private AdminService admin;
  private StatusService status;
  private long repositoryId;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    DbTime time = DbTime.injected(clock);
    intake = new WebhookIntake(jdbi, time, Optional.of(Secret.of(SECRET)));
    admin = new AdminService(jdbi, time);
    status = new StatusService(jdbi, time);
    repositoryId = admin.configureBackfill(HELLO, BackfillMode.OPEN_ONLY, 0).repositoryId();
    // Start from a clean repository: no fetch request pending.
    jdbi.useHandle(
        h ->
            h.execute(
                "update repository_sync_state set dirty = false, dirty_since = null,"
                    + " fetch_pass_seq = fetch_request_seq"));
    clock.advance(Duration.ofMinutes(5));
  }

  // --- GitHub's shapes --------------------------------------------------------------------------

  /** A {@code pull_request} payload as GitHub sends it (abridged only in the nested URLs). */
  static byte[] pullRequestPayload(
      String action, String owner, String repo, long repoId, int number) {
    ObjectNode root = JSON.createObjectNode();
    root.put("action", action);
    root.put("number", number);
    ObjectNode user = JSON.createObjectNode();
    user.put("login", "monalisa");
    user.put("id", 583231);
    user.put("node_id", "MDQ6VXNlcjU4MzIzMQ==");
    user.put("type", "User");
    user.put("site_admin", false);
    ObjectNode repository = JSON.createObjectNode();
    repository.put("id", repoId);
    repository.put("node_id", "MDEwOlJlcG9zaXRvcnkxMjk2MjY5");
    repository.put("name", repo);
    repository.put("full_name", owner + "/" + repo);
    repository.put("private", false);
    ObjectNode repoOwner = repository.putObject("owner");
    repoOwner.put("login", owner);
    repoOwner.put("id", 1);
    repoOwner.put("type", "User");
    repository.put("html_url", "https://github.com/" + owner + "/" + repo);
    repository.put("default_branch", "main");
    repository.put("fork", false);
    repository.put("created_at", "2011-01-26T19:01:12Z");
    repository.put("pushed_at", "2026-01-01T00:00:00Z");
    ObjectNode pr = root.putObject("pull_request");
    pr.put("url", "https://api.github.com/repos/" + owner + "/" + repo + "/pulls/" + number);
    pr.put("id", 1_000_000L + number);
    pr.put("node_id", "PR_kwDOAAABc84");
    pr.put("html_url", "https://github.com/" + owner + "/" + repo + "/pull/" + number);
    pr.put("number", number);
    pr.put("state", action.equals("closed") ? "closed" : "open");
    pr.put("locked", false);
    pr.put("title", "Amazing new feature");
    pr.set("user", user.deepCopy());
    pr.put("body", "Please pull these awesome changes in!\r\n\r\n- [x] tests");
    pr.put("created_at", "2025-12-30T10:00:00Z");
    pr.put("updated_at", "2026-01-01T00:04:00Z");
    pr.putNull("closed_at");
    pr.putNull("merged_at");
    pr.put("merge_commit_sha", "e5bd3914e2e596debea16f433f57875b5b90bcd6");
    pr.putNull("assignee");
    pr.putArray("assignees");
    pr.putArray("requested_reviewers");
    pr.putArray("labels");
    pr.put("draft", false);
    ObjectNode head = pr.putObject("head");
    head.put("label", "monalisa:new-topic");
    head.put("ref", "new-topic");
    head.put("sha", "6dcb09b5b57875f334f61aebed695e2e4193db5e");
    head.set("user", user.deepCopy());
    head.set("repo", repository.deepCopy());
    ObjectNode base = pr.putObject("base");
    base.put("label", owner + ":main");
    base.put("ref", "main");
    base.put("sha", "9049f1265b7d61be4a8904a9a27120d2064dab3b");
    base.set("repo", repository.deepCopy());
    pr.put("author_association", "OWNER");
    pr.putNull("auto_merge");
    pr.put("merged", false);
    pr.putNull("mergeable");
    pr.put("mergeable_state", "unknown");
    pr.put("comments", 0);
    pr.put("commits", 3);
    pr.put("additions", 100);
    pr.put("deletions", 3);
    pr.put("changed_files", 5);
    if (action.equals("synchronize")) {
      root.put("before", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c");
      root.put("after", "6dcb09b5b57875f334f61aebed695e2e4193db5e");
    }
    root.set("repository", repository);
    root.set("sender", user);
    root.putObject("installation")
        .put("id", 2311213)
        .put("node_id", "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxMTIxMw==");
    try {
      return JSON.writeValueAsBytes(root);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] pullRequestPayload(String action, int number) {
    return pullRequestPayload(action, "Octocat", "Hello-World", 1296269, number);
  }

  static String sign(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Headers as GitHub sends them, in the capitalisation a servlet container might hand over. */
  static Map<String, String> headers(String event, String delivery, String signature) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("content-type", "application/json");
    headers.put("user-agent", "GitHub-Hookshot/044aadd");
    headers.put("x-github-event", event);
    headers.put("x-github-delivery", delivery);
    headers.put("x-github-hook-id", "292430182");
    headers.put("x-github-hook-installation-target-id", "79929171");
    headers.put("x-github-hook-installation-target-type", "repository");
    if (signature != null) {
      headers.put("x-hub-signature-256", signature);
      headers.put("x-hub-signature", "sha1=d03207e4b030cf234e3447bac4d93add4c6643d8");
    }
    return headers;
  }

  private WebhookResult deliver(String event, byte[] body) {
    return deliver(event, UUID.randomUUID().toString(), body);
  }

  private WebhookResult deliver(String event, String delivery, byte[] body) {
    return intake.receive(headers(event, delivery, sign(SECRET, body)), body);
  }

  // --- database probes --------------------------------------------------------------------------

  private Map<String, Long> rowCounts() {
    return jdbi.withHandle(
        h -> {
          Map<String, Long> counts = new TreeMap<>();
          for (String table :
              h.createQuery("select tablename from pg_tables where schemaname = 'public'")
                  .mapTo(String.class)
                  .list()) {
            counts.put(table, h.select("select count(*) from " + table).mapTo(Long.class).one());
          }
          return counts;
        });
  }

  private Map<String, Object> syncState() {
    return jdbi.withHandle(
        h ->
            h.select("select * from repository_sync_state where repository_id = ?", repositoryId)
                .mapToMap()
                .one());
  }

  private List<Map<String, Object>> hints() {
    return jdbi.withHandle(
        h ->
            h.select("select * from refresh_hint order by repository_id, number")
                .mapToMap()
                .list());
  }

  private List<Map<String, Object>> deliveries() {
    return jdbi.withHandle(
        h ->
            h.select("select * from webhook_delivery order by received_at, delivery_id")
                .mapToMap()
                .list());
  }

  private static Instant instant(Object timestamp) {
    return ((java.sql.Timestamp) timestamp).toInstant();
  }

  // --- tests ------------------------------------------------------------------------------------

  @Test
  void aSignedPullRequestEventRecordsAHintAndTheWebhookTime() {
    WebhookResult result = deliver("pull_request", pullRequestPayload("synchronize", 1347));

    assertThat(result.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(result.repositoryId()).contains(repositoryId);
    assertThat(result.fullName()).contains("Octocat/Hello-World");
    assertThat(result.number()).contains(1347);
    assertThat(result.action()).contains("synchronize");
    assertThat(result.markedDirty()).isFalse();
    assertThat(hints())
        .singleElement()
        .satisfies(
            hint -> {
              assertThat(hint.get("repository_id")).isEqualTo(repositoryId);
              assertThat(hint.get("number")).isEqualTo(1347);
              assertThat(hint.get("count")).isEqualTo(1);
              assertThat(hint.get("last_action")).isEqualTo("synchronize");
              assertThat(instant(hint.get("first_seen_at"))).isEqualTo(clock.instant());
              assertThat(instant(hint.get("last_seen_at"))).isEqualTo(clock.instant());
            });
    RepositoryStatus s = status.repositoryStatus(HELLO);
    assertThat(s.lastWebhookAt()).contains(clock.instant());
    assertThat(s.pendingRefreshCount()).isEqualTo(1);
    assertThat(deliveries())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.get("delivery_id")).isEqualTo(result.deliveryId());
              assertThat(d.get("event")).isEqualTo("pull_request");
              assertThat(d.get("action")).isEqualTo("synchronize");
              assertThat(d.get("repository_id")).isEqualTo(repositoryId);
              assertThat(d.get("repository_full_name")).isEqualTo("Octocat/Hello-World");
              assertThat(d.get("number")).isEqualTo(1347);
              assertThat(d.get("outcome")).isEqualTo("hinted");
              assertThat(instant(d.get("received_at"))).isEqualTo(clock.instant());
            });
  }

  @Test
  void furtherEventsForThePullBumpTheHintAndKeepItsFirstSighting() {
    Instant first = clock.instant();
    deliver("pull_request", pullRequestPayload("synchronize", 5));
    clock.advance(Duration.ofSeconds(30));
    deliver("pull_request", pullRequestPayload("labeled", 5));
    deliver("pull_request", pullRequestPayload("synchronize", 6));

    assertThat(hints()).hasSize(2);
    Map<String, Object> hint = hints().get(0);
    assertThat(hint.get("count")).isEqualTo(2);
    assertThat(hint.get("last_action")).isEqualTo("labeled");
    assertThat(instant(hint.get("first_seen_at"))).isEqualTo(first);
    assertThat(instant(hint.get("last_seen_at"))).isEqualTo(clock.instant());
  }

  @Test
  void aNewEventMakesAFailingHintDueAgainAtOnce() {
    deliver("pull_request", pullRequestPayload("synchronize", 5));
    // The refresh lane tried it three times and is backing off.
    jdbi.useHandle(
        h ->
            h.execute(
                "update refresh_hint set attempts = 3, last_attempt_at = now(),"
                    + " last_error = 'GitHub said 502' where number = 5"));
    clock.advance(Duration.ofSeconds(10));

    deliver("pull_request", pullRequestPayload("synchronize", 5));

    Map<String, Object> hint = hints().get(0);
    assertThat(hint.get("count")).isEqualTo(2);
    assertThat(hint.get("attempts")).isEqualTo(0);
    assertThat(hint.get("last_attempt_at")).isNull();
    assertThat(hint.get("last_error")).isNull();
    assertThat(instant(hint.get("last_seen_at"))).isEqualTo(clock.instant());
  }

  @Test
  void repositoriesAreMatchedCaseInsensitively() {
    WebhookResult result =
        deliver("pull_request", pullRequestPayload("synchronize", "OCTOCAT", "hello-world", 1, 2));

    assertThat(result.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(result.repositoryId()).contains(repositoryId);
    assertThat(hints()).hasSize(1);
  }

  @Test
  void aRenamedRepositoryIsFoundByItsGitHubIdOnceKnown() {
    jdbi.useHandle(
        h -> h.execute("update repository set github_id = 1296269 where id = ?", repositoryId));

    WebhookResult result =
        deliver(
            "pull_request", pullRequestPayload("synchronize", "octocat", "Renamed", 1296269, 3));

    assertThat(result.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(result.repositoryId()).contains(repositoryId);
  }

  @ParameterizedTest
  @ValueSource(strings = {"opened", "closed", "reopened"})
  void openingOrClosingAlsoMarksTheRepositoryDirty(String action) {
    long seq = (Long) syncState().get("fetch_request_seq");

    WebhookResult result = deliver("pull_request", pullRequestPayload(action, 8));

    assertThat(result.markedDirty()).isTrue();
    Map<String, Object> state = syncState();
    assertThat(state.get("dirty")).isEqualTo(true);
    assertThat(instant(state.get("dirty_since"))).isEqualTo(clock.instant());
    assertThat(state.get("fetch_request_seq")).isEqualTo(seq + 1);
    assertThat(instant(state.get("last_requested_fetch_at"))).isEqualTo(clock.instant());
    assertThat(hints())
        .singleElement()
        .satisfies(h -> assertThat(h.get("last_action")).isEqualTo(action));

    // A second request while dirty keeps the first dirty_since but still counts.
    Instant dirtySince = clock.instant();
    clock.advance(Duration.ofSeconds(3));
    deliver("pull_request", pullRequestPayload("closed", 9));
    assertThat(instant(syncState().get("dirty_since"))).isEqualTo(dirtySince);
    assertThat(syncState().get("fetch_request_seq")).isEqualTo(seq + 2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"synchronize", "edited", "labeled", "ready_for_review"})
  void otherActionsHintWithoutMarkingDirty(String action) {
    long seq = (Long) syncState().get("fetch_request_seq");

    deliver("pull_request", pullRequestPayload(action, 8));

    assertThat(syncState().get("dirty")).isEqualTo(false);
    assertThat(syncState().get("fetch_request_seq")).isEqualTo(seq);
    assertThat(hints()).hasSize(1);
  }

  @Test
  void aRedeliveryIsRecordedOnce() {
    byte[] body = pullRequestPayload("opened", 11);
    String delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";

    WebhookResult first = deliver("pull_request", delivery, body);
    Map<String, Long> after = rowCounts();
    Map<String, Object> state = syncState();
    clock.advance(Duration.ofMinutes(1));
    WebhookResult again = deliver("pull_request", delivery, body);

    assertThat(first.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(again.outcome()).isEqualTo(WebhookResult.Outcome.DUPLICATE);
    assertThat(again.markedDirty()).isFalse();
    assertThat(rowCounts()).isEqualTo(after);
    assertThat(syncState()).isEqualTo(state);
    assertThat(hints()).singleElement().satisfies(h -> assertThat(h.get("count")).isEqualTo(1));
  }

  @Test
  void aWrongSignatureIsUnauthorizedAndWritesNothing() {
    byte[] body = pullRequestPayload("opened", 12);
    Map<String, Long> before = rowCounts();
    Map<String, Object> state = syncState();

    List<String> bad =
        List.of(
            sign("another secret", body),
            sign(SECRET, pullRequestPayload("opened", 13)),
            sign(SECRET, body).replace("sha256=", "sha1="),
            sign(SECRET, body).substring(0, 40),
            "sha256=zz" + sign(SECRET, body).substring(9),
            "");
    for (String signature : bad) {
      assertThatThrownBy(
              () ->
                  intake.receive(
                      headers("pull_request", UUID.randomUUID().toString(), signature), body))
          .as(signature)
          .isInstanceOf(UnauthorizedException.class)
          .extracting(e -> ((ServiceException) e).httpStatus())
          .isEqualTo(401);
    }
    assertThatThrownBy(() -> intake.receive(headers("pull_request", "d-1", null), body))
        .isInstanceOf(UnauthorizedException.class)
        .hasMessage("missing X-Hub-Signature-256 header");

    assertThat(rowCounts()).isEqualTo(before);
    assertThat(syncState()).isEqualTo(state);
  }

  @Test
  void theSignatureIsCheckedBeforeTheBodyIsParsed() {
    byte[] notJson = "{not json".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> intake.receive(headers("pull_request", "d-2", "sha256=00"), notJson))
        .isInstanceOf(UnauthorizedException.class);
    assertThatThrownBy(() -> deliver("pull_request", notJson))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("webhook body is not valid JSON");
  }

  @Test
  void aBodyOver25MegabytesIsTooLarge() {
    byte[] body = new byte[26 * 1024 * 1024];
    Map<String, Long> before = rowCounts();

    assertThatThrownBy(
            () -> intake.receive(headers("pull_request", "d-3", sign(SECRET, body)), body))
        .isInstanceOf(PayloadTooLargeException.class)
        .extracting(e -> ((ServiceException) e).httpStatus())
        .isEqualTo(413);
    assertThatThrownBy(() -> WebhookIntake.checkContentLength(body.length))
        .isInstanceOf(PayloadTooLargeException.class);
    WebhookIntake.checkContentLength(WebhookIntake.MAX_BODY_BYTES);
    assertThat(rowCounts()).isEqualTo(before);
  }

  @Test
  void otherEventsAreAcceptedAndIgnoredButStillDeduped() {
    byte[] push =
        ("{\"ref\":\"refs/heads/main\",\"before\":\"0d1a\",\"after\":\"6dcb\","
                + "\"repository\":{\"id\":1296269,\"name\":\"Hello-World\","
                + "\"full_name\":\"Octocat/Hello-World\",\"owner\":{\"login\":\"Octocat\"}},"
                + "\"sender\":{\"login\":\"monalisa\"}}")
            .getBytes(StandardCharsets.UTF_8);
    byte[] ping =
        "{\"zen\":\"Keep it logically awesome.\",\"hook_id\":1}".getBytes(StandardCharsets.UTF_8);

    WebhookResult pushed = deliver("push", "push-1", push);
    WebhookResult pinged = deliver("ping", "ping-1", ping);
    WebhookResult again = deliver("push", "push-1", push);

    assertThat(pushed.outcome()).isEqualTo(WebhookResult.Outcome.IGNORED);
    assertThat(pushed.reason()).isEqualTo("event push ignored");
    assertThat(pinged.outcome()).isEqualTo(WebhookResult.Outcome.IGNORED);
    assertThat(again.outcome()).isEqualTo(WebhookResult.Outcome.DUPLICATE);
    assertThat(hints()).isEmpty();
    assertThat(syncState().get("last_webhook_at")).isNull();
    assertThat(deliveries())
        .extracting(d -> d.get("delivery_id"), d -> d.get("outcome"))
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("push-1", "ignored"),
            org.assertj.core.groups.Tuple.tuple("ping-1", "ignored"));
  }

  @Test
  void untrackedRepositoriesAreIgnored() {
    WebhookResult result =
        deliver("pull_request", pullRequestPayload("opened", "someone", "else", 99, 1));

    assertThat(result.outcome()).isEqualTo(WebhookResult.Outcome.IGNORED);
    assertThat(result.reason()).isEqualTo("repository someone/else is not tracked");
    assertThat(result.repositoryId()).isEmpty();
    assertThat(hints()).isEmpty();
    assertThat(deliveries())
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.get("repository_id")).isNull();
              assertThat(d.get("repository_full_name")).isEqualTo("someone/else");
              assertThat(d.get("outcome")).isEqualTo("ignored");
            });
  }

  @Test
  void withoutASecretIntakeIsSwitchedOff() {
    WebhookIntake off = new WebhookIntake(jdbi, DbTime.injected(clock), Optional.empty());
    byte[] body = pullRequestPayload("opened", 1);

    assertThat(off.enabled()).isFalse();
    assertThatThrownBy(() -> off.receive(headers("pull_request", "d-4", sign(SECRET, body)), body))
        .isInstanceOf(NotConfiguredException.class)
        .extracting(e -> ((ServiceException) e).httpStatus())
        .isEqualTo(403);
  }

  @Test
  void malformedDeliveriesAreBadInput() {
    byte[] body = pullRequestPayload("opened", 1);
    Map<String, String> noEvent = headers("pull_request", "d-5", sign(SECRET, body));
    noEvent.remove("x-github-event");
    Map<String, String> noDelivery = headers("pull_request", "d-5", sign(SECRET, body));
    noDelivery.remove("x-github-delivery");
    byte[] noNumber =
        "{\"action\":\"opened\",\"repository\":{\"full_name\":\"Octocat/Hello-World\"}}"
            .getBytes(StandardCharsets.UTF_8);
    byte[] badName =
        "{\"action\":\"opened\",\"number\":1,\"repository\":{\"full_name\":\"Octo cat/x\"}}"
            .getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> intake.receive(noEvent, body))
        .isInstanceOf(BadInputException.class)
        .hasMessage("missing X-GitHub-Event header");
    assertThatThrownBy(() -> intake.receive(noDelivery, body))
        .isInstanceOf(BadInputException.class)
        .hasMessage("missing X-GitHub-Delivery header");
    assertThatThrownBy(() -> deliver("pull_request", noNumber))
        .isInstanceOf(BadInputException.class)
        .hasMessage("pull_request event without a valid number");
    assertThatThrownBy(() -> deliver("pull_request", badName))
        .isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> deliver("pull_request", "[]".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(BadInputException.class);
    assertThat(deliveries()).isEmpty();
  }

  @Test
  void formEncodedBodiesAreAnUnsupportedMediaType() {
    byte[] body = "payload=%7B%7D".getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = headers("pull_request", "d-6", sign(SECRET, body));
    headers.put("content-type", "application/x-www-form-urlencoded");

    assertThatThrownBy(() -> intake.receive(headers, body))
        .isInstanceOf(UnsupportedMediaTypeException.class)
        .extracting(e -> ((ServiceException) e).httpStatus())
        .isEqualTo(415);
  }

  @Test
  void oldDeliveriesArePruned() {
    deliver("ping", "old", "{}".getBytes(StandardCharsets.UTF_8));
    clock.advance(Duration.ofDays(8));
    deliver("ping", "new", "{}".getBytes(StandardCharsets.UTF_8));

    assertThat(intake.pruneDeliveries(Duration.ofDays(7))).isEqualTo(1);
    assertThat(deliveries()).extracting(d -> d.get("delivery_id")).containsExactly("new");
  }

  @Test
  void intakeItselfPrunesOldDeliveriesAtMostHourly() {
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    com.google.common.base.Ticker ticker =
        new com.google.common.base.Ticker() {
          @Override
          public long read() {
            return nanos.get();
          }
        };
    intake =
        new WebhookIntake(
            jdbi,
            DbTime.injected(clock),
            Optional.of(Secret.of(SECRET)),
            WebhookBudget.forThisJvm(),
            ticker);
    byte[] ping = "{}".getBytes(StandardCharsets.UTF_8);
    deliver("ping", "old", ping);
    clock.advance(WebhookIntake.DELIVERY_RETENTION.plusDays(1));
    deliver("ping", "within-the-hour", ping);
    assertThat(deliveries()).as("pruned at the first delivery, not again yet").hasSize(2);

    nanos.addAndGet(WebhookIntake.PRUNE_EVERY.toNanos());
    deliver("ping", "an-hour-later", ping);

    assertThat(deliveries())
        .extracting(d -> d.get("delivery_id"))
        .containsExactlyInAnyOrder("within-the-hour", "an-hour-later");
  }
}
