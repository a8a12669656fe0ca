package dev.changesync.cli;

import dev.changesync.engine.service.LeaseEvent;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.PullFiles;
import dev.changesync.engine.service.PullStatus;
import dev.changesync.engine.service.RecoveryResult;
import dev.changesync.engine.service.ReleasedLease;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.service.WorkerList;
import dev.changesync.lease.LeaseState;
import dev.changesync.migrations.MigrationResult;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The human output of every command. Instants show as RFC 3339 UTC with a relative time next to
 * them; relative times are measured from the answer's own "now" where it has one (lease and worker
 * lists: the clock that decided their state), else from the {@code now} passed in.
 */
final class Formats {

  private Formats() {}

  // --- repository status ------------------------------------------------------------------------

  static String status(RepositoryStatus s, Instant now) {
    Labels t = new Labels();
    t.add("Repository", s.fullName() + " (id " + s.repositoryId() + ")");
    t.add("Backfill", s.backfillMode().value() + ", priority " + s.backfillPriority());
    t.add(
        "Dirty",
        s.dirty()
            ? "yes" + s.dirtySince().map(d -> ", since " + Times.stamp(d, now)).orElse("")
            : "no");
    t.add(
        "Open PRs",
        s.openPrTotal()
            + " total: "
            + s.openPrCurrent()
            + " current, "
            + s.openPrStale()
            + " stale, "
            + s.openPrMissing()
            + " missing");
    t.add(
        "Backfill cursor",
        s.openPrCursorNumber()
            .map(
                n ->
                    "#"
                        + n
                        + s.openPrCursorUpdatedAt()
                            .map(u -> ", updated " + Times.absolute(u))
                            .orElse(""))
            .orElse(null));
    t.add("Pending refreshes", Long.toString(s.pendingRefreshCount()));
    t.add("Phase", s.phase().value() + (s.converged() ? ", converged" : ", not converged"));
    t.add("Last error", s.lastError().map(Formats::oneLine).orElse(null));
    t.add(
        "Not found on GitHub",
        s.githubNotFoundAt()
            .map(at -> Times.stamp(at, now) + "; not retried until tracked again or fetched")
            .orElse(null));
    t.add("Fetch backoff", RepoFormats.backoff(s.fetchFailureCount(), s.fetchNextAttemptAt(), now));
    t.add(
        "Refresh backoff",
        RepoFormats.backoff(s.refreshFailureCount(), s.refreshNextAttemptAt(), now));
    t.add(
        "Backfill backoff",
        RepoFormats.backoff(s.backfillFailureCount(), s.backfillNextAttemptAt(), now));
    t.add("GitHub rate limit", rateLimit(s.githubRateLimitRemaining(), s.githubRateLimitResetAt()));
    t.gap();
    t.add("Last webhook", Times.stamp(s.lastWebhookAt(), now));
    t.add("Last requested fetch", Times.stamp(s.lastRequestedFetchAt(), now));
    t.add("Last fetch started", Times.stamp(s.lastFetchStartedAt(), now));
    t.add("Last fetch finished", Times.stamp(s.lastFetchFinishedAt(), now));
    t.add("Last successful fetch", Times.stamp(s.lastSuccessfulFetchAt(), now));
    t.add("Last open-PR scan", Times.stamp(s.lastOpenPrScanAt(), now));
    t.add("Last backfill started", Times.stamp(s.lastBackfillStartedAt(), now));
    t.add("Last backfill finished", Times.stamp(s.lastBackfillFinishedAt(), now));
    lane(
        t,
        "Fetch",
        s.fetchInProgress(),
        s.fetchLeaseOwnerId(),
        s.fetchLeaseToken(),
        s.fetchLeaseHeartbeatAt(),
        s.fetchLeaseExpiresAt(),
        now);
    lane(
        t,
        "Refresh",
        s.refreshInProgress(),
        s.refreshLeaseOwnerId(),
        s.refreshLeaseToken(),
        s.refreshLeaseHeartbeatAt(),
        s.refreshLeaseExpiresAt(),
        now);
    lane(
        t,
        "Backfill",
        s.backfillInProgress(),
        s.backfillLeaseOwnerId(),
        s.backfillLeaseToken(),
        s.backfillLeaseHeartbeatAt(),
        s.backfillLeaseExpiresAt(),
        now);
    return t.render();
  }

  private static void lane(
      Labels t,
      String lane,
      boolean held,
      Optional<String> owner,
      Optional<Long> token,
      Optional<Instant> heartbeatAt,
      Optional<Instant> expiresAt,
      Instant now) {
    t.gap();
    t.add(lane + " lease", laneState(held, owner));
    t.sub("Owner", owner.orElse(null));
    t.sub("Token", token.map(String::valueOf).orElse(null));
    t.sub("Heartbeat", Times.stamp(heartbeatAt, now));
    t.sub("Expires", Times.stamp(expiresAt, now));
  }

