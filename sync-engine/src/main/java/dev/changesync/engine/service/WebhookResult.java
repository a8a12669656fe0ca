package dev.changesync.engine.service;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;
import java.util.Optional;

/**
 * What webhook intake did with a delivery. Every outcome is a success for GitHub (HTTP 2xx):
 * refusals are exceptions.
 *
 * @param reason why, in a few words ("refresh hint recorded", "event ping ignored", ...)
 * @param markedDirty the repository was marked dirty (opened, closed, reopened)
 */
public record WebhookResult(
    Outcome outcome,
    String reason,
    String deliveryId,
    String event,
    Optional<String> action,
    Optional<Long> repositoryId,
    Optional<String> fullName,
    Optional<Integer> number,
    boolean markedDirty) {

  /** What happened. */
  public enum Outcome {
    /** A refresh hint was recorded for the pull request. */
    ACCEPTED,
    /** The delivery id was seen before (a redelivery): nothing was written. */
    DUPLICATE,
    /** Recorded for dedupe, nothing else: another event, or an untracked repository. */
    IGNORED;

    @JsonValue
    public String value() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
