package dev.changesync.engine.repo;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * Tracked repositories: finding them by name (case-insensitively) and tracking new ones. Tracking
 * creates the repository, its sync state and its three (free) lease rows, so that work picking can
 * find them.
 */
public final class Repositories {

  private final Jdbi jdbi;
  private final DbTime time;

  public Repositories(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /** A tracked repository: changesync's id, its name as stored, GitHub's id once resolved. */
  public record Repo(long id, RepoName name, Optional<Long> githubId) {}

  public Optional<Repo> find(RepoName name) {
    return jdbi.withHandle(h -> find(h, name));
  }

  public static Optional<Repo> find(Handle h, RepoName name) {
    return h.createQuery(
            "select id, owner, name, github_id from repository"
                + " where lower(owner) = lower(:owner) and lower(name) = lower(:name)")
        .bind("owner", name.owner())
        .bind("name", name.name())
        .map(
            (rs, ctx) ->
                new Repo(
                    rs.getLong("id"),
                    RepoName.of(rs.getString("owner"), rs.getString("name")),
                    Optional.ofNullable((Long) rs.getObject("github_id"))))
        .findOne();
  }

  /**
   * Tracks {@code name} (idempotent): creates repository, sync state (backfill mode {@code
   * open_only}: mode {@code off} means no work at all) and lease rows when missing.
   * Returns the repository as stored (keeping the first spelling of its name).
   */
  public Repo track(RepoName name) {
    return jdbi.inTransaction(h -> track(h, name));
  }

  public Repo track(Handle h, RepoName name) {
    h.createUpdate(
            "insert into repository (owner, name) values (:owner, :name) on conflict do nothing")
        .bind("owner", name.owner())
        .bind("name", name.name())
        .execute();
    Repo repo = find(h, name).orElseThrow();
    time.bind(
            h.createUpdate(
                "insert into repository_sync_state (repository_id, backfill_mode, dirty,"
                    + " dirty_since, fetch_request_seq, last_requested_fetch_at)"
                    + " values (:id, 'open_only', true, %1$s, 1, %1$s) on conflict do nothing"
                        .formatted(DbTime.NOW)))
        .bind("id", repo.id())
        .execute();
    var batch =
        h.prepareBatch(
            "insert into lease (resource, lane) values (:resource, :lane) on conflict do nothing");
    for (String lane : Lanes.ALL) {
      batch.bind("resource", Lanes.resource(repo.id())).bind("lane", lane).add();
    }
    batch.execute();
    return repo;
  }
}
