package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.LeaseLostException;
import java.util.List;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The refresh lane: the PRs named by a repository's pending {@code refresh_hint} rows, one at a
 * time (SPEC §3). A hint never costs a PR-list request.
 *
 * <p>Per hint: {@code GET} the PR (and, when it is open, its files and — when head or base moved —
 * its merge base, see {@link MergeBases}), then one guarded transaction
 * that writes the snapshot, inserts or updates the inventory row ({@code current}) — or, for a PR
 * no longer open, marks the snapshot closed and deletes the row — recounts, and deletes the hint
 * only if its count is still the one read (a webhook that arrived meanwhile keeps it pending). A
 * hint that fails for a reason of its own ({@link Failure.OfPull}: GitHub's 404 / 422 for the PR, a
 * body that cannot be read) records its attempt and a short error and waits out its own backoff;
 * the others go on. After {@link #MAX_ATTEMPTS} such attempts a hint is dropped (a later webhook
 * brings it back). An infrastructure failure ({@link Failure.OfInfrastructure}: the database, the
 * lease, GitHub 5xx, timeouts, rate limits) ends the pass instead and leaves the hint as it is, its
 * attempts untouched: no hint is to blame, and none is dropped while the infrastructure flaps.
 * A webhook resets a hint's attempts (webhook intake), and a failure is recorded only against the
 * hint as it was read: one that a webhook bumped meanwhile stays due at once.
 */
final class RefreshLane {

  private static final Logger log = LoggerFactory.getLogger(RefreshLane.class);

  /** Attempts after which a failing hint is given up. */
  static final int MAX_ATTEMPTS = 10;

  private final GitHub github;
  private final MergeBases mergeBases;
  private final SyncState state;
  private final Inventory inventory;
  private final SnapshotWriter snapshots;
  private final SyncSettings settings;
  private final ETagStore etags;

  RefreshLane(
      GitHub github,
      MergeBases mergeBases,
      SyncState state,
      Inventory inventory,
      SnapshotWriter snapshots,
      SyncSettings settings,
      ETagStore etags) {
    this.etags = requireNonNull(etags, "etags");
    this.github = requireNonNull(github, "github");
    this.mergeBases = requireNonNull(mergeBases, "mergeBases");
    this.state = requireNonNull(state, "state");
    this.inventory = requireNonNull(inventory, "inventory");
    this.snapshots = requireNonNull(snapshots, "snapshots");
    this.settings = requireNonNull(settings, "settings");
  }

  private record Hint(int number, int count, int attempts) {}

  private record Start(SyncState.RepoRow repo, List<Hint> hints) {}

  /**
   * SQL: true when hint {@code h} may be tried now — never tried, or its backoff (the lanes' retry
   * backoff, by the hint's attempts) has passed. Uses {@code :base_us} and {@code :cap_us}.
   */
  static final String HINT_DUE =
      """
      (h.last_attempt_at is null
         or h.last_attempt_at + least(cast(:cap_us as float8),
                                      :base_us * power(float8 '2', least(h.attempts - 1, 40)))
                                * interval '1 microsecond' <= %s)"""
          .formatted(DbTime.NOW);

  String run(Pass pass) {
    long id = pass.repositoryId();
    Start start =
        pass.write(
            h -> {
              SyncState.RepoRow repo = state.repository(h, id);
              state.started(h, Lane.REFRESH, id);
              List<Hint> hints =
                  state
                      .time()
                      .bind(
                          h.createQuery(
                              """
                              select h.number, h.count, h.attempts from refresh_hint h
                               where h.repository_id = :id and %s
                               order by h.first_seen_at, h.number
                               limit :limit
                              """
                                  .formatted(HINT_DUE)))
                      .bind("id", id)
                      .bind("limit", settings.refreshMaxHintsPerPass())
                      .bind("base_us", SyncState.micros(settings.retryBackoffBase()))
                      .bind("cap_us", SyncState.micros(settings.retryBackoffCap()))
                      .map(
                          (rs, ctx) ->
                              new Hint(rs.getInt("number"), rs.getInt("count"), rs.getInt("attempts")))
                      .list();
              return new Start(repo, hints);
            });
    RepoName name = start.repo().name();
    int refreshed = 0;
    int unchanged = 0;
    int failed = 0;
    for (Hint hint : start.hints()) {
      pass.checkpoint();
      try {
        if (refresh(pass, name, hint)) {
          unchanged++;
        }
        refreshed++;
      } catch (LeaseLostException | Cancellation.CancelledException e) {
        throw e;
      } catch (RuntimeException e) {
        if (pass.stopRequested()) {
          throw e;
        }
        Failure failure = Failure.classify(e, hint.number());
        if (failure instanceof Failure.OfInfrastructure) {
          // Not this PR's fault: the whole pass backs off (a rate limit until GitHub's reset), and
          // the hint stays as it is, its attempts untouched.
          throw failure.endPass(e);
        }
        failed++;
        recordFailure(pass, hint, failure, e);
      }
    }
    return "%d hints refreshed, %d failed".formatted(refreshed, failed)
        + (unchanged > 0 ? " (%d PRs unchanged)".formatted(unchanged) : "");
  }

  /**
   * Refreshes the PR of {@code hint} and answers the hint; true when GitHub confirmed the stored
   * snapshot (nothing was written but the answer).
   */
  private boolean refresh(Pass pass, RepoName name, Hint hint) {
    long id = pass.repositoryId();
    PulledPr pulled =
        PulledPr.fetch(github, mergeBases, pass, name, hint.number(), etags.known(id));
    pass.checkpoint();
    pass.write(
        h -> {
          state.changePull(
              h,
              id,
              hint.number(),
              () -> pulled.apply(h, id, snapshots, inventory, etags, true));
          deleteHint(h, id, hint);
          return null;
        });
    return pulled.unchanged();
  }

  private static void deleteHint(Handle h, long id, Hint hint) {
    h.createUpdate(
            "delete from refresh_hint where repository_id = :id and number = :number"
                + " and count = :count")
        .bind("id", id)
        .bind("number", hint.number())
        .bind("count", hint.count())
        .execute();
  }

  private void recordFailure(Pass pass, Hint hint, Failure failure, RuntimeException e) {
    long id = pass.repositoryId();
    String error = failure.message();
    if (hint.attempts() + 1 >= MAX_ATTEMPTS) {
      log.warn(
          "refresh of PR #{} of repository {} failed {} times; dropping its hint: {}",
          hint.number(),
          id,
          hint.attempts() + 1,
          SyncState.describe(e));
      pass.write(
          h -> {
            deleteHint(h, id, hint);
            return null;
          });
      return;
    }
    log.info(
        "refresh of PR #{} of repository {} failed: {}", hint.number(), id, SyncState.describe(e));
    pass.write(
        h ->
            state
                .time()
                .bind(
                    h.createUpdate(
                        """
                        update refresh_hint
                           set attempts = attempts + 1, last_attempt_at = %s, last_error = :error
                         where repository_id = :id and number = :number and count = :count
                        """
                            .formatted(DbTime.NOW)))
                .bind("id", id)
                .bind("number", hint.number())
                .bind("count", hint.count())
                .bind("error", SyncState.truncate(error))
                .execute());
  }
}
