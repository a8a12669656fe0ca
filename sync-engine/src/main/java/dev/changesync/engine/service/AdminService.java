package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import org.jdbi.v3.core.Jdbi;

/**
 * Operator actions on repositories: tracking and configuring backfill, requesting a fetch. Both
 * mark the repository dirty, so the fetch lane picks it up (SPEC §3).
 *
 * <p>Tracking happens only here, through {@link #configureBackfill}: a fetch request for an
 * untracked repository is a {@link NotFoundException}, so a typo cannot start syncing a repository
 * nobody asked for.
 */
public final class AdminService {

  private final Jdbi jdbi;
  private final DbTime time;
  private final Repositories repositories;
  private final StatusService status;

  public AdminService(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
    this.repositories = new Repositories(jdbi, time);
    this.status = new StatusService(jdbi, time);
  }

  /**
   * Tracks {@code name} if it is new (its GitHub id is resolved by the first fetch), sets its
   * backfill mode and priority, and marks it dirty. Returns its status afterwards.
   */
  public RepositoryStatus configureBackfill(RepoName name, BackfillMode mode, int priority) {
    requireNonNull(name, "name");
    requireNonNull(mode, "mode");
    return Database.call(
        () ->
            jdbi.inTransaction(
                h -> {
                  Repositories.Repo repo = repositories.track(h, name);
                  h.createUpdate(
                          "update repository_sync_state set backfill_mode = :mode,"
                              + " backfill_priority = :priority where repository_id = :id")
                      .bind("mode", mode.value())
                      .bind("priority", priority)
                      .bind("id", repo.id())
                      .execute();
                  FetchRequests.markDirty(h, time, repo.id());
                  return status.repositoryStatus(h, name).orElseThrow();
                }));
  }

  /**
   * Requests a fetch of {@code name}: marks it dirty. {@link NotFoundException} when it is not
   * tracked. Returns its status afterwards.
   */
  public RepositoryStatus requestFetch(RepoName name) {
    requireNonNull(name, "name");
    return Database.call(
        () ->
            jdbi.inTransaction(
                h -> {
                  Repositories.Repo repo = StatusService.tracked(h, name);
                  FetchRequests.markDirty(h, time, repo.id());
                  return status.repositoryStatus(h, name).orElseThrow();
                }));
  }
}
