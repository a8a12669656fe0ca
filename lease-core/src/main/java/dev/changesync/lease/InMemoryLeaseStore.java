package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A thread-safe {@link LeaseStore} in process memory, for a single process (tests, or an embedder
 * with one JVM). Each key has its own monitor: operations on one key are serialised, operations on
 * different keys run in parallel. Guarded writes run while holding the key's monitor, so — as with
 * the row lock of the PostgreSQL store — no claim, heartbeat or release of that key interleaves.
 * Tokens are kept per key for the life of the store and never reused.
 *
 * <p>Time comes from the injected {@link InstantSource}, truncated to microseconds like PostgreSQL
 * timestamps. The guarded-write context is the verified {@link Lease}.
 */
public final class InMemoryLeaseStore implements LeaseStore<Lease> {

  private static final Logger log = LoggerFactory.getLogger(InMemoryLeaseStore.class);

  private final InstantSource clock;
  private final LeaseListener listener;
  private final ConcurrentMap<LeaseKey, Slot> slots = new ConcurrentHashMap<>();

  /** Per-key state, guarded by its own monitor. */
  private static final class Slot {
    Lease lease; // null when FREE
    long lastToken;
  }

  public InMemoryLeaseStore(InstantSource clock) {
    this(clock, LeaseListener.NONE);
  }

  public InMemoryLeaseStore(InstantSource clock, LeaseListener listener) {
    this.clock = requireNonNull(clock, "clock");
    this.listener = LeaseListener.safe(requireNonNull(listener, "listener"));
  }

  @Override
  public Instant now() {
    return clock.instant().truncatedTo(ChronoUnit.MICROS);
  }

  private Slot slot(LeaseKey key) {
    return slots.computeIfAbsent(key, k -> new Slot());
  }

  @Override
  public ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy) {
    requireNonNull(key, "key");
    requireNonNull(owner, "owner");
    requireNonNull(policy, "policy");
    Slot slot = slot(key);
    ClaimResult result;
    synchronized (slot) {
      Instant now = now();
      Lease current = slot.lease;
      if (current != null && current.stateAt(now) == LeaseState.HELD) {
        return new ClaimResult.Held(current);
      }
      Lease granted =
          new Lease(
              key, owner, ++slot.lastToken, now, now, now.plus(policy.leaseFor()), policy);
      slot.lease = granted;
      result = new ClaimResult.Granted(granted, Optional.ofNullable(current));
    }
    ClaimResult.Granted granted = (ClaimResult.Granted) result;
    granted
        .reclaimedFrom()
        .ifPresentOrElse(
            previous -> listener.reclaimed(granted.lease(), previous),
            () -> listener.claimed(granted.lease()));
    return result;
  }

  @Override
  public HeartbeatResult heartbeat(Lease lease) {
    requireNonNull(lease, "lease");
    Slot slot = slot(lease.key());
    HeartbeatResult result;
    synchronized (slot) {
      Lease current = slot.lease;
      if (current == null || !current.sameOwnership(lease)) {
        result = new HeartbeatResult.Lost(LossReason.of(Optional.ofNullable(current)), Optional.ofNullable(current));
      } else {
        Instant now = now();
        Lease renewed =
            new Lease(
                current.key(),
                current.owner(),
                current.token(),
                current.claimedAt(),
                now,
                now.plus(current.policy().leaseFor()),
                current.policy());
        slot.lease = renewed;
        result = new HeartbeatResult.Renewed(renewed);
      }
    }
    if (result instanceof HeartbeatResult.Renewed renewed) {
      listener.heartbeat(renewed.lease());
    } else {
      listener.lost(lease, ((HeartbeatResult.Lost) result).reason());
    }
    return result;
  }

  @Override
  public boolean release(Lease lease, Completion<Lease> completion) {
    requireNonNull(lease, "lease");
    requireNonNull(completion, "completion");
    Slot slot = slot(lease.key());
    Lease current;
    synchronized (slot) {
      current = slot.lease;
      if (current != null && current.sameOwnership(lease)) {
        try {
          completion.apply(current);
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException("completion updates failed for " + lease.key(), e);
        }
        slot.lease = null;
      }
    }
    if (current != null && current.sameOwnership(lease)) {
      listener.released(current);
      return true;
    }
    log.warn(
        "release of {} by {} with token {} refused: ownership changed (now {})",
        lease.key(),
        lease.owner(),
        lease.token(),
        current == null ? "free" : current.owner() + " token " + current.token());
    listener.lost(lease, LossReason.of(Optional.ofNullable(current)));
    return false;
  }

  @Override
  public <R, X extends Exception> R inLease(Lease lease, GuardedWrite<Lease, R, X> write) throws X {
    requireNonNull(lease, "lease");
    requireNonNull(write, "write");
    Slot slot = slot(lease.key());
    Lease current;
    synchronized (slot) {
      current = slot.lease;
      if (current != null && current.sameOwnership(lease)) {
        return write.write(current);
      }
    }
    LossReason reason = LossReason.of(Optional.ofNullable(current));
    listener.lost(lease, reason);
    throw LeaseLostException.of(lease, reason.describe(Optional.ofNullable(current)));
  }

  @Override
  public Optional<Lease> releaseManually(LeaseKey key, String actor) {
    requireNonNull(key, "key");
    requireNonNull(actor, "actor");
    Slot slot = slot(key);
    Lease released;
    synchronized (slot) {
      released = slot.lease;
      if (released == null) {
        return Optional.empty();
      }
      slot.lease = null;
      // Burn a token: the next claim is two tokens past the fenced holder's.
      slot.lastToken++;
    }
    listener.manuallyReleased(released, actor);
    return Optional.of(released);
  }

  @Override
  public RecoveryReport recover(OwnerId self) {
    requireNonNull(self, "self");
    List<RecoveryReport.Freed> freed = new ArrayList<>();
    for (Slot slot : slots.values()) {
      synchronized (slot) {
        Lease current = slot.lease;
        if (current == null || current.owner().equals(self)) {
          continue;
        }
        RecoveryReport.Reason reason = null;
        if (current.owner().isOtherIncarnationOf(self)) {
          reason = RecoveryReport.Reason.EARLIER_INCARNATION;
        } else if (current.stateAt(now()) == LeaseState.STALE) {
          reason = RecoveryReport.Reason.STALE;
        }
        if (reason != null) {
          slot.lease = null;
          freed.add(new RecoveryReport.Freed(current, reason));
        }
      }
    }
    freed.sort(Comparator.comparing(f -> f.lease().key().toString()));
    RecoveryReport report = new RecoveryReport(self, freed);
    listener.recovered(report);
    return report;
  }

  @Override
  public Optional<Lease> find(LeaseKey key) {
    requireNonNull(key, "key");
    Slot slot = slots.get(key);
    if (slot == null) {
      return Optional.empty();
    }
    synchronized (slot) {
      return Optional.ofNullable(slot.lease);
    }
  }

  @Override
  public List<Lease> list() {
    List<Lease> leases = new ArrayList<>();
    for (Slot slot : slots.values()) {
      synchronized (slot) {
        if (slot.lease != null) {
          leases.add(slot.lease);
        }
      }
    }
    leases.sort(
        Comparator.comparing((Lease l) -> l.key().resource()).thenComparing(l -> l.key().lane()));
    return leases;
  }
}
