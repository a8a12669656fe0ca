/**
 * Runnable benchmarks of the PostgreSQL lease store; not tests, and nothing here runs during the
 * build. Entry point: {@link dev.changesync.benchmarks.LeaseBenchmark}; {@code benchmarks/run.sh}
 * runs it beside {@code pg-limit.sh}, the physical limit of the same server.
 */
package dev.changesync.benchmarks;
