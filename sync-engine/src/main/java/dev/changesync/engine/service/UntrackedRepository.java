package dev.changesync.engine.service;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What untracking a repository removed ({@code DELETE /v1/changes/repos/{owner}/{repo}}).
 *
 * @param at database time of the removal
 * @param leases its lease of every lane, as it was when removed: a lease that was held has been
 *     taken from its holder, whose next heartbeat or guarded write fails with "lease lost"
 * @param openPrs inventory rows removed
 * @param snapshots pull request snapshots removed (with their files and hunks)
 * @param pendingRefreshes webhook hints dropped
 * @param actor who untracked it, as recorded in the lease events
 */
public record UntrackedRepository(
    long repositoryId,
    String fullName,
    Instant at,
    List<Lease> leases,
    long openPrs,
    long snapshots,
    long pendingRefreshes,
    String actor) {

  public UntrackedRepository {
    leases = List.copyOf(leases);
  }

  /** One lane's lease at removal; owner and token empty when it was free. */
  public record Lease(
      String resource, String lane, Optional<String> ownerId, Optional<Long> token, boolean held) {}
}
