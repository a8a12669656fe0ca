package dev.changesync.lease;

/**
 * Writes that must land only while a lease is still held. A store runs it inside a transaction that
 * has already verified owner and token and keeps the lease locked until commit.
 *
 * @param <W> the store's write context (a JDBI {@code Handle} for PostgreSQL)
 * @param <R> what the writes return
 * @param <X> what the writes may throw
 */
@FunctionalInterface
public interface GuardedWrite<W, R, X extends Exception> {
  R write(W writes) throws X;
}
