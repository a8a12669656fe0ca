package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

/**
 * What a caller keeps of one GitHub response so that a later request — from any process — can be
 * made conditional: the URL (with its query), whose credential asked (an identity such as {@code
 * token:<hash prefix>}, {@code installation:<app>:<id>} or {@code anonymous}, never a secret) and
 * the response's {@code ETag}.
 *
 * @param credential the identity of the credential that made the request
 * @param url the request URL, query included
 * @param etag the response's {@code ETag}; null when it carried none (a stored one must then be
 *     forgotten: it no longer stands for the stored data)
 * @param nextUrl for a page of a listing, the next page the listing went on to; null for the last
 *     page consumed and for single objects
 * @param items for a page of a listing, how many items it held; 0 for single objects
 */
public record Validator(String credential, String url, String etag, String nextUrl, int items) {

  public Validator {
    requireNonNull(credential, "credential");
    requireNonNull(url, "url");
  }
}
