package dev.changesync.cli;

import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.LeaseEvent;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.PullFiles;
import dev.changesync.engine.service.PullStatus;
import dev.changesync.engine.service.RecoveryResult;
import dev.changesync.engine.service.ReleasedLease;
import dev.changesync.engine.service.RepositoryList;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.UntrackedRepository;
import dev.changesync.engine.service.InstallationTracking;
import dev.changesync.engine.service.WorkerList;
import java.util.List;
import java.util.Optional;

/**
 * Where the commands' answers come from: a running server's HTTP API ({@link HttpBackend}) or the
 * database itself through sync-engine's services ({@link DatabaseBackend}). Both give the same
 * records and the same JSON for the same data.
 *
 * <p>Failures are {@link dev.changesync.engine.service.ServiceException}s (not found, bad input,
 * ...) as the services throw them or as the server's status codes say, or {@link CliException}s
 * that say what could not be reached.
 */
interface Backend extends AutoCloseable {

  Answer<RepositoryStatus> repositoryStatus(RepoName name);

  Answer<PullStatus> pullStatus(RepoName name, int number);

  Answer<PullFiles> pullFiles(RepoName name, int number);

  /** Every owned lease, or only the stale ones. */
  Answer<LeaseList> leases(boolean staleOnly);

  /** The newest events; the JSON is the API's {@code {"events": [...]}}. */
  Answer<List<LeaseEvent>> events(Optional<String> resource, int limit);

  Answer<WorkerList> workers();

  /**
   * Manual release: bumps the token so the holder is fenced off; recorded as done by {@code
   * actor}. Admin.
   */
  Answer<ReleasedLease> release(String resource, String lane, String actor);

  /** Runs the recovery pass. Admin. */
  Answer<RecoveryResult> recover();

  /** Tracks the repository and configures its backfill; marks it dirty. Admin. */
  Answer<RepositoryStatus> configureBackfill(RepoName name, BackfillMode mode, int priority);

  /**
   * Tracks every repository GitHub App installation {@code installationId} can see and keeps the
   * set current. Admin.
   */
  Answer<InstallationTracking.TrackedInstallation> trackInstallation(
      long installationId, BackfillMode mode, int priority);

  /** Requests a fetch (marks the repository dirty). Admin. */
  Answer<RepositoryStatus> requestFetch(RepoName name);

  /** A page of the tracked repositories, in name order, after {@code after}. */
  Answer<RepositoryList> repositories(int limit, Optional<RepoName> after);

  /** Stops tracking the repository and removes its data; recorded as done by {@code actor}. Admin. */
  Answer<UntrackedRepository> untrack(RepoName name, String actor);

  /** What the answers come from, for messages: the server URL or the redacted database URL. */
  String describe();

  @Override
  void close();
}
