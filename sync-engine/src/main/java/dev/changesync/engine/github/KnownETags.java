package dev.changesync.engine.github;

import java.util.Optional;

/**
 * The validators a caller stored with data it got from GitHub: the client asks it, per request,
 * for the one of that URL and credential, and sends its {@code ETag} as {@code If-None-Match}.
 * A 304 then means "unchanged since the response you stored".
 */
@FunctionalInterface
public interface KnownETags {

  /** Knows nothing: every request is unconditional (apart from the client's in-memory cache). */
  KnownETags NONE = (credential, url) -> Optional.empty();

  /** The validator stored for {@code GET url} made with {@code credential}, if any. */
  Optional<Validator> find(String credential, String url);
}
