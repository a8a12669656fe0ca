package dev.changesync.engine.lease;

import dev.changesync.lease.LeaseOperator;
import dev.changesync.lease.OwnerId;
import java.time.Duration;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * The lease store as a {@link dev.changesync.engine.sync.Worker} runs on it: the holder's verbs
 * and claim-next ({@link WorkLeases}), the start-up recovery pass ({@link LeaseOperator}), and what
 * the worker's own housekeeping reads. Implemented by {@link PostgresLeaseStore}.
 */
public interface WorkerLeases extends WorkLeases, LeaseOperator {

  /** The grace after which a silent owner without its liveness lock counts as gone. */
  Duration ownerGoneAfter();

  /**
   * How long until the next lease that {@code self} does not hold goes stale (its owner silent),
   * or empty when none is held: when to look for work to take over.
   */
  Optional<Duration> untilNextStale(OwnerId self);

  /** Deletes lease events past the retention or beyond the cap; returns how many. */
  int pruneEvents();

  /** A JDBI on the store's pool: the worker's lanes read and write through it. */
  Jdbi jdbi();
}
