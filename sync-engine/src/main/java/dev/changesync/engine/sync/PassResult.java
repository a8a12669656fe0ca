package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.lease.RunOutcome;
import java.time.Duration;

/**
 * What one pass of a lane on a repository did.
 *
 * @param kind why the worker picked it (which also names the lane)
 * @param repositoryId changesync's id of the repository
 * @param outcome how the work under the lease ended, and whether the release landed
 * @param took how long the pass ran, on the worker's ticker
 * @param detail a one-line summary for logs ("250 open PRs in 3 pages ...", or the error)
 */
public record PassResult(
    WorkKind kind, long repositoryId, RunOutcome outcome, Duration took, String detail) {

  public PassResult {
    requireNonNull(kind, "kind");
    requireNonNull(outcome, "outcome");
    requireNonNull(took, "took");
    requireNonNull(detail, "detail");
  }

  public Lane lane() {
    return kind.lane();
  }

  /** True when the work completed (whether or not its release landed). */
  public boolean succeeded() {
    return outcome instanceof RunOutcome.Completed;
  }
}
