package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubException;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator actions on repositories: tracking and configuring backfill, requesting a fetch,
 * untracking. Tracking and fetch requests mark the repository dirty, so the fetch lane picks it up
 * (SPEC §3).
 *
 * <p>Tracking happens only here, through {@link #configureBackfill}: a fetch request for an
 * untracked repository is a {@link NotFoundException}, so a typo cannot start syncing a repository
 * nobody asked for. With a GitHub client, a repository that is not tracked yet is looked up on
 * GitHub first: one GitHub does not know (404 / 410) is a {@link NotFoundException} and nothing is
 * stored; when GitHub cannot answer, a {@link GitHubUnavailableException}.
 */
public final class AdminService {

  private static final Logger log = LoggerFactory.getLogger(AdminService.class);

  private final Jdbi jdbi;
  private final DbTime time;
  private final Optional<GitHub> github;
  private final Repositories repositories;
  private final StatusService status;
  private final InstallationTracking installations;

  /** Without GitHub: new repositories are tracked unchecked. */
  public AdminService(Jdbi jdbi, DbTime time) {
    this(jdbi, time, Optional.empty());
  }

  /**
   * @param github checks that a repository exists before it is first tracked; empty: unchecked
   */
  public AdminService(Jdbi jdbi, DbTime time, Optional<GitHub> github) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
    this.github = requireNonNull(github, "github");
    this.repositories = new Repositories(jdbi, time);
    this.status = new StatusService(jdbi, time);
    this.installations = new InstallationTracking(jdbi, time, github, this);
  }

  /**
   * Tracks every repository GitHub App installation {@code installationId} can see, with {@code
   * mode} and {@code priority} for those not tracked yet, and keeps the set current (see {@link
   * InstallationTracking}).
   */
  public InstallationTracking.TrackedInstallation trackInstallation(
      long installationId, BackfillMode mode, int priority) {
    return installations.track(installationId, mode, priority);
  }

  /** Installations tracked in full: their periodic re-list and their webhooks. */
  public InstallationTracking installations() {
    return installations;
  }

  /**
   * Tracks {@code name} if it is new (checked on GitHub first, when this service has a client; its
   * GitHub id is resolved by the first fetch), sets its backfill mode and priority, clears a "not
   * found on GitHub" stop and marks it dirty. Returns its status afterwards.
   *
   * @throws NotFoundException GitHub says the repository does not exist (nothing was stored)
   * @throws GitHubUnavailableException GitHub could not say (nothing was stored)
   */
  public RepositoryStatus configureBackfill(RepoName name, BackfillMode mode, int priority) {
    requireNonNull(name, "name");
    requireNonNull(mode, "mode");
    if (github.isPresent() && Database.call(() -> repositories.find(name)).isEmpty()) {
      checkOnGitHub(github.get(), name);
    }
    return Database.call(
        () ->
            jdbi.inTransaction(
                h -> {
                  Repositories.Repo repo = repositories.track(h, name);
                  h.createUpdate(
                          "update repository_sync_state set backfill_mode = :mode,"
                              + " backfill_priority = :priority, github_not_found_at = null"
                              + " where repository_id = :id")
                      .bind("mode", mode.value())
                      .bind("priority", priority)
                      .bind("id", repo.id())
                      .execute();
                  FetchRequests.markDirty(h, time, repo.id());
                  return status.repositoryStatus(h, name).orElseThrow();
                }));
  }

  private static void checkOnGitHub(GitHub github, RepoName name) {
    try {
      github.repository(name.owner(), name.name());
    } catch (GitHubException e) {
      if (e.isNotFound()) {
        throw new NotFoundException(
            "repository "
                + name.fullName()
                + " was not found on GitHub (or the configured credentials cannot see it):"
                + " not tracked; for a private repository set CHANGESYNC_GITHUB_TOKEN to a token"
                + " that can read it",
            e);
      }
      throw new GitHubUnavailableException(
          "could not check repository " + name.fullName() + " on GitHub: " + e.getMessage()
              + " — not tracked; try again later",
          e);
    }
  }

  /**
   * Requests a fetch of {@code name}: marks it dirty and lifts the fetch lane's backoff (and a "not
   * found on GitHub" stop), so that the fetch runs at the next poll after the debounce instead of
   * waiting out its retry time. {@link NotFoundException} when it is not tracked. Returns its
   * status afterwards.
   */
  public RepositoryStatus requestFetch(RepoName name) {
    requireNonNull(name, "name");
    return Database.call(
        () ->
            jdbi.inTransaction(
                h -> {
                  Repositories.Repo repo = StatusService.tracked(h, name);
                  h.createUpdate(
                          "update repository_sync_state set fetch_retry_after = null,"
                              + " github_not_found_at = null where repository_id = :id")
                      .bind("id", repo.id())
                      .execute();
                  FetchRequests.markDirty(h, time, repo.id());
                  return status.repositoryStatus(h, name).orElseThrow();
                }));
  }

  private static final String LOCK_LEASES =
      """
      select lane, owner_id, token, owner_id is not null and stale_at > %s as held
        from lease where resource = :resource
       order by lane
         for update
      """
          .formatted(DbTime.NOW);

  /**
   * The event of a lane's lease removed with its repository, from the (locked) lease row: the
   * holder it had, and — when that holding's claim has no event row of its own — its start, so the
   * claim stays in the log (see V3__lease_cycle_events.sql).
   */
  private static final String RECORD_EVENT =
      """
      insert into lease_event (at, resource, lane, kind, owner_id, token,
                               previous_owner_id, previous_token, held_since, detail)
      select %s, resource, lane, 'manually_released', null, null,
             owner_id, case when owner_id is not null then token end,
             case when owner_id is not null and not claim_logged then claimed_at end, :detail
        from lease where resource = :resource and lane = :lane
      """
          .formatted(DbTime.NOW);

  /**
   * Stops tracking {@code name} and removes everything changesync stored about it — sync state,
   * inventory, snapshots with their files and hunks, pending hints and its lease rows — in one
   * transaction. Its lease rows are locked first, so a pass's guarded write in flight finishes
   * before (and every later one, and every heartbeat, fails with "lease lost"). Each lane is
   * recorded as a {@code manually_released} lease event naming {@code actor}. Past lease events and
   * webhook deliveries stay (the deliveries lose their link to the repository).
   *
   * @throws NotFoundException when {@code name} is not tracked
   */
  public UntrackedRepository untrack(RepoName name, String actor) {
    requireNonNull(name, "name");
    if (actor == null || actor.isBlank()) {
      throw new BadInputException("untracking needs an actor");
    }
    UntrackedRepository removed =
        Database.call(
            () -> jdbi.inTransaction(h -> untrack(h, StatusService.tracked(h, name), actor)));
    log.info(
        "untracked {} (repository {}) by {}: {} open PR(s), {} snapshot(s) removed{}",
        removed.fullName(),
        removed.repositoryId(),
        actor,
        removed.openPrs(),
        removed.snapshots(),
        removed.leases().stream().anyMatch(UntrackedRepository.Lease::held)
            ? "; held leases taken from their holders"
            : "");
    return removed;
  }

  /** {@link #untrack(RepoName, String)} of a tracked repository, in the caller's transaction. */
  UntrackedRepository untrack(org.jdbi.v3.core.Handle h, Repositories.Repo repo, String actor) {
    String resource = Lanes.resource(repo.id());
    var leases =
        time.bind(h.createQuery(LOCK_LEASES))
            .bind("resource", resource)
            .map(
                (rs, ctx) ->
                    new UntrackedRepository.Lease(
                        resource,
                        rs.getString("lane"),
                        Rows.optString(rs, "owner_id"),
                        rs.getObject("owner_id") == null
                            ? Optional.empty()
                            : Optional.of(rs.getLong("token")),
                        rs.getBoolean("held")))
            .list();
    long openPrs = count(h, "open_pr", repo.id());
    long snapshots = count(h, "pr_snapshot", repo.id());
    long hints = count(h, "refresh_hint", repo.id());
    String detail =
        "repository " + repo.name().fullName() + " untracked by " + actor;
    for (UntrackedRepository.Lease lease : leases) {
      time.bind(h.createUpdate(RECORD_EVENT))
          .bind("resource", resource)
          .bind("lane", lease.lane())
          .bind("detail", detail)
          .execute();
    }
    h.createUpdate("delete from lease where resource = :resource")
        .bind("resource", resource)
        .execute();
    // Sync state, inventory, snapshots, files, hunks and hints cascade.
    h.createUpdate("delete from repository where id = :id")
        .bind("id", repo.id())
        .execute();
    return new UntrackedRepository(
        repo.id(),
        repo.name().fullName(),
        time.now(h),
        leases,
        openPrs,
        snapshots,
        hints,
        actor);
  }

  private static long count(org.jdbi.v3.core.Handle h, String table, long repositoryId) {
    return h.createQuery("select count(*) from " + table + " where repository_id = :id")
        .bind("id", repositoryId)
        .mapTo(Long.class)
        .one();
  }
}
