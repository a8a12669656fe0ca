/**
 * Leases: exclusive, fenced, self-expiring ownership of a unit of work.
 *
 * <h2>What a lease guarantees</h2>
 *
 * A lease is held on a {@link dev.changesync.lease.LeaseKey} — a resource and a lane, such as
 * {@code (repo:42, fetch)} — by one {@link dev.changesync.lease.OwnerId} at a time. changesync
 * promises two things about the work done under it:
 *
 * <ol>
 *   <li><b>It never gets stuck.</b> A holder renews its lease by heartbeat. A holder that crashed,
 *       hung or was partitioned stops renewing; once its lease is STALE anyone may reclaim it. (The
 *       PostgreSQL store also notices a dead process at once through its liveness session.)
 *   <li><b>It is never done twice at once, as far as writes are concerned.</b> Every successful
 *       claim carries a <em>fencing token</em> strictly greater than every token issued before for
 *       that key. Every write under a lease is a <em>guarded write</em> ({@link
 *       dev.changesync.lease.LeaseStore#inLease}): one atomic step that first checks that owner and
 *       token are still on record and keeps the lease locked until the writes are done. A holder
 *       that lost its lease — however long it was paused, whatever its clock says — cannot land a
 *       write.
 * </ol>
 *
 * Timing alone cannot give the second guarantee (a process can pause for any length of time between
 * checking its lease and writing); fencing does. Timing only decides <em>when</em> a lease may be
 * taken over.
 *
 * <h2>States and transitions</h2>
 *
 * <p>At an instant {@code t} a lease is in one {@link dev.changesync.lease.LeaseState}:
 *
 * <ul>
 *   <li>FREE — no owner;
 *   <li>HELD — an owner, {@code expiresAt > t} and {@code heartbeatAt > t − staleAfter};
 *   <li>STALE — an owner, but not HELD.
 * </ul>
 *
 * <p>{@code staleAfter} is the <em>holder's</em>, recorded with the lease when it claimed: a
 * claimer with a short policy cannot steal a fresh lease from a holder with a long one. The legal
 * transitions are:
 *
 * <pre>
 *   FREE  --claim-->                 HELD(owner A, token n+1)
 *   HELD  --heartbeat by A-->        HELD(A)             heartbeat-at = t, expires-at = t + TTL
 *   HELD  --time passes-->           STALE(A)            no heartbeat for staleAfter, or expired
 *   STALE --heartbeat by A-->        HELD(A)             nobody took it over yet
 *   STALE --claim by B (reclaim)-->  HELD(B, token m+1)  A is fenced: its token is superseded
 *   HELD | STALE --release by A-->   FREE                with A's completion updates, atomically
 *   HELD | STALE --manual release--> FREE                token bumped: A is fenced
 *   STALE --recovery pass-->         FREE
 *   HELD(A') --recovery by A''-->    FREE                A' an earlier incarnation of A'' 's worker
 * </pre>
 *
 * <p>Everything else is refused: a claim of a HELD lease returns {@link
 * dev.changesync.lease.ClaimResult.Held} (also to its own holder — a claim never renews), and a
 * store that cannot claim for an owner at the moment says so with {@link
 * dev.changesync.lease.ClaimResult.Unavailable}, changing nothing; a
 * heartbeat, release or guarded write by an owner whose token is no longer on record is refused
 * ({@link dev.changesync.lease.HeartbeatResult.Lost}, {@code false}, {@link
 * dev.changesync.lease.LeaseLostException}). Losing a race is a value; misuse and infrastructure
 * failure are exceptions.
 *
 * <h2>Which clock decides</h2>
 *
 * <p>Every state decision is made by the store, at the store's {@link
 * dev.changesync.lease.LeaseStore#now()}, read from a {@link java.time.InstantSource} injected into
 * the store — never from the system clock by this package. In production the PostgreSQL store uses
 * the database's clock, so every worker agrees on "now" whatever its own clock says, and a worker
 * with a skewed clock cannot steal a lease. Tests inject a controllable clock. Instants are
 * truncated to microseconds, the precision of PostgreSQL timestamps.
 *
 * <p>The one decision a holder makes alone — "I can no longer trust my lease" — is made by the
 * {@link dev.changesync.lease.LeaseRunner} on a monotonic {@link com.google.common.base.Ticker}:
 * when no heartbeat has succeeded for {@code staleAfter}, measured from the start of the last
 * successful heartbeat call, it cancels the work, because from then on someone else may reclaim the
 * lease.
 *
 * <h2>Timing policy</h2>
 *
 * <p>{@link dev.changesync.lease.LeasePolicy#ofTtl}: from the TTL (default 15 min), heartbeat every
 * TTL/6 clamped to [200 ms, 10 s], stale after max(3 × heartbeat, 1 s). With the default TTL a
 * crashed holder's lease may be reclaimed 30 s after its last heartbeat; every heartbeat extends
 * expiry by the TTL again.
 */
package dev.changesync.lease;