  /** {@code held} (in progress), {@code stale} (an owner, but not held), or {@code free}. */
  static String laneState(boolean held, Optional<String> owner) {
    if (held) {
      return "held";
    }
    return owner.isPresent() ? "stale" : "free";
  }

  // --- pull requests ----------------------------------------------------------------------------

  static String pullStatus(PullStatus p, Instant now) {
    Labels t = new Labels();
    t.add("Pull request", p.fullName() + "#" + p.number());
    t.gap();
    if (p.inventory().isPresent()) {
      PullStatus.Inventory i = p.inventory().get();
      t.add("Inventory", i.freshness());
      t.sub("Title", i.title().map(Formats::oneLine).orElse(null));
      t.sub("Draft", yesNo(i.draft()));
      t.sub("Head", i.headSha());
      t.sub("Base", i.baseRef() + " at " + i.baseSha());
      t.sub("Updated on GitHub", Times.stamp(i.updatedAt(), now));
      t.sub("Snapshot head", i.snapshotHeadSha().orElse(null));
      t.sub("Snapshot base", i.snapshotBaseSha().orElse(null));
      t.sub("Snapshot indexed", Times.stamp(i.snapshotIndexedAt(), now));
      t.sub("Last error", i.lastError().map(Formats::oneLine).orElse(null));
      t.sub("First seen", Times.stamp(i.firstSeenAt(), now));
      t.sub("Last seen", Times.stamp(i.lastSeenAt(), now));
    } else {
      t.add("Inventory", "not in the open-PR inventory (closed, or not scanned yet)");
    }
    t.gap();
    if (p.snapshot().isPresent()) {
      PullStatus.SnapshotSummary s = p.snapshot().get();
      t.add("Snapshot", s.state() + (s.merged() ? ", merged" : "") + (s.draft() ? ", draft" : ""));
      t.sub("Head", s.headSha());
      t.sub("Base", s.baseRef() + " at " + s.baseSha());
      t.sub(
          "Files",
          s.changedFiles()
              + " changed, "
              + s.filesStored()
              + " stored"
              + (s.filesTruncated() ? " (truncated: GitHub lists at most 3,000)" : ""));
      t.sub("Hunks", Integer.toString(s.hunksStored()));
      t.sub("Lines", "+" + s.additions() + " -" + s.deletions());
      t.sub("Indexed", Times.stamp(s.indexedAt(), now));
    } else {
      t.add("Snapshot", "none yet");
    }
    t.gap();
    if (p.pendingRefresh().isPresent()) {
      PullStatus.PendingRefresh h = p.pendingRefresh().get();
      t.add(
          "Pending refresh",
          h.count() + (h.count() == 1 ? " webhook" : " webhooks")
              + h.lastAction().map(a -> ", last " + a).orElse(""));
      t.sub("First seen", Times.stamp(h.firstSeenAt(), now));
      t.sub("Last seen", Times.stamp(h.lastSeenAt(), now));
      t.sub("Attempts", Integer.toString(h.attempts()));
      t.sub("Last error", h.lastError().map(Formats::oneLine).orElse(null));
    } else {
      t.add("Pending refresh", "none");
    }
    return t.render();
  }

  static String pullFiles(PullFiles f, boolean hunks) {
    int additions = f.files().stream().mapToInt(PullFiles.File::additions).sum();
    int deletions = f.files().stream().mapToInt(PullFiles.File::deletions).sum();
    StringBuilder out = new StringBuilder();
    out.append(f.fullName())
        .append('#')
        .append(f.number())
        .append(" at ")
        .append(f.headSha())
        .append(": ")
        .append(f.files().size())
        .append(f.files().size() == 1 ? " file" : " files")
        .append(", +")
        .append(additions)
        .append(" -")
        .append(deletions);
    if (f.filesTruncated()) {
      out.append(" (truncated: the pull request changed ")
          .append(f.changedFiles())
          .append(" files; GitHub lists at most 3,000)");
    }
    out.append('\n');
    if (f.files().isEmpty()) {
      return out.toString();
    }
    Columns table = new Columns("STATUS", "ADDED", "DELETED", "HUNKS", "PATH");
    for (PullFiles.File file : f.files()) {
      table.row(
          file.status(),
          "+" + file.additions(),
          "-" + file.deletions(),
          file.patch().isPresent() ? Integer.toString(file.hunks().size()) : "no patch",
          file.path() + file.previousPath().map(p -> " (from " + p + ")").orElse(""));
    }
    out.append('\n').append(table.render());
    if (hunks) {
      for (PullFiles.File file : f.files()) {
        if (file.hunks().isEmpty()) {
          continue;
        }
        out.append('\n').append(file.path()).append('\n');
        for (PullFiles.Hunk h : file.hunks()) {
          out.append("  @@ -")
              .append(h.oldStart())
              .append(',')
              .append(h.oldCount())
              .append(" +")
              .append(h.newStart())
              .append(',')
              .append(h.newCount())
              .append(" @@\n");
        }
      }
    }
    return out.toString();
  }

