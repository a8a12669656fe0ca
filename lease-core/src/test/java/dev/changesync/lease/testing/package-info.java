/**
 * Test fixtures for leases, shipped in lease-core's test-jar so that every store and every user of
 * the lease runner tests against the same things.
 *
 * <ul>
 *   <li>{@link dev.changesync.lease.testing.LeaseStoreContract} — the behaviour every {@link
 *       dev.changesync.lease.LeaseStore} must have; a store's test extends it and implements {@code
 *       createStore}.
 *   <li>{@link dev.changesync.lease.testing.MutableClock} — the store's wall clock, moved by hand.
 *   <li>{@link dev.changesync.lease.testing.DeterministicScheduler} — a scheduled executor on
 *       virtual time with a matching {@link com.google.common.base.Ticker}, optionally moving a
 *       {@code MutableClock} along, for the lease runner and anything else that schedules.
 *   <li>{@link dev.changesync.lease.testing.RecordingLeaseListener} — records lease events; can
 *       be told to fail on every call.
 *   <li>{@link dev.changesync.lease.testing.ForwardingLeaseStore} — a store wrapper to override
 *       single calls (a heartbeat that fails, a claim that is slow).
 * </ul>
 *
 * These classes use only lease-core's public API, JUnit Jupiter and AssertJ.
 */
package dev.changesync.lease.testing;
