package dev.changesync.engine.service;

import java.util.List;
import java.util.Map;

/**
 * What a recovery pass freed.
 *
 * @param recoveredBy the owner id the pass ran as
 * @param countsByLane freed leases per lane (lanes with none are absent)
 */
public record RecoveryResult(
    String recoveredBy, int total, Map<String, Integer> countsByLane, List<Freed> freed) {

  public RecoveryResult {
    countsByLane = Map.copyOf(countsByLane);
    freed = List.copyOf(freed);
  }

  /**
   * One freed lease.
   *
   * @param reason {@code STALE}, {@code EARLIER_INCARNATION} or {@code OWNER_GONE}
   */
  public record Freed(String resource, String lane, String ownerId, long token, String reason) {}
}