  // --- leases, events, workers --------------------------------------------------------------------

  static String leases(LeaseList list, boolean staleOnly) {
    if (list.leases().isEmpty()) {
      return staleOnly ? "No stale leases.\n" : "No leases are held.\n";
    }
    Instant now = list.now();
    Columns table =
        new Columns(
            "RESOURCE", "REPOSITORY", "LANE", "OWNER", "TOKEN", "STATE", "HEARTBEAT", "EXPIRES");
    for (LeaseList.Entry l : list.leases()) {
      table.row(
          l.resource(),
          l.repository().orElse(null),
          l.lane(),
          l.ownerId(),
          Long.toString(l.token()),
          l.state().name().toLowerCase(Locale.ROOT),
          Times.relative(l.heartbeatAt(), now),
          Times.relative(l.expiresAt(), now));
    }
    long stale = list.leases().stream().filter(l -> l.state() == LeaseState.STALE).count();
    return table.render()
        + "\n"
        + count(list.leases().size(), "lease")
        + (staleOnly ? "" : " (" + stale + " stale)")
        + " at "
        + Times.absolute(now)
        + "\n";
  }

  static String events(List<LeaseEvent> events, Instant now) {
    if (events.isEmpty()) {
      return "No lease events.\n";
    }
    Columns table =
        new Columns(
            "ID",
            "AT",
            "AGE",
            "RESOURCE",
            "LANE",
            "KIND",
            "OWNER",
            "TOKEN",
            "PREVIOUS OWNER",
            "PREVIOUS TOKEN",
            "DETAIL");
    for (LeaseEvent e : events) {
      table.row(
          Long.toString(e.id()),
          Times.absolute(e.at()),
          Times.relative(e.at(), now),
          e.resource(),
          e.lane(),
          e.kind(),
          e.ownerId().orElse(null),
          e.token().map(String::valueOf).orElse(null),
          e.previousOwnerId().orElse(null),
          e.previousToken().map(String::valueOf).orElse(null),
          e.detail().map(Formats::oneLine).orElse(null));
    }
    return table.render();
  }

  /** {@code 42 requests left, full again at <time>}, or null when no worker has seen one. */
  private static String rateLimit(Optional<Integer> remaining, Optional<Instant> resetAt) {
    return remaining
        .map(
            left ->
                left
                    + " requests left"
                    + resetAt.map(at -> ", full again at " + Times.absolute(at)).orElse(""))
        .orElse(null);
  }

  static String workers(WorkerList list) {
    return workerTable(list) + githubCredentials(list);
  }

  /** Each GitHub credential's rate limit as the workers last saw it; nothing when none is known. */
  static String githubCredentials(WorkerList list) {
    if (list.githubCredentials().isEmpty()) {
      return "";
    }
    Instant now = list.now();
    Columns table = new Columns("GITHUB CREDENTIAL", "LEFT", "LIMIT", "RESETS", "SEEN", "STATE");
    for (dev.changesync.engine.service.GitHubCredential c : list.githubCredentials()) {
      table.row(
          c.credential(),
          Integer.toString(c.remaining()),
          Integer.toString(c.limit()),
          Times.absolute(c.resetAt()),
          Times.relative(c.seenAt(), now),
          c.secondaryUntil().filter(now::isBefore).isPresent()
              ? "secondary limit until " + Times.absolute(c.secondaryUntil().get())
              : c.exhaustedAt(now) ? "used up: its repositories wait" : "ok");
    }
    return "\n" + table.render();
  }

  private static String workerTable(WorkerList list) {
    if (list.workers().isEmpty()) {
      return "No workers have registered.\n";
    }
    Instant now = list.now();
    Columns table =
        new Columns(
            "WORKER",
            "HOST",
            "PID",
            "VERSION",
            "STARTED",
            "LAST SEEN",
            "STATE",
            "LIVENESS",
            "GITHUB LEFT");
    for (WorkerList.Entry w : list.workers()) {
      table.row(
          w.ownerId(),
          w.host().orElse(null),
          Long.toString(w.pid()),
          w.version().orElse(null),
          Times.relative(w.startedAt(), now),
          Times.relative(w.lastSeenAt(), now),
          w.stoppedAt().isPresent()
              ? "stopped " + Times.relative(w.stoppedAt().get(), now)
              : w.alive() ? "alive" : "gone",
          w.livenessTracked() ? "lock" : "last seen",
          w.githubRateLimitRemaining()
              .map(
                  left ->
                      left
                          + w.githubRateLimitResetAt()
                              .map(at -> " (reset " + Times.absolute(at) + ")")
                              .orElse(""))
              .orElse(null));
    }
    long alive = list.workers().stream().filter(WorkerList.Entry::alive).count();
    return table.render()
        + "\n"
        + count(list.workers().size(), "worker")
        + " ("
        + alive
        + " alive) at "
        + Times.absolute(now)
        + "\n";
  }

