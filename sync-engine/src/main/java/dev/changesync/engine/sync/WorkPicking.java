package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.lease.WorkLeases;
import dev.changesync.engine.lease.Candidates;
import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.Lease;
import dev.changesync.lease.OwnerId;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * A worker's work picking on its own: the kinds of work in {@link PickOrder}'s order, each with one
 * {@link WorkLeases#claimNext} per {@link Tier} of {@link WorkPicker}'s candidate queries
 * until one grants a lease; the first lease granted wins. {@link Worker#runOnce()} picks through it and then runs the pass; benchmarks and
 * plan tests use it to pick exactly as a worker does, without running passes.
 *
 * <p>Thread-safe: the loops of one worker share one instance (and so one pick order).
 */
public final class WorkPicking {

  private final WorkLeases store;
  private final SyncSettings settings;
  private final WorkPicker picker;
  private final PickOrder order = new PickOrder();

  public WorkPicking(WorkLeases store, SyncSettings settings) {
    this.store = requireNonNull(store, "store");
    this.settings = requireNonNull(settings, "settings");
    this.picker = new WorkPicker(settings);
  }

  /**
   * One candidate query of a kind of work; a kind's tiers are tried in order, and their union in
   * that order is the kind's order (see {@link WorkPicker}).
   *
   * @param name what it picks, for plans and benchmarks
   * @param streams whether an index yields its candidates in its order, so that the claim stops at
   *     the first claimable one instead of sorting them all
   */
  public record Tier(String name, boolean streams, Candidates candidates) {
    public Tier {
      requireNonNull(name, "name");
      requireNonNull(candidates, "candidates");
    }
  }

  /**
   * A granted pick.
   *
   * @param kind why the repository was picked
   * @param lease the lease claimed on it, in {@code kind}'s lane
   * @param trustStart the value of the {@code trustStart} supplier taken just before the claim
   */
  public record Pick(WorkKind kind, Lease lease, long trustStart) {
    public Pick {
      requireNonNull(kind, "kind");
      requireNonNull(lease, "lease");
    }
  }

  /** {@link #next(OwnerId, LongSupplier, BooleanSupplier)}, never stopping, without trust start. */
  public Optional<Pick> next(OwnerId owner) {
    return next(owner, () -> 0L, () -> false);
  }

  /**
   * Claims the next unit of work for {@code owner}, with the settings' lease policy: empty when
   * nothing is claimable, or when {@code stopping} says so before a kind is looked at.
   *
   * @param trustStart read just before each claim (the lease runner's trust start)
   */
  public Optional<Pick> next(OwnerId owner, LongSupplier trustStart, BooleanSupplier stopping) {
    requireNonNull(owner, "owner");
    for (WorkKind kind : order.next()) {
      if (stopping.getAsBoolean()) {
        return Optional.empty();
      }
      boolean dirtyFirst = kind == WorkKind.REQUESTED_FETCH && order.dirtyFirst();
      for (Tier tier : picker.tiers(kind, dirtyFirst)) {
        long trust = trustStart.getAsLong();
        Optional<ClaimResult.Granted> granted =
            store.claimNext(
                kind.lane().leaseLane(), owner, settings.leasePolicy(), tier.candidates());
        if (granted.isPresent()) {
          order.granted(kind);
          return Optional.of(new Pick(kind, granted.get().lease(), trust));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The tiers {@code kind}'s picking tries, in order (requested fetches in either order of their
   * two), for {@link dev.changesync.engine.lease.PostgresLeaseStore#explainClaimNext}.
   */
  public List<Tier> tiers(WorkKind kind, boolean dirtyFirst) {
    return picker.tiers(kind, dirtyFirst);
  }
}
