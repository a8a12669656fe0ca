package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.Conditional;
import dev.changesync.engine.github.GhRepository;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.repo.RepoName;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Handle;

/**
 * The fetch lane: a complete scan of a repository's open PRs (SPEC §3).
 *
 * <p>Transactions, each a guarded write: one at the start (started-at, and the fetch request
 * sequence the pass answers), one to record GitHub's repository id on the first fetch, one per page
 * of the listing (the page's inventory rows), and a final one — only when the listing completed —
 * that deletes the rows of PRs no longer open, recounts, stamps the scan and clears the dirty flag
 * if no fetch was requested since the pass started. The lease release lands finished-at and the
 * backoff reset.
 *
 * <p>A page is written and dropped before the next is requested, so a repository with thousands of
 * open PRs never has to fit in memory; only the set of PR numbers seen is kept, for the deletion.
 * The fetch lane never requests single PRs or files: rebuilding snapshots is the backfill's and the
 * refresh's work. A page GitHub answers 304 costs no rate limit. The listing is conditional on the
 * ETags stored ({@link ETagStore}) by the last complete scan — by any worker, in any process: when
 * GitHub confirms all of them the scan writes no row (see {@link #run}).
 */
final class FetchLane {

  private final GitHub github;
  private final SyncState state;
  private final Inventory inventory;
  private final ETagStore etags;

  FetchLane(GitHub github, SyncState state, Inventory inventory, ETagStore etags) {
    this.github = requireNonNull(github, "github");
    this.state = requireNonNull(state, "state");
    this.inventory = requireNonNull(inventory, "inventory");
    this.etags = requireNonNull(etags, "etags");
  }

  private record Start(SyncState.RepoRow repo, long requestSeq, Instant startedAt) {}

  String run(Pass pass) {
    long id = pass.repositoryId();
    Start start =
        pass.write(
            h -> {
              SyncState.RepoRow repo = state.repository(h, id);
              long seq =
                  h.createQuery(
                          "select fetch_request_seq from repository_sync_state"
                              + " where repository_id = :id for no key update")
                      .bind("id", id)
                      .mapTo(Long.class)
                      .one();
              state
                  .time()
                  .bind(
                      h.createUpdate(
                          "update repository_sync_state set fetch_pass_seq = :seq,"
                              + " last_fetch_started_at = %s where repository_id = :id"
                                  .formatted(DbTime.NOW)))
                  .bind("seq", seq)
                  .bind("id", id)
                  .execute();
              return new Start(repo, seq, state.now(h));
            });
    RepoName name = start.repo().name();

    if (start.repo().githubId().isEmpty()) {
      pass.checkpoint();
      GhRepository resolved = github.repository(name.owner(), name.name());
      pass.write(h -> recordGitHubId(h, id, name, resolved));
    }

    Set<Integer> seen = new HashSet<>();
    AtomicReference<RuntimeException> stoppedBy = new AtomicReference<>();
    pass.checkpoint();
    Conditional<GitHub.ListingStats> listing =
        github.openPulls(
            name.owner(),
            name.name(),
            etags.known(id),
            page -> {
              try {
                pass.checkpoint();
                pass.write(
                    h -> {
                      inventory.upsertListed(h, id, page);
                      return null;
                    });
                page.forEach(pull -> seen.add(pull.number()));
                return true;
              } catch (RuntimeException e) {
                // Stop listing; rethrown below, whatever the client does with a consumer's error.
                stoppedBy.set(e);
                return false;
              }
            });
    if (stoppedBy.get() != null) {
      throw stoppedBy.get();
    }
    pass.checkpoint();
    // Unchanged: GitHub answered 304 to the stored ETag of every page of the listing stored last
    // time (see GitHub#openPulls with KnownETags), and those ETags were stored only in the final
    // transaction of a complete scan, after its rows were written and the unlisted ones deleted.
    // So the inventory already holds this listing: nothing is upserted or deleted, and the scan
    // still counts as a successful one. A partly unchanged listing (page 1 the same, page 3 not)
    // is listed in full: the rows of a page answered 304 are not known without its body, and the
    // deletion of unlisted rows needs every open PR.
    boolean unchanged = listing instanceof Conditional.Unchanged;

    int deleted =
        pass.write(
            h -> {
              if (!state.lockState(h, id)) {
                return 0;
              }
              int gone = unchanged ? 0 : inventory.deleteUnlisted(h, id, seen, start.startedAt());
              state.recount(h, id);
              if (unchanged) {
                etags.confirm(h, listing.validators());
              } else {
                etags.store(h, id, listing.validators());
              }
              etags.pruneOlderThan(h, id, ETagStore.MAX_AGE);
              state
                  .time()
                  .bind(
                      h.createUpdate(
                          """
                          update repository_sync_state
                             set last_open_pr_scan_at = %1$s, last_successful_fetch_at = %1$s,
                                 dirty = case when fetch_request_seq = :seq then false
                                              else dirty end,
                                 dirty_since = case when fetch_request_seq = :seq then null
                                                    else dirty_since end
                           where repository_id = :id
                          """
                              .formatted(DbTime.NOW)))
                  .bind("seq", start.requestSeq())
                  .bind("id", id)
                  .execute();
              return gone;
            });
    if (listing instanceof Conditional.Changed<GitHub.ListingStats> changed) {
      GitHub.ListingStats stats = changed.value();
      return "%d open PRs in %d pages (%d not modified), %d rows deleted"
          .formatted(seen.size(), stats.pages(), stats.notModifiedPages(), deleted);
    }
    return "open PRs unchanged (%d pages not modified)".formatted(listing.validators().size());
  }

  /**
   * Records GitHub's id of the repository, and GitHub's spelling of its name when it differs only
   * in case (names are case-insensitive; a rename is left to the operator).
   */
  private Void recordGitHubId(Handle h, long id, RepoName name, GhRepository resolved) {
    boolean sameName =
        resolved.owner() != null
            && resolved.name() != null
            && resolved.owner().equalsIgnoreCase(name.owner())
            && resolved.name().equalsIgnoreCase(name.name());
    h.createUpdate(
            """
            update repository
               set github_id = :github_id,
                   owner = case when :same_name then :owner else owner end,
                   name = case when :same_name then :name else name end
             where id = :id
            """)
        .bind("github_id", resolved.id())
        .bind("same_name", sameName)
        .bind("owner", sameName ? resolved.owner() : name.owner())
        .bind("name", sameName ? resolved.name() : name.name())
        .bind("id", id)
        .execute();
    return null;
  }
}