  // --- operations -------------------------------------------------------------------------------

  static String released(ReleasedLease r, Instant now) {
    Labels t = new Labels();
    t.add("Released", r.resource() + " " + r.lane());
    t.add("Previous owner", r.previousOwnerId());
    t.add("Previous token", Long.toString(r.previousToken()));
    t.add("Claimed", Times.stamp(r.claimedAt(), now));
    t.add("Heartbeat", Times.stamp(r.heartbeatAt(), now));
    t.add("Would expire", Times.stamp(r.expiresAt(), now));
    t.add("Released by", r.releasedBy());
    return t.render()
        + "\nThe token moved on: if "
        + r.previousOwnerId()
        + " is still running, its next heartbeat or guarded write fails.\n";
  }

  static String recovered(RecoveryResult r) {
    StringBuilder out = new StringBuilder();
    out.append("Recovery pass as ")
        .append(r.recoveredBy())
        .append(" freed ")
        .append(count(r.total(), "lease"));
    if (!r.countsByLane().isEmpty()) {
      out.append(" (")
          .append(
              new TreeMap<>(r.countsByLane())
                  .entrySet().stream()
                      .map(Map.Entry::toString)
                      .map(e -> e.replace('=', ' '))
                      .collect(Collectors.joining(", ")))
          .append(')');
    }
    out.append(".\n");
    if (!r.freed().isEmpty()) {
      Columns table = new Columns("RESOURCE", "LANE", "OWNER", "TOKEN", "REASON");
      for (RecoveryResult.Freed f : r.freed()) {
        table.row(
            f.resource(),
            f.lane(),
            f.ownerId(),
            Long.toString(f.token()),
            f.reason().toLowerCase(Locale.ROOT).replace('_', ' '));
      }
      out.append('\n').append(table.render());
    }
    return out.toString();
  }

  static String installationTracked(
      dev.changesync.engine.service.InstallationTracking.TrackedInstallation t) {
    StringBuilder out =
        new StringBuilder("GitHub App installation ")
            .append(t.installationId())
            .append(": ")
            .append(t.repositories())
            .append(t.repositories() == 1 ? " repository" : " repositories")
            .append(" tracked and kept current\n");
    out.append("Newly tracked: ")
        .append(t.added().isEmpty() ? "none" : String.join(", ", t.added()))
        .append('\n');
    if (!t.removed().isEmpty()) {
      out.append("Untracked (no longer in the installation): ")
          .append(String.join(", ", t.removed()))
          .append('\n');
    }
    return out.toString();
  }

  static String backfillConfigured(RepositoryStatus s, Instant now) {
    return s.fullName()
        + ": backfill "
        + s.backfillMode().value()
        + ", priority "
        + s.backfillPriority()
        + "; fetch requested"
        + s.lastRequestedFetchAt().map(at -> " at " + Times.stamp(at, now)).orElse("")
        + ".\n";
  }

  static String fetchRequested(RepositoryStatus s, Instant now) {
    return s.fullName()
        + ": fetch requested"
        + s.lastRequestedFetchAt().map(at -> " at " + Times.stamp(at, now)).orElse("")
        + s.dirtySince().map(d -> "; dirty since " + Times.absolute(d)).orElse("")
        + ".\n";
  }

  static String migrated(MigrationResult r, String where) {
    if (!r.changed()) {
      return "The schema of " + where + " is current (version " + r.schemaVersion() + ").\n";
    }
    return "Migrated "
        + where
        + " from "
        + r.previousVersion().map(v -> "version " + v).orElse("an empty schema")
        + " to version "
        + r.schemaVersion()
        + " (applied "
        + String.join(", ", r.appliedVersions())
        + ").\n";
  }

  // ---------------------------------------------------------------------------------------------

  static String count(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }

  private static String yesNo(boolean b) {
    return b ? "yes" : "no";
  }

  /** Multi-line text (errors, titles) on one line. */
  static String oneLine(String s) {
    return s.strip().replaceAll("\\s*\\R\\s*", " ");
  }
}
