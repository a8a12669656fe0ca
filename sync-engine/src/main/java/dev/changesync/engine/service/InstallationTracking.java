package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GhRepository;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubException;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tracking every repository a GitHub App installation can see, and keeping that set current.
 *
 * <p>{@link #track} records the installation in {@code github_installation} (tracks all) and lists
 * its repositories ({@code GET /installation/repositories} with its token): each one not tracked
 * yet is tracked with the given backfill mode and priority and remembers the installation that
 * brought it in ({@code repository.github_installation_id}); a repository tracked already keeps
 * its configuration. The set is kept current by the {@code installation_repositories} webhook
 * ({@link #applyWebhook}: added ones tracked, removed ones untracked) and by a re-list ({@link
 * #relistDue}, from the workers' housekeeping). A repository the installation no longer sees is
 * <b>untracked</b> — with everything stored about it, as {@code DELETE .../repos/{owner}/{repo}}
 * does — but only if that installation brought it in: one tracked by name stays.
 */
public final class InstallationTracking {

  private static final Logger log = LoggerFactory.getLogger(InstallationTracking.class);

  private final Jdbi jdbi;
  private final DbTime time;
  private final Optional<GitHub> github;
  private final Repositories repositories;
  private final AdminService admin;

  /** What a listing or webhook changed. */
  public record TrackedInstallation(
      long installationId, int repositories, List<String> added, List<String> removed) {
    public TrackedInstallation {
      added = List.copyOf(added);
      removed = List.copyOf(removed);
    }
  }

  InstallationTracking(Jdbi jdbi, DbTime time, Optional<GitHub> github, AdminService admin) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
    this.github = requireNonNull(github, "github");
    this.repositories = new Repositories(jdbi, time);
    this.admin = requireNonNull(admin, "admin");
  }

  /**
   * Tracks every repository installation {@code installationId} can see and keeps the set current.
   *
   * @throws BadInputException when the id is not positive
   * @throws NotConfiguredException without GitHub App credentials
   * @throws NotFoundException when GitHub does not know the installation
   * @throws GitHubUnavailableException when GitHub could not list it
   */
  public TrackedInstallation track(long installationId, BackfillMode mode, int priority) {
    requireNonNull(mode, "mode");
    if (installationId <= 0) {
      throw new BadInputException("installation id must be positive, was " + installationId);
    }
    List<GhRepository> listed = list(installationId);
    Database.call(
        () ->
            jdbi.withHandle(
                h ->
                    time.bind(
                            h.createUpdate(
                                """
                                insert into github_installation as i
                                       (installation_id, account, tracks_all, backfill_mode,
                                        backfill_priority, created_at)
                                values (:id, :account, true, :mode, :priority, %s)
                                on conflict (installation_id) do update
                                   set tracks_all = true, backfill_mode = excluded.backfill_mode,
                                       backfill_priority = excluded.backfill_priority,
                                       account = coalesce(excluded.account, i.account)
                                """
                                    .formatted(DbTime.NOW)))
                        .bind("id", installationId)
                        .bind("account", listed.isEmpty() ? null : listed.get(0).owner())
                        .bind("mode", mode.value())
                        .bind("priority", priority)
                        .execute()));
    return apply(installationId, listed);
  }

  /**
   * Lists again every installation tracked in full whose last listing is older than {@code every}
   * (or that was never listed); each is claimed first, so of many workers only one lists it.
   * Returns what changed; an installation that cannot be listed now is logged and skipped.
   */
  public List<TrackedInstallation> relistDue(Duration every) {
    if (github.isEmpty()) {
      return List.of();
    }
    List<Long> due =
        Database.call(
            () ->
                jdbi.withHandle(
                    h ->
                        time.bind(
                                h.createQuery(
                                    """
                                    update github_installation
                                       set repositories_listed_at = %1$s
                                     where tracks_all
                                       and (repositories_listed_at is null
                                            or repositories_listed_at
                                               <= %1$s - :every_us * interval '1 microsecond')
                                    returning installation_id
                                    """
                                        .formatted(DbTime.NOW)))
                            .bind("every_us", every.toNanos() / 1000)
                            .mapTo(Long.class)
                            .list()));
    List<TrackedInstallation> out = new ArrayList<>();
    for (long id : due) {
      try {
        out.add(apply(id, list(id)));
      } catch (ServiceException e) {
        log.warn("could not list the repositories of GitHub App installation {}: {}", id, e.getMessage());
      }
    }
    return out;
  }

  private List<GhRepository> list(long installationId) {
    GitHub client =
        github.orElseThrow(
            () ->
                new NotConfiguredException(
                    "tracking an installation needs GitHub App credentials"
                        + " (CHANGESYNC_GITHUB_APP_ID and CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH)"));
    List<GhRepository> listed = new ArrayList<>();
    try {
      client.installationRepositories(installationId, page -> listed.addAll(page));
    } catch (UnsupportedOperationException | IllegalStateException e) {
      throw new NotConfiguredException(
          "tracking an installation needs GitHub App credentials"
              + " (CHANGESYNC_GITHUB_APP_ID and CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH)",
          e);
    } catch (GitHubException e) {
      if (e.isNotFound()) {
        throw new NotFoundException(
            "GitHub App installation " + installationId + " was not found on GitHub", e);
      }
      throw new GitHubUnavailableException(
          "could not list the repositories of GitHub App installation "
              + installationId
              + ": "
              + e.getMessage(),
          e);
    }
    return listed;
  }

  /** Tracks the listed repositories not tracked yet, untracks the ones it brought in and lost. */
  private TrackedInstallation apply(long installationId, List<GhRepository> listed) {
    Map<String, RepoName> names = new LinkedHashMap<>();
    for (GhRepository r : listed) {
      RepoName name = RepoName.of(r.owner(), r.name());
      names.put(key(name), name);
    }
    TrackedInstallation result =
        Database.call(
            () ->
                jdbi.inTransaction(
                    h -> {
                      List<String> added = new ArrayList<>();
                      for (RepoName name : names.values()) {
                        if (add(h, installationId, name)) {
                          added.add(name.fullName());
                        }
                      }
                      List<String> removed = new ArrayList<>();
                      for (Repositories.Repo repo : broughtIn(h, installationId)) {
                        if (!names.containsKey(key(repo.name()))) {
                          admin.untrack(h, repo, "installation " + installationId);
                          removed.add(repo.name().fullName());
                        }
                      }
                      time.bind(
                              h.createUpdate(
                                  "update github_installation set repositories_listed_at = "
                                      + DbTime.NOW
                                      + " where installation_id = :id"))
                          .bind("id", installationId)
                          .execute();
                      return new TrackedInstallation(
                          installationId, names.size(), added, removed);
                    }));
    log.info(
        "GitHub App installation {}: {} repositories, {} newly tracked, {} untracked",
        installationId,
        result.repositories(),
        result.added().size(),
        result.removed().size());
    return result;
  }

  /**
   * An {@code installation_repositories} delivery, in the webhook's transaction: when the
   * installation is tracked in full, its added repositories are tracked and its removed ones (that
   * it brought in) untracked. Returns what changed, or empty when the installation is not tracked
   * in full.
   *
   * @throws BadInputException when the payload lacks the installation id
   */
  Optional<TrackedInstallation> applyWebhook(Handle h, JsonNode payload) {
    JsonNode id = payload.path("installation").path("id");
    if (!id.isIntegralNumber() || !id.canConvertToLong() || id.longValue() <= 0) {
      throw new BadInputException("installation_repositories event without installation.id");
    }
    long installationId = id.longValue();
    boolean tracked =
        h.createQuery(
                "select tracks_all from github_installation where installation_id = :id")
            .bind("id", installationId)
            .mapTo(Boolean.class)
            .findOne()
            .orElse(false);
    if (!tracked) {
      return Optional.empty();
    }
    List<String> added = new ArrayList<>();
    for (RepoName name : names(payload.path("repositories_added"))) {
      if (add(h, installationId, name)) {
        added.add(name.fullName());
      }
    }
    List<String> removed = new ArrayList<>();
    for (RepoName name : names(payload.path("repositories_removed"))) {
      Optional<Repositories.Repo> repo = Repositories.find(h, name);
      if (repo.isPresent()
          && broughtIn(h, installationId).stream().anyMatch(r -> r.id() == repo.get().id())) {
        admin.untrack(h, repo.get(), "installation " + installationId);
        removed.add(name.fullName());
      }
    }
    return Optional.of(new TrackedInstallation(installationId, -1, added, removed));
  }

  private static List<RepoName> names(JsonNode repositories) {
    List<RepoName> out = new ArrayList<>();
    for (JsonNode r : repositories) {
      String fullName = r.path("full_name").asText("");
      try {
        out.add(RepoName.parse(fullName));
      } catch (IllegalArgumentException e) {
        throw new BadInputException(
            "installation_repositories event names " + e.getMessage(), e);
      }
    }
    return out;
  }

  /** Tracks {@code name} for the installation when it is not tracked yet; true if it was new. */
  private boolean add(Handle h, long installationId, RepoName name) {
    if (Repositories.find(h, name).isPresent()) {
      return false;
    }
    Map<String, Object> config =
        h.createQuery(
                "select backfill_mode, backfill_priority from github_installation"
                    + " where installation_id = :id")
            .bind("id", installationId)
            .mapToMap()
            .findOne()
            .orElse(Map.of());
    Repositories.Repo repo = repositories.track(h, name);
    h.createUpdate("update repository set github_installation_id = :installation where id = :id")
        .bind("installation", installationId)
        .bind("id", repo.id())
        .execute();
    h.createUpdate(
            "update repository_sync_state set backfill_mode = :mode, backfill_priority = :priority"
                + " where repository_id = :id")
        .bind("mode", config.getOrDefault("backfill_mode", BackfillMode.OPEN_ONLY.value()))
        .bind("priority", config.getOrDefault("backfill_priority", 0))
        .bind("id", repo.id())
        .execute();
    FetchRequests.markDirty(h, time, repo.id());
    return true;
  }

  private static List<Repositories.Repo> broughtIn(Handle h, long installationId) {
    return h.createQuery(
            "select id, owner, name, github_id from repository"
                + " where github_installation_id = :id order by id")
        .bind("id", installationId)
        .map(
            (rs, ctx) ->
                new Repositories.Repo(
                    rs.getLong("id"),
                    RepoName.of(rs.getString("owner"), rs.getString("name")),
                    Optional.ofNullable((Long) rs.getObject("github_id"))))
        .list();
  }

  private static String key(RepoName name) {
    return name.fullName().toLowerCase(Locale.ROOT);
  }
}
