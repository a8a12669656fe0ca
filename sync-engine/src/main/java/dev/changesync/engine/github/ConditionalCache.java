package dev.changesync.engine.github;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;

/**
 * The bodies of earlier 200 responses with their {@code ETag}, so that a request can be made
 * conditional and a 304 answered from here. Keyed by the credential's identity (a hash or an
 * installation id, never a token) and the URL: what one credential was shown is never served to
 * another, and one credential never sends another's {@code ETag}. Bounded by the bytes it holds,
 * least recently used first out.
 */
final class ConditionalCache {

  /** A cached response. */
  record Entry(String etag, byte[] body, String link) {}

  private record Key(String credential, String url) {}

  private final Cache<Key, Entry> entries;

  ConditionalCache(long maxBytes) {
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

  Entry get(String credential, String url) {
    return entries.getIfPresent(new Key(credential, url));
  }

  void put(String credential, String url, Entry entry) {
    entries.put(new Key(credential, url), entry);
  }

  void remove(String credential, String url) {
    entries.invalidate(new Key(credential, url));
  }

  long size() {
    return entries.size();
  }

  private static int saturate(long weight) {
    return (int) Math.min(Integer.MAX_VALUE, weight);
  }
}
