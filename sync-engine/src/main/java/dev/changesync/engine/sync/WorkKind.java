package dev.changesync.engine.sync;

/**
 * Why a worker picked a unit of work, in the order it looks for work (SPEC §3): first fetches that
 * were asked for, then refreshes, then backfill, then periodic fetches.
 */
public enum WorkKind {
  /** A fetch of a repository never scanned, or dirty for longer than the debounce. */
  REQUESTED_FETCH(Lane.FETCH),
  /** A refresh of the PRs a repository's pending hints name. */
  REFRESH(Lane.REFRESH),
  /** A backfill pass over inventory rows that are not current. */
  BACKFILL(Lane.BACKFILL),
  /** A fetch of a repository whose inventory is older than the maximum age. */
  PERIODIC_FETCH(Lane.FETCH);

  private final Lane lane;

  WorkKind(Lane lane) {
    this.lane = lane;
  }

  public Lane lane() {
    return lane;
  }
}
