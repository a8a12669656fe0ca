package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import com.google.common.base.Ticker;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubException;
import dev.changesync.engine.github.KnownETags;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.LeaseLostException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backfill lane: walks a repository's inventory rows that are not {@code current}, newest first
 * ({@code updated_at desc, number desc}), from the cursor, and rebuilds each PR's snapshot (SPEC
 * §3).
 *
 * <p>Per PR: {@code GET} the PR and its files (and its merge base when head or base moved, see
 * {@link MergeBases}), then one guarded transaction that writes the
 * snapshot, marks the row {@code current} (or deletes it when the PR is no longer open), moves the
 * cursor to the row and recounts. A PR that cannot be rebuilt for a reason of its own ({@link
 * Failure.OfPull}) is marked {@code failed} with a short error and the cursor moves past it; {@link
 * #MAX_CONSECUTIVE_FAILURES} such failures in a row that are not "not found" end the pass as failed
 * (the lane backs off). An infrastructure failure ({@link Failure.OfInfrastructure}: the database,
 * the lease, GitHub 5xx, timeouts, rate limits) ends the pass at once, blaming no PR: the cursor
 * stays before the PR, so the next pass starts with it. The pass
 * stops after the settings' max PRs or max runtime (measured on the worker's ticker), or at a
 * checkpoint; the cursor makes the next pass — on any worker — resume where this one stopped
 * without redoing finished PRs. When no row is left after the cursor the walk is complete and the
 * cursor is cleared.
 */
final class BackfillLane {

  private static final Logger log = LoggerFactory.getLogger(BackfillLane.class);

  static final int MAX_CONSECUTIVE_FAILURES = 3;

  private final Jdbi jdbi;
  private final GitHub github;
  private final MergeBases mergeBases;
  private final SyncState state;
  private final Inventory inventory;
  private final SnapshotWriter snapshots;
  private final SyncSettings settings;
  private final Ticker ticker;
  private final ETagStore etags;

  BackfillLane(
      Jdbi jdbi,
      GitHub github,
      MergeBases mergeBases,
      SyncState state,
      Inventory inventory,
      SnapshotWriter snapshots,
      SyncSettings settings,
      Ticker ticker,
      ETagStore etags) {
    this.etags = requireNonNull(etags, "etags");
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.github = requireNonNull(github, "github");
    this.mergeBases = requireNonNull(mergeBases, "mergeBases");
    this.state = requireNonNull(state, "state");
    this.inventory = requireNonNull(inventory, "inventory");
    this.snapshots = requireNonNull(snapshots, "snapshots");
    this.settings = requireNonNull(settings, "settings");
    this.ticker = requireNonNull(ticker, "ticker");
  }

  private record Start(SyncState.RepoRow repo, Optional<Inventory.WalkRow> cursor) {}

