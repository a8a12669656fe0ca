package dev.changesync.engine.github;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;

/**
 * The conditional-request cache of {@link HttpGitHub}: the bodies of earlier 200 responses with
 * their {@code ETag}, so that a GET can be repeated with {@code If-None-Match} and a 304 answered
 * from here.
 *
 * <p>Entries are keyed by the URL <em>and</em> the credential's identity (a hash of a token, or
 * the App installation — never a token itself), so what one credential was shown is never served
 * to another, and one credential never sends another's {@code ETag}. That makes one cache safe to
 * share between clients with different credentials ({@link HttpGitHub.Builder#cache}), under one
 * memory budget. Bounded by the bytes it holds; the least recently used entries go first.
 * Thread-safe.
 */
public final class GitHubCache {

  /** A cached response. */
  record Entry(String etag, byte[] body, String link) {}

  private record Key(String credential, String url) {}

  private final Cache<Key, Entry> entries;
  private final long maxBytes;

  private GitHubCache(long maxBytes) {
    this.maxBytes = maxBytes;
    this.entries =
        CacheBuilder.newBuilder()
            .maximumWeight(maxBytes)
            .weigher(
                (Key k, Entry e) ->
                    saturate(
                        96L
                            + e.body().length
                            + 2L * (k.url().length() + k.credential().length())
                            + 2L * e.etag().length()
                            + (e.link() == null ? 0 : 2L * e.link().length())))
            .build();
  }

  /**
   * A cache holding about {@code maxBytes} of response bodies (and their keys) at most.
   *
   * @throws IllegalArgumentException when {@code maxBytes} is not positive
   */
  public static GitHubCache withMaxBytes(long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("maxBytes must be positive, was " + maxBytes);
    }
    return new GitHubCache(maxBytes);
  }

  /** How many responses are cached (approximately, as evictions may be pending). */
  public long entries() {
    return entries.size();
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Forgets everything. */
  public void clear() {
    entries.invalidateAll();
  }

  Entry get(String credential, String url) {
    return entries.getIfPresent(new Key(credential, url));
  }

  void put(String credential, String url, Entry entry) {
    entries.put(new Key(credential, url), entry);
  }

  void remove(String credential, String url) {
    entries.invalidate(new Key(credential, url));
  }

  private static int saturate(long weight) {
    return (int) Math.min(Integer.MAX_VALUE, weight);
  }

  @Override
  public String toString() {
    return "GitHubCache[entries=" + entries.size() + ", maxBytes=" + maxBytes + "]";
  }
}
