package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.KnownETags;
import dev.changesync.engine.github.Validator;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The GitHub ETags the lanes keep in {@code github_etag}: of responses whose data is stored, keyed
 * by URL and credential identity, so that any worker — also right after a restart — asks GitHub
 * conditionally and an unchanged object costs no rate limit.
 *
 * <p><b>Only with the data.</b> {@link #store} runs in the transaction that writes the data the
 * validators stand for; a validator is never stored for data that was not (a failed pass, a
 * snapshot refused because a newer one is stored). A response without an {@code ETag} deletes the
 * stored one for its URL: the stored data moved on, and an old {@code ETag} matching again later
 * must not pass for it. {@link #confirm} moves {@code confirmed_at} of validators GitHub confirmed.
 *
 * <p><b>Bounded.</b> Rows go with their repository (untracking deletes it, and they cascade), and
 * {@link #pruneOlderThan} deletes a repository's rows GitHub has not confirmed for {@link #MAX_AGE}
 * (e.g. those of a rotated token, of closed PRs, of pages a shrunk listing no longer has).
 */
final class ETagStore {

  /** How long a validator is kept without being stored or confirmed again. */
  static final Duration MAX_AGE = Duration.ofDays(14);

  private final Jdbi jdbi;
  private final DbTime time;

  ETagStore(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /** The stored validators of {@code repositoryId}, read one request at a time. */
  KnownETags known(long repositoryId) {
    return (credential, url) ->
        jdbi.withHandle(h -> find(h, repositoryId, credential, url));
  }

  private static Optional<Validator> find(
      Handle h, long repositoryId, String credential, String url) {
    return h.createQuery(
            """
            select etag, next_url, coalesce(items, 0) as items from github_etag
             where credential = :credential and url = :url and repository_id = :repo
            """)
        .bind("credential", credential)
        .bind("url", url)
        .bind("repo", repositoryId)
        .map(
            (rs, ctx) ->
                new Validator(
                    credential, url, rs.getString("etag"), rs.getString("next_url"),
                    rs.getInt("items")))
        .findOne();
  }

  /** Stores {@code validators} with the data they describe, inside the caller's transaction. */
  void store(Handle h, long repositoryId, List<Validator> validators) {
    for (Validator v : validators) {
      if (v.etag() == null) {
        h.createUpdate("delete from github_etag where credential = :credential and url = :url")
            .bind("credential", v.credential())
            .bind("url", v.url())
            .execute();
        continue;
      }
      time.bind(
              h.createUpdate(
                  """
                  insert into github_etag (credential, url, repository_id, etag, next_url, items,
                                           stored_at, confirmed_at)
                  values (:credential, :url, :repo, :etag, :next_url, :items, %1$s, %1$s)
                  on conflict (credential, url) do update set
                         repository_id = excluded.repository_id, etag = excluded.etag,
                         next_url = excluded.next_url, items = excluded.items,
                         stored_at = excluded.stored_at, confirmed_at = excluded.confirmed_at
                  """
                      .formatted(DbTime.NOW)))
          .bind("credential", v.credential())
          .bind("url", v.url())
          .bind("repo", repositoryId)
          .bind("etag", v.etag())
          .bind("next_url", v.nextUrl())
          .bind("items", v.items())
          .execute();
    }
  }

  /** Records that GitHub confirmed {@code validators} (answered 304 to them). */
  void confirm(Handle h, List<Validator> validators) {
    for (Validator v : validators) {
      time.bind(
              h.createUpdate(
                  "update github_etag set confirmed_at = %s"
                          .formatted(DbTime.NOW)
                      + " where credential = :credential and url = :url and etag = :etag"))
          .bind("credential", v.credential())
          .bind("url", v.url())
          .bind("etag", v.etag())
          .execute();
    }
  }

  /** Deletes {@code repositoryId}'s validators not stored or confirmed within {@link #MAX_AGE}. */
  int pruneOlderThan(Handle h, long repositoryId, Duration maxAge) {
    return time.bind(
            h.createUpdate(
                "delete from github_etag where repository_id = :repo"
                    + " and confirmed_at < %s - :max_age_us * interval '1 microsecond'"
                        .formatted(DbTime.NOW)))
        .bind("repo", repositoryId)
        .bind("max_age_us", SyncState.micros(maxAge))
        .execute();
  }
}