  String run(Pass pass) {
    long id = pass.repositoryId();
    long startedNanos = ticker.read();
    Start start =
        pass.write(
            h -> {
              SyncState.RepoRow repo = state.repository(h, id);
              state.started(h, Lane.BACKFILL, id);
              Optional<Inventory.WalkRow> cursor =
                  h.createQuery(
                          """
                          select open_pr_cursor_number, open_pr_cursor_updated_at
                            from repository_sync_state
                           where repository_id = :id and open_pr_cursor_number is not null
                          """)
                      .bind("id", id)
                      .map(
                          (rs, ctx) ->
                              new Inventory.WalkRow(
                                  rs.getInt(1), rs.getObject(2, OffsetDateTime.class).toInstant()))
                      .findOne();
              return new Start(repo, cursor);
            });
    RepoName name = start.repo().name();
    Optional<Inventory.WalkRow> cursor = start.cursor();
    Duration maxRuntime = settings.backfillMaxRuntime();
    int rebuilt = 0;
    int unchanged = 0;
    int failed = 0;
    int failuresInARow = 0;
    boolean complete = false;
    while (true) {
      pass.checkpoint();
      if (rebuilt + failed >= settings.backfillMaxPulls()
          || Duration.ofNanos(ticker.read() - startedNanos).compareTo(maxRuntime) >= 0) {
        break;
      }
      Optional<Inventory.WalkRow> from = cursor;
      Optional<Inventory.WalkRow> next =
          jdbi.withHandle(h -> inventory.nextToBackfill(h, id, from));
      if (next.isEmpty()) {
        pass.write(h -> setCursor(h, id, Optional.empty()));
        complete = true;
        break;
      }
      Inventory.WalkRow row = next.get();
      try {
        if (rebuild(pass, name, row)) {
          unchanged++;
        }
        rebuilt++;
        failuresInARow = 0;
      } catch (LeaseLostException | Cancellation.CancelledException e) {
        throw e;
      } catch (RuntimeException e) {
        if (pass.stopRequested()) {
          throw e;
        }
        Failure failure = Failure.classify(e, row.number());
        if (failure instanceof Failure.OfInfrastructure) {
          // Not this PR's fault: the pass backs off, the cursor stays before the PR.
          throw failure.endPass(e);
        }
        failed++;
        String error = failure.message();
        log.info(
            "backfill of PR #{} of repository {} failed: {}",
            row.number(),
            id,
            SyncState.describe(e));
        pass.write(
            h -> {
              state.changePull(
                  h, id, row.number(), () -> inventory.markFailed(h, id, row.number(), error));
              setCursor(h, id, Optional.of(row));
              return null;
            });
        boolean notFound = e instanceof GitHubException g && g.isNotFound();
        failuresInARow = notFound ? 0 : failuresInARow + 1;
        if (failuresInARow >= MAX_CONSECUTIVE_FAILURES) {
          throw new PassFailedException(
              failuresInARow + " PRs in a row could not be rebuilt; last: " + error, e);
        }
      }
      cursor = next;
    }
    return "%d PRs rebuilt, %d failed, walk %s"
            .formatted(rebuilt, failed, complete ? "complete" : "continues")
        + (unchanged > 0 ? " (%d PRs unchanged)".formatted(unchanged) : "");
  }

  /**
   * Rebuilds the PR of {@code row} and moves the cursor past it. Returns whether the stored
   * snapshot was confirmed unchanged — never, as the request is unconditional (see below); kept so
   * that the pass summary stays one shape with refresh's.
   */
  private boolean rebuild(Pass pass, RepoName name, Inventory.WalkRow row) {
    long id = pass.repositoryId();
    pass.checkpoint();
    // Unconditional: a row is walked because it is not current, and a 304 would leave it so (the
    // confirmed snapshot is not what the row's freshness was judged against), walked again by
    // every pass. The ETags of the rebuilt PR are stored with its snapshot, for refresh and fetch.
    PulledPr pulled =
        PulledPr.fetch(github, mergeBases, pass, name, row.number(), KnownETags.NONE);
    pass.checkpoint();
    pass.write(
        h -> {
          state.changePull(
              h,
              id,
              row.number(),
              () -> pulled.apply(h, id, snapshots, inventory, etags, false));
          setCursor(h, id, Optional.of(row));
          return null;
        });
    return pulled.unchanged();
  }

  private static Void setCursor(Handle h, long id, Optional<Inventory.WalkRow> cursor) {
    Instant at = cursor.map(Inventory.WalkRow::updatedAt).orElse(null);
    h.createUpdate(
            """
            update repository_sync_state
               set open_pr_cursor_updated_at = :updated_at, open_pr_cursor_number = :number
             where repository_id = :id
            """)
        .bindByType("updated_at", SyncState.offset(at), OffsetDateTime.class)
        .bindByType("number", cursor.map(Inventory.WalkRow::number).orElse(null), Integer.class)
        .bind("id", id)
        .execute();
    return null;
  }
}
