package dev.changesync.lease;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The holder's side of a {@link LeaseStore}: what a worker does with the leases it takes — claim,
 * heartbeat, release, write under a lease. Every method is one atomic step against the store's
 * state, and takes "now" from the store's own time authority ({@link #now()}), never from the
 * caller. Results, not exceptions, report lost races and lost leases (see {@link LeaseStore}).
 *
 * @param <W> the write context guarded writes and completion updates receive
 */
public interface LeaseHolder<W> {


  /**
   * Claims {@code key} for {@code owner} with {@code policy} iff the lease is FREE or STALE (judged
   * by the current holder's policy). A granted lease carries a token strictly greater than every
   * token ever issued for {@code key}; taking over a stale lease is reported as a reclaim with the
   * previous lease. Returns {@link ClaimResult.Held} with the holder's lease when the lease is HELD
   * — including when {@code owner} itself holds it: a claim never renews. Returns {@link
   * ClaimResult.Unavailable}, having changed nothing, when the store cannot claim for {@code owner}
   * at the moment (the PostgreSQL store while {@code owner}'s liveness lock is being re-taken).
   */
  ClaimResult claim(LeaseKey key, OwnerId owner, LeasePolicy policy);

  /**
   * Renews {@code lease} iff the store still shows its owner and token: sets heartbeat-at to now
   * and expires-at to now + the holder's {@code leaseFor}. A heartbeat of a stale but not yet
   * reclaimed lease succeeds. Returns {@link HeartbeatResult.Lost} when the lease was reclaimed,
   * released or recovered.
   */
  HeartbeatResult heartbeat(Lease lease);

  /**
   * Heartbeats every lease of {@code leases}: the result at index i is what {@link
   * #heartbeat(Lease) heartbeat(leases.get(i))} would have returned, so each lease is renewed or
   * reported lost on its own. A store that can does it in one round trip, whatever the count
   * (the PostgreSQL store: one statement); by default it heartbeats them one by one. An exception
   * means that none of them can be trusted to have been renewed. The leases must be of different
   * keys.
   */
  default List<HeartbeatResult> heartbeatAll(List<Lease> leases) {
    List<HeartbeatResult> results = new ArrayList<>(leases.size());
    for (Lease lease : leases) {
      results.add(heartbeat(lease));
    }
    return results;
  }

  /**
   * Frees {@code lease} iff the store still shows its owner and token, applying {@code completion}
   * in the same atomic step. Returns false — having written nothing, and logged a warning — when
   * ownership changed. If {@code completion} throws, nothing is written and the exception
   * propagates (wrapped in a {@link RuntimeException} when checked); the lease stays held.
   */
  boolean release(Lease lease, Completion<W> completion);

  /** {@link #release(Lease, Completion)} without completion updates. */
  default boolean release(Lease lease) {
    return release(lease, Completion.none());
  }

  /**
   * Runs {@code write} in one atomic step that first verifies owner and token of {@code lease} and
   * keeps the lease locked until the step ends, so no claim or release can interleave. Throws
   * {@link LeaseLostException} — having run and written nothing — when the lease has moved on.
   * Anything {@code write} throws aborts the step: nothing it wrote is kept.
   */
  <R, X extends Exception> R inLease(Lease lease, GuardedWrite<W, R, X> write) throws X;

  /** The store's "now": the instant every state decision of this store is made at. */
  Instant now();
}
