package dev.changesync.engine.github;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * Maps GitHub's JSON to the value records, tolerantly: unknown fields are ignored, fields GitHub
 * has retired or leaves out ({@code merge_commit_sha}, {@code draft}, counts) are optional, and
 * {@code null} counts as absent. Fields changesync cannot do without are required; their absence
 * is a {@link Malformed}.
 */
final class GitHubJson {

  /** A response that does not have the shape GitHub documents. */
  static final class Malformed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message);
    }
  }

  private GitHubJson() {}

  static GhRepository repository(JsonNode n) {
    object(n, "repository");
    String owner = text(n.path("owner"), "owner.login", "login");
    String name = text(n, "name");
    return new GhRepository(
        longValue(n, "id"),
        owner,
        name,
        optionalText(n, "full_name").orElse(owner + "/" + name),
        text(n, "default_branch"));
  }

  static GhPullSummary pullSummary(JsonNode n) {
    object(n, "pull request");
    JsonNode head = ref(n, "head");
    JsonNode base = ref(n, "base");
    return new GhPullSummary(
        longValue(n, "id"),
        intValue(n, "number"),
        text(n, "state"),
        optionalBoolean(n, "draft").orElse(false),
        optionalText(n, "title").orElse(""),
        text(head, "head.sha", "sha"),
        text(head, "head.ref", "ref"),
        text(base, "base.sha", "sha"),
        text(base, "base.ref", "ref"),
        instant(n, "updated_at"));
  }

  static GhPull pull(JsonNode n) {
    GhPullSummary s = pullSummary(n);
    boolean merged =
        optionalBoolean(n, "merged").orElseGet(() -> optionalText(n, "merged_at").isPresent());
    return new GhPull(
        s.id(),
        s.number(),
        s.state(),
        merged,
        s.draft(),
        s.title(),
        s.headSha(),
        s.headRef(),
        s.baseSha(),
        s.baseRef(),
        optionalText(n, "merge_commit_sha"),
        optionalInt(n, "changed_files"),
        optionalInt(n, "additions"),
        optionalInt(n, "deletions"),
        s.updatedAt());
  }

  static GhFile file(JsonNode n) {
    object(n, "file");
    return new GhFile(
        text(n, "filename"),
        optionalText(n, "previous_filename"),
        text(n, "status"),
        optionalInt(n, "additions"),
        optionalInt(n, "deletions"),
        optionalInt(n, "changes"),
        optionalText(n, "sha"),
        optionalText(n, "patch"));
  }

  static GhComparison comparison(JsonNode n) {
    object(n, "comparison");
    JsonNode mergeBase = ref(n, "merge_base_commit");
    return new GhComparison(
        text(mergeBase, "merge_base_commit.sha", "sha"),
        optionalText(n, "status").orElse(""),
        optionalInt(n, "ahead_by"),
        optionalInt(n, "behind_by"));
  }

  private static void object(JsonNode n, String what) {
    if (n == null || !n.isObject()) {
      throw new Malformed("expected a " + what + " object, got " + kind(n));
    }
  }

  private static JsonNode ref(JsonNode n, String field) {
    JsonNode ref = n.get(field);
    if (ref == null || !ref.isObject()) {
      throw new Malformed("missing object '" + field + "'");
    }
    return ref;
  }

  private static String text(JsonNode n, String field) {
    return text(n, field, field);
  }

  private static String text(JsonNode n, String label, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isTextual()) {
      throw new Malformed("missing text '" + label + "' (got " + kind(v) + ")");
    }
    return v.textValue();
  }

  private static Optional<String> optionalText(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isTextual() ? Optional.of(v.textValue()) : Optional.empty();
  }

  private static Optional<Boolean> optionalBoolean(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isBoolean() ? Optional.of(v.booleanValue()) : Optional.empty();
  }

  private static long longValue(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new Malformed("missing integer '" + field + "' (got " + kind(v) + ")");
    }
    return v.longValue();
  }

  private static int intValue(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new Malformed("missing integer '" + field + "' (got " + kind(v) + ")");
    }
    return v.intValue();
  }

  private static int optionalInt(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v != null && v.isIntegralNumber() && v.canConvertToInt() ? v.intValue() : 0;
  }

  private static Instant instant(JsonNode n, String field) {
    String text = text(n, field);
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      throw new Malformed("'" + field + "' is not a timestamp: " + abbreviate(text));
    }
  }

  private static String kind(JsonNode v) {
    return v == null || v.isMissingNode() ? "nothing" : v.getNodeType().toString().toLowerCase();
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
