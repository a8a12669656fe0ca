package dev.changesync.testkit.github;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * One request {@link FakeGitHub} answered.
 *
 * @param at the fake's clock when the request arrived
 * @param method {@code GET}, {@code POST}, ...
 * @param target the path and query as sent (including any base-path prefix)
 * @param kind what it asked for
 * @param status the status answered
 * @param principal who it was authenticated as: {@code token:<the token>} for a configured token,
 *     {@code installation:<id>} for an installation token, {@code app:<id>} for an app JWT; empty
 *     when authentication failed or was not reached (a fault answered first)
 * @param ifNoneMatch the {@code If-None-Match} header, if sent
 * @param countedAgainstLimit whether it used up one request of the rate limit
 * @param headers the request headers, lower-cased names, without {@code Authorization}
 */
public record RecordedRequest(
    Instant at,
    String method,
    String target,
    RequestKind kind,
    int status,
    Optional<String> principal,
    Optional<String> ifNoneMatch,
    boolean countedAgainstLimit,
    Map<String, String> headers) {

  public RecordedRequest {
    headers = Map.copyOf(headers);
  }

  /** The path without the query string. */
  public String path() {
    int q = target.indexOf('?');
    return q < 0 ? target : target.substring(0, q);
  }
}
