package dev.changesync.engine.sync;

import dev.changesync.engine.repo.Lanes;

/**
 * The lanes of work on a repository (SPEC §3). Each has its own lease ({@code (repo:<id>, lane)}),
 * so the lanes of one repository may run at the same time on different workers.
 */
public enum Lane {
  /** The inventory scan: every open PR of the repository, page by page. */
  FETCH(Lanes.FETCH),
  /** Targeted refreshes of the PRs named by webhook hints. */
  REFRESH(Lanes.REFRESH),
  /** The walk that rebuilds the snapshots of inventory rows that are not current. */
  BACKFILL(Lanes.BACKFILL);

  private final String leaseLane;

  Lane(String leaseLane) {
    this.leaseLane = leaseLane;
  }

  /** The lane's name in leases and lease events: {@code fetch}, {@code refresh}, {@code backfill}. */
  public String leaseLane() {
    return leaseLane;
  }

  /** The prefix of {@code repository_sync_state}'s per-lane columns. */
  String column() {
    return leaseLane;
  }

  @Override
  public String toString() {
    return leaseLane;
  }
}
