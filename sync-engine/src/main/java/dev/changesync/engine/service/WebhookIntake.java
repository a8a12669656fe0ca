package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.common.base.Ticker;
import dev.changesync.engine.config.Secret;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.engine.repo.WorkSignal;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GitHub webhook intake (SPEC §3 "Webhooks"). Fast and local — no GitHub calls: it records what
 * happened and leaves the work to the refresh and fetch lanes.
 *
 * <p>In order: refuse when no webhook secret is configured ({@link NotConfiguredException}); refuse
 * bodies over {@value #MAX_BODY_BYTES} bytes ({@link PayloadTooLargeException}); verify {@code
 * X-Hub-Signature-256} — {@code sha256=} and the hex HMAC-SHA256 of the raw body, compared in
 * constant time — <em>before</em> parsing anything ({@link UnauthorizedException}, nothing
 * written). A body handed over as a stream (the HTTP route) is streamed through the HMAC and kept
 * only within a {@link WebhookBudget} of bytes in flight ({@link OverloadedException}, 503, when
 * full; see {@link VerifiedBody}), so unauthenticated bodies cannot exhaust the heap. Then refuse
 * non-JSON bodies ({@link UnsupportedMediaTypeException}); then, in one
 * transaction, dedupe on {@code X-GitHub-Delivery} (a redelivery is answered {@link
 * WebhookResult.Outcome#DUPLICATE} and writes nothing) and record the delivery.
 *
 * <p>A {@code pull_request} event of a tracked repository (matched by GitHub's repository id once
 * known, else by name, case-insensitively) records {@code last_webhook_at} and upserts the pull
 * request's refresh hint (first-seen kept, last-seen now, count + 1, last action, and its failed
 * attempts forgotten: news of the pull request is a reason to try it again at once); {@code opened},
 * {@code closed} and {@code reopened} also mark the repository dirty. Every action hints: the
 * refresh lane compares heads and bases, so an action that changed nothing costs one conditional
 * request. An {@code installation_repositories} event of a GitHub App installation tracked in full
 * tracks the repositories added to it and untracks those removed ({@link InstallationTracking}).
 * Other events and untracked repositories are recorded and ignored.
 */
public final class WebhookIntake {

  private static final Logger log = LoggerFactory.getLogger(WebhookIntake.class);

  /** Largest body accepted: 25 MB, GitHub's own cap on webhook payloads. */
  public static final long MAX_BODY_BYTES = 25L * 1024 * 1024;

  static final String SIGNATURE_HEADER = "X-Hub-Signature-256";
  static final String EVENT_HEADER = "X-GitHub-Event";
  static final String DELIVERY_HEADER = "X-GitHub-Delivery";

  private static final String SIGNATURE_PREFIX = "sha256=";
  private static final Set<String> DIRTYING_ACTIONS = Set.of("opened", "closed", "reopened");
  private static final int MAX_TEXT = 300;

  private final Jdbi jdbi;
  private final DbTime time;
  private final Optional<Secret> secret;
  private final ObjectMapper json;
  private final WebhookBudget budget;
  private final InstallationTracking installations;
  private final Ticker ticker;
  private final AtomicLong nextPruneAt = new AtomicLong(); // ticker nanos; 0: at once

  /**
   * @param secret the webhook secret; empty switches intake off (every call is refused, 403)
   */
  public WebhookIntake(Jdbi jdbi, DbTime time, Optional<Secret> secret) {
    this(jdbi, time, secret, WebhookBudget.forThisJvm());
  }

  /**
   * @param secret the webhook secret; empty switches intake off (every call is refused, 403)
   * @param budget the bytes of streamed bodies that may be held at once
   */
  public WebhookIntake(Jdbi jdbi, DbTime time, Optional<Secret> secret, WebhookBudget budget) {
    this(jdbi, time, secret, budget, Ticker.systemTicker());
  }

  WebhookIntake(
      Jdbi jdbi, DbTime time, Optional<Secret> secret, WebhookBudget budget, Ticker ticker) {
    this.ticker = requireNonNull(ticker, "ticker");
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
    this.secret = requireNonNull(secret, "secret");
    this.budget = requireNonNull(budget, "budget");
    this.installations = new AdminService(jdbi, time).installations();
    // A body may be 25 MB; let one string in it be as long (Jackson's default cap is 20 M chars).
    this.json =
        new JsonMapper(
            JsonFactory.builder()
                .streamReadConstraints(
                    StreamReadConstraints.builder().maxStringLength((int) MAX_BODY_BYTES).build())
                .build());
  }

  /** True when a webhook secret is configured. */
  public boolean enabled() {
    return secret.isPresent();
  }

  /** The budget of bytes that streamed bodies in flight may hold. */
  public WebhookBudget budget() {
    return budget;
  }

  /**
   * For adapters, before reading a body: refuses a declared {@code Content-Length} over the limit.
   */
  public static void checkContentLength(long contentLength) {
    if (contentLength > MAX_BODY_BYTES) {
      throw tooLarge(contentLength);
    }
  }

  /**
   * Takes one delivery whose body is already in memory.
   *
   * @param headers the request headers (names matched case-insensitively)
   * @param body the raw body, exactly as received: the signature is over these bytes
   */
  public WebhookResult receive(Map<String, String> headers, byte[] body) {
    requireNonNull(headers, "headers");
    Secret key = key();
    if (body == null) {
      throw new BadInputException("webhook body is missing");
    }
    if (body.length > MAX_BODY_BYTES) {
      throw tooLarge(body.length);
    }
    Map<String, String> header = caseInsensitive(headers);
    byte[] presented = presentedSignature(header.get(SIGNATURE_HEADER));
    if (!MessageDigest.isEqual(hmacSha256(key, body), presented)) {
      throw new UnauthorizedException(SIGNATURE_HEADER + " does not match the body");
    }
    return accept(header, new ByteArrayInputStream(body));
  }

  /**
   * Takes one delivery, reading its body from {@code body} in one pass: the signature header's
   * shape is checked before the first byte is read (401), the body is streamed through the HMAC and
   * kept only within {@link #budget()} (503 with a retry-after when the budget cannot cover it, see
   * {@link OverloadedException}), and a body whose signature does not match is dropped at the end
   * of its stream (401) before anything parses it. The stream is read, not closed.
   *
   * @param headers the request headers (names matched case-insensitively)
   * @param contentLength the declared {@code Content-Length}, empty for a chunked body
   */
  public WebhookResult receive(
      Map<String, String> headers, OptionalLong contentLength, InputStream body) {
    requireNonNull(headers, "headers");
    requireNonNull(contentLength, "contentLength");
    requireNonNull(body, "body");
    Secret key = key();
    if (contentLength.isPresent()) {
      checkContentLength(contentLength.getAsLong());
    }
    Map<String, String> header = caseInsensitive(headers);
    byte[] presented = presentedSignature(header.get(SIGNATURE_HEADER));
    try (VerifiedBody verified =
        VerifiedBody.read(body, contentLength, hmacSha256(key), presented, budget)) {
      return accept(header, verified.stream());
    }
  }

  private Secret key() {
    return secret.orElseThrow(
        () ->
            new NotConfiguredException(
                "webhook intake is off: no webhook secret is configured"
                    + " (CHANGESYNC_WEBHOOK_SECRET)"));
  }

  private static Map<String, String> caseInsensitive(Map<String, String> headers) {
    Map<String, String> header = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    headers.forEach(
        (name, value) -> {
          if (name != null && value != null) {
            header.put(name, value);
          }
        });
    return header;
  }

  /** After the signature matched: content type, delivery headers, payload, then the record. */
  private WebhookResult accept(Map<String, String> header, InputStream body) {
    checkJson(header.get("Content-Type"));
    String event = requiredHeader(header, EVENT_HEADER);
    String deliveryId = requiredHeader(header, DELIVERY_HEADER);
    if (!deliveryId.matches("[A-Za-z0-9._:-]{1,200}")) {
      throw new BadInputException(
          "invalid " + DELIVERY_HEADER + " '" + Inputs.printable(deliveryId) + "'");
    }
    JsonNode payload;
    try {
      payload = json.readTree(body);
    } catch (JacksonException e) {
      throw new BadInputException("webhook body is not valid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new BadInputException("webhook body could not be read", e);
    }
    if (payload == null || !payload.isObject()) {
      throw new BadInputException("webhook body is not a JSON object");
    }
    Delivery delivery = Delivery.of(deliveryId, event, payload);
    WebhookResult result = Database.call(() -> jdbi.inTransaction(h -> record(h, delivery, payload)));
    pruneNowAndThen();
    return result;
  }

  /** How often intake prunes deliveries older than {@link #DELIVERY_RETENTION}. */
  static final Duration PRUNE_EVERY = Duration.ofHours(1);

  /** How long deliveries are kept for dedupe: GitHub redelivers within days. */
  public static final Duration DELIVERY_RETENTION = Duration.ofDays(7);

  /**
   * Prunes old deliveries on the first delivery and then at most every {@link #PRUNE_EVERY}: the
   * process that takes webhooks in keeps their table bounded, whatever its role (workers prune too,
   * with their housekeeping). Best effort: a failure is logged and retried on a later delivery.
   */
  private void pruneNowAndThen() {
    long now = ticker.read();
    long due = nextPruneAt.get();
    if ((due != 0 && now - due < 0) || !nextPruneAt.compareAndSet(due, now + PRUNE_EVERY.toNanos())) {
      return;
    }
    try {
      pruneDeliveries(DELIVERY_RETENTION);
    } catch (RuntimeException e) {
      log.warn("pruning webhook deliveries failed: {}", e.toString());
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** What intake needs from one delivery. */
  private record Delivery(
      String deliveryId,
      String event,
      Optional<String> action,
      Optional<Long> githubRepositoryId,
      Optional<String> fullName,
      Optional<RepoName> repoName,
      Optional<Integer> number) {

    static Delivery of(String deliveryId, String event, JsonNode payload) {
      Optional<String> action = text(payload.path("action"));
      JsonNode repository = payload.path("repository");
      Optional<String> fullName = text(repository.path("full_name"));
      if (fullName.isEmpty()) {
        Optional<String> owner = text(repository.path("owner").path("login"));
        Optional<String> name = text(repository.path("name"));
        if (owner.isPresent() && name.isPresent()) {
          fullName = Optional.of(owner.get() + "/" + name.get());
        }
      }
      Optional<Long> githubId =
          repository.path("id").canConvertToLong() && repository.path("id").isIntegralNumber()
              ? Optional.of(repository.path("id").longValue())
              : Optional.empty();
      if (!event.equals("pull_request")) {
        return new Delivery(
            deliveryId, event, action, githubId, fullName, Optional.empty(), Optional.empty());
      }
      // A pull_request event we act on: its fields must be there and make sense.
      if (fullName.isEmpty()) {
        throw new BadInputException("pull_request event without repository.full_name");
      }
      RepoName repoName;
      try {
        repoName = RepoName.parse(fullName.get());
      } catch (IllegalArgumentException e) {
        throw new BadInputException("pull_request event names " + e.getMessage(), e);
      }
      JsonNode numberNode = payload.path("number");
      if (numberNode.isMissingNode()) {
        numberNode = payload.path("pull_request").path("number");
      }
      if (!numberNode.isIntegralNumber()
          || !numberNode.canConvertToInt()
          || numberNode.intValue() < 1) {
        throw new BadInputException("pull_request event without a valid number");
      }
      return new Delivery(
          deliveryId,
          event,
          action,
          githubId,
          fullName,
          Optional.of(repoName),
          Optional.of(numberNode.intValue()));
    }

    private static Optional<String> text(JsonNode node) {
      if (!node.isTextual() || node.textValue().isEmpty()) {
        return Optional.empty();
      }
      String value = node.textValue();
      return Optional.of(value.length() > MAX_TEXT ? value.substring(0, MAX_TEXT) : value);
    }
  }

  private static final String FIND_REPOSITORY =
      """
      select id, owner, name from repository
       where github_id = :github_id
          or (lower(owner) = lower(:owner) and lower(name) = lower(:name))
       order by (github_id is not distinct from :github_id) desc
       limit 1
      """;

  private static final String INSERT_DELIVERY =
      """
      insert into webhook_delivery (delivery_id, event, action, received_at, repository_id,
                                    repository_full_name, number, outcome)
      values (:delivery_id, :event, :action, %s, :repository_id, :full_name, :number, :outcome)
      on conflict (delivery_id) do nothing
      """
          .formatted(DbTime.NOW);

  private static final String RECORD_WEBHOOK =
      "update repository_sync_state set last_webhook_at = %s where repository_id = :id"
          .formatted(DbTime.NOW);

  private static final String UPSERT_HINT =
      """
      insert into refresh_hint as h (repository_id, number, first_seen_at, last_seen_at, count,
                                     last_action)
      values (:id, :number, %1$s, %1$s, 1, :action)
      on conflict (repository_id, number) do update
         set last_seen_at = excluded.last_seen_at,
             count = h.count + 1,
             last_action = excluded.last_action,
             attempts = 0,
             last_attempt_at = null,
             last_error = null
      """
          .formatted(DbTime.NOW);

  private WebhookResult record(Handle h, Delivery d, JsonNode payload) {
    Optional<Repositories.Repo> repo = Optional.empty();
    if (d.repoName().isPresent()) {
      RepoName name = d.repoName().get();
      repo =
          h.createQuery(FIND_REPOSITORY)
              .bind("github_id", d.githubRepositoryId().orElse(null))
              .bind("owner", name.owner())
              .bind("name", name.name())
              .map(
                  (rs, ctx) ->
                      new Repositories.Repo(
                          rs.getLong("id"),
                          RepoName.of(rs.getString("owner"), rs.getString("name")),
                          d.githubRepositoryId()))
              .findOne();
    }
    boolean hint = repo.isPresent();
    int inserted =
        time.bind(h.createUpdate(INSERT_DELIVERY))
            .bind("delivery_id", d.deliveryId())
            .bind("event", truncate(d.event()))
            .bind("action", d.action().orElse(null))
            .bind("repository_id", repo.map(Repositories.Repo::id).orElse(null))
            .bind("full_name", d.fullName().orElse(null))
            .bind("number", d.number().orElse(null))
            .bind("outcome", hint ? "hinted" : "ignored")
            .execute();
    if (inserted == 0) {
      return result(
          d,
          WebhookResult.Outcome.DUPLICATE,
          "delivery " + d.deliveryId() + " was already received",
          repo,
          false);
    }
    if (d.event().equals("installation_repositories")) {
      // Repositories added to or removed from an installation tracked in full.
      return installations
          .applyWebhook(h, payload)
          .map(
              changed ->
                  result(
                      d,
                      WebhookResult.Outcome.ACCEPTED,
                      "installation "
                          + changed.installationId()
                          + ": "
                          + changed.added().size()
                          + " repositories tracked, "
                          + changed.removed().size()
                          + " untracked",
                      Optional.empty(),
                      false))
          .orElseGet(
              () ->
                  result(
                      d,
                      WebhookResult.Outcome.IGNORED,
                      "installation is not tracked in full",
                      Optional.empty(),
                      false));
    }
    if (!d.event().equals("pull_request")) {
      return result(
          d, WebhookResult.Outcome.IGNORED, "event " + d.event() + " ignored", repo, false);
    }
    if (repo.isEmpty()) {
      return result(
          d,
          WebhookResult.Outcome.IGNORED,
          "repository " + d.fullName().orElse("?") + " is not tracked",
          repo,
          false);
    }
    long id = repo.get().id();
    time.bind(h.createUpdate(RECORD_WEBHOOK)).bind("id", id).execute();
    time.bind(h.createUpdate(UPSERT_HINT))
        .bind("id", id)
        .bind("number", d.number().orElseThrow())
        .bind("action", d.action().orElse(null))
        .execute();
    WorkSignal.send(h, Lanes.REFRESH);
    boolean dirty = d.action().map(DIRTYING_ACTIONS::contains).orElse(false);
    if (dirty) {
      FetchRequests.markDirty(h, time, id);
    }
    return result(
        d,
        WebhookResult.Outcome.ACCEPTED,
        dirty ? "refresh hint recorded, repository marked dirty" : "refresh hint recorded",
        repo,
        dirty);
  }

  private static WebhookResult result(
      Delivery d,
      WebhookResult.Outcome outcome,
      String reason,
      Optional<Repositories.Repo> repo,
      boolean dirty) {
    return new WebhookResult(
        outcome,
        reason,
        d.deliveryId(),
        d.event(),
        d.action(),
        repo.map(Repositories.Repo::id),
        repo.map(r -> r.name().fullName()).or(d::fullName),
        d.number(),
        dirty);
  }

  /**
   * Deletes delivery records (kept for dedupe) received more than {@code keepFor} ago. GitHub
   * redelivers within days; a week is a safe retention. Returns how many were deleted.
   */
  public int pruneDeliveries(Duration keepFor) {
    requireNonNull(keepFor, "keepFor");
    return Database.call(
        () ->
            jdbi.withHandle(
                h ->
                    time.bind(h.createUpdate(PRUNE_DELIVERIES))
                        .bind("keep_us", keepFor.toNanos() / 1_000)
                        .execute()));
  }

  private static final String PRUNE_DELIVERIES =
      "delete from webhook_delivery where received_at < %s - :keep_us * interval '1 microsecond'"
          .formatted(DbTime.NOW);

  // ---------------------------------------------------------------------------------------------

  /**
   * The signature {@code header} presents: {@code sha256=} and 64 hex digits, else a 401 — decided
   * from the header alone, before any body is read.
   */
  private static byte[] presentedSignature(String header) {
    if (header == null || header.isBlank()) {
      throw new UnauthorizedException("missing " + SIGNATURE_HEADER + " header");
    }
    String value = header.strip();
    String hex = value.substring(Math.min(value.length(), SIGNATURE_PREFIX.length()));
    if (!value.regionMatches(true, 0, SIGNATURE_PREFIX, 0, SIGNATURE_PREFIX.length())
        || !hex.matches("[0-9a-fA-F]{64}")) {
      throw new UnauthorizedException(
          "malformed "
              + SIGNATURE_HEADER
              + " header: expected sha256=<64 hex digits of HMAC-SHA256>");
    }
    return HexFormat.of().parseHex(hex.toLowerCase(Locale.ROOT));
  }

  /** HMAC-SHA256 of {@code body} keyed with {@code key}: what GitHub signs with. */
  static byte[] hmacSha256(Secret key, byte[] body) {
    return hmacSha256(key).doFinal(body);
  }

  /** A fresh HMAC-SHA256 keyed with {@code key}, to feed a streamed body through. */
  private static Mac hmacSha256(Secret key) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key.bytes(), "HmacSHA256"));
      return mac;
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is always available", e);
    }
  }

  private static void checkJson(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return; // GitHub always sends one; tolerate clients that do not
    }
    String mediaType = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/json") && !mediaType.endsWith("+json")) {
      throw new UnsupportedMediaTypeException(
          "webhook content type "
              + Inputs.printable(mediaType)
              + " is not supported: configure the webhook with content type application/json");
    }
  }

  private static String requiredHeader(Map<String, String> header, String name) {
    String value = header.get(name);
    if (value == null || value.isBlank()) {
      throw new BadInputException("missing " + name + " header");
    }
    return value.strip();
  }

  private static String truncate(String s) {
    return s.length() > MAX_TEXT ? s.substring(0, MAX_TEXT) : s;
  }

  /** A body of unknown length (chunked) went past the limit. */
  static PayloadTooLargeException tooLarge() {
    return new PayloadTooLargeException(
        "webhook body is over the limit of " + MAX_BODY_BYTES + " bytes (25 MB)");
  }

  private static PayloadTooLargeException tooLarge(long bytes) {
    return new PayloadTooLargeException(
        "webhook body of "
            + bytes
            + " bytes is over the limit of "
            + MAX_BODY_BYTES
            + " bytes (25 MB)");
  }
}
