package dev.changesync.cli;

import dev.changesync.engine.service.RepositoryList;
import dev.changesync.engine.service.UntrackedRepository;
import java.time.Instant;
import java.util.Optional;

/** Human output of the repository lifecycle commands: {@code repos}, {@code untrack}. */
final class RepoFormats {

  private RepoFormats() {}

  /** {@code 3 failures, next attempt in 2m}, {@code 1 failure, may run now}, or {@code -}. */
  static String backoff(int failures, Optional<Instant> nextAttemptAt, Instant now) {
    if (failures == 0 && nextAttemptAt.isEmpty()) {
      return null;
    }
    return Formats.count(failures, "failure")
        + nextAttemptAt
            .map(at -> ", next attempt " + Times.stamp(at, now))
            .orElse(", may run now");
  }

  static String repositories(RepositoryList list) {
    if (list.repositories().isEmpty()) {
      return "No repositories are tracked"
          + (list.next().isEmpty() ? "" : " after this point")
          + ". Track one with: changesync backfill OWNER/REPO --mode open_only\n";
    }
    Instant now = list.now();
    Columns table =
        new Columns(
            "REPOSITORY", "MODE", "PRIO", "PHASE", "OPEN PRS", "CURRENT", "STALE", "MISSING",
            "HINTS", "FAILURES", "NEXT RETRY", "LAST ERROR");
    for (RepositoryList.Entry r : list.repositories()) {
      int failures = r.fetchFailureCount() + r.refreshFailureCount() + r.backfillFailureCount();
      table.row(
          r.fullName(),
          r.backfillMode().value(),
          Integer.toString(r.backfillPriority()),
          r.phase().value() + (r.converged() ? " (converged)" : ""),
          Integer.toString(r.openPrTotal()),
          Integer.toString(r.openPrCurrent()),
          Integer.toString(r.openPrStale()),
          Integer.toString(r.openPrMissing()),
          Long.toString(r.pendingRefreshCount()),
          Integer.toString(failures),
          r.githubNotFoundAt().isPresent()
              ? "never (not found on GitHub)"
              : Times.relative(r.nextRetryAt(), now),
          r.lastError().map(e -> cut(Formats.oneLine(e), 80)).orElse(null));
    }
    return table.render()
        + "\n"
        + Formats.count(list.repositories().size(), "repository").replace("repositorys", "repositories")
        + list.next().map(n -> "; more with --after " + n).orElse("")
        + "\n";
  }

  static String untracked(UntrackedRepository u) {
    Labels t = new Labels();
    t.add("Untracked", u.fullName() + " (id " + u.repositoryId() + ")");
    t.add(
        "Removed",
        Formats.count(u.openPrs(), "open PR")
            + ", "
            + Formats.count(u.snapshots(), "snapshot")
            + ", "
            + Formats.count(u.pendingRefreshes(), "pending refresh")
                .replace("refreshs", "refreshes"));
    for (UntrackedRepository.Lease lease : u.leases()) {
      t.add(
          "Lease " + lease.lane(),
          lease.ownerId().isEmpty()
              ? "free"
              : (lease.held() ? "taken from " : "stale, freed from ")
                  + lease.ownerId().get()
                  + " (token "
                  + lease.token().map(String::valueOf).orElse("?")
                  + ")");
    }
    t.add("By", u.actor());
    return t.render();
  }

  private static String cut(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
