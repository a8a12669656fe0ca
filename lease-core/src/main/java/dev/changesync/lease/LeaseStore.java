package dev.changesync.lease;

import java.time.Instant;

/**
 * Where leases live: the holder's verbs ({@link LeaseHolder}) and the operator's ({@link
 * LeaseOperator}) of one store. Every method is one atomic step against the store's state, and
 * takes "now" from the store's own time authority ({@link #now()}), never from the caller.
 *
 * <p>Results, not exceptions, report lost races and lost leases. Exceptions mean misuse ({@link
 * IllegalArgumentException}, {@link NullPointerException}), a write under a lease that has moved on
 * ({@link LeaseLostException}), or an infrastructure failure (whatever the store's backend throws).
 *
 * @param <W> the write context guarded writes and completion updates receive: a JDBI {@code Handle}
 *     inside the verifying transaction for PostgreSQL, the verified {@link Lease} for the in-memory
 *     store
 */
public interface LeaseStore<W> extends LeaseHolder<W>, LeaseOperator {

  /** The store's "now": the instant every state decision of this store is made at. */
  @Override
  Instant now();
}
