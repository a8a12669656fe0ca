package dev.changesync.engine.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The registered worker processes, most recently seen first, as of {@code now} (database time),
 * and the rate limit of each GitHub credential the workers read with, by credential.
 */
public record WorkerList(
    Instant now, List<Entry> workers, List<GitHubCredential> githubCredentials) {

  public WorkerList {
    workers = List.copyOf(workers);
    githubCredentials = githubCredentials == null ? List.of() : List.copyOf(githubCredentials);
  }

  /**
   * One worker process start.
   *
   * @param ownerId {@code <worker-name>:<incarnation>}, as on its leases
   * @param livenessTracked whether it holds a liveness lock (then {@code alive} is exact)
   * @param alive its liveness lock is held, or — without one — it was seen recently and did not
   *     stop
   * @param githubRateLimitRemaining GitHub requests left in the window, as this worker last saw
   * @param githubRateLimitResetAt when that window ends
   */
  public record Entry(
      String ownerId,
      String workerName,
      String incarnation,
      Optional<String> host,
      long pid,
      Optional<String> version,
      Instant startedAt,
      Instant lastSeenAt,
      Optional<Instant> stoppedAt,
      boolean livenessTracked,
      boolean alive,
      Optional<Integer> githubRateLimitRemaining,
      Optional<Instant> githubRateLimitResetAt) {}
}
