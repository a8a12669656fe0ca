/**
 * Runnable benchmarks of the PostgreSQL lease store; not tests, and nothing here runs during the
 * build. Entry point: {@link dev.changesync.benchmarks.LeaseBenchmark}; {@code benchmarks/compare.sh}
 * runs it beside its peers (plain JDBC, ShedLock, db-scheduler) on the same server and prints the
 * ratios.
 */
package dev.changesync.benchmarks;
