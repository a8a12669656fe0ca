package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSortedMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a recovery pass freed.
 *
 * @param recoveredBy the owner that ran the pass
 * @param freed every lease freed, with the reason it was freed
 */
public record RecoveryReport(OwnerId recoveredBy, List<Freed> freed) {

  /** Why a recovery pass freed a lease. */
  public enum Reason {
    /** Not HELD by its holder's own policy. */
    STALE,
    /** Held by an earlier process start of the recovering worker's name. */
    EARLIER_INCARNATION,
    /** Its owner's liveness session is gone: the owning process died. */
    OWNER_GONE
  }

  /** One freed lease. */
  public record Freed(Lease lease, Reason reason) {
    public Freed {
      requireNonNull(lease, "lease");
      requireNonNull(reason, "reason");
    }
  }

  public RecoveryReport {
    requireNonNull(recoveredBy, "recoveredBy");
    freed = ImmutableList.copyOf(freed);
  }

  /** Number of freed leases per lane. */
  public Map<String, Integer> countsByLane() {
    Map<String, Integer> counts = new TreeMap<>();
    for (Freed f : freed) {
      counts.merge(f.lease().key().lane(), 1, Integer::sum);
    }
    return ImmutableSortedMap.copyOf(counts);
  }

  public int total() {
    return freed.size();
  }
}
