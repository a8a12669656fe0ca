package dev.changesync.engine.sync;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The order in which a worker looks for the kinds of work, shared by its loops: SPEC §3's priority
 * order (requested fetch, refresh, backfill, periodic fetch) — except that every {@value #SHARE}th
 * pick looks first at the kind granted longest ago. So a steady backlog of one kind cannot starve
 * the others: any kind with due work is picked within {@value #SHARE} picks of the worker, at
 * worst.
 *
 * <p>It also alternates, between requested fetches, which kind of requested fetch comes first:
 * repositories never scanned (onboarding) or repositories marked dirty (webhooks, fetch requests),
 * so that onboarding many repositories holds a webhook-driven fetch back by one pick, not by the
 * whole onboarding.
 */
final class PickOrder {

  /** One pick in this many goes to the kind granted longest ago. */
  static final int SHARE = 4;

  private static final List<WorkKind> PRIORITY = List.of(WorkKind.values());

  private final long[] lastGranted = new long[WorkKind.values().length]; // pick number, 0: never
  private long picks; // granted picks so far
  private long requestedFetchLooks;

  /** The kinds to look at for the next pick, in order. */
  synchronized List<WorkKind> next() {
    if ((picks + 1) % SHARE != 0) {
      return PRIORITY;
    }
    WorkKind[] kinds = WorkKind.values();
    Arrays.sort(
        kinds,
        Comparator.comparingLong((WorkKind k) -> lastGranted[k.ordinal()])
            .thenComparingInt(WorkKind::ordinal));
    return List.of(kinds);
  }

  /** Whether this look at requested fetches should prefer dirty repositories to unscanned ones. */
  synchronized boolean dirtyFirst() {
    return requestedFetchLooks++ % 2 == 1;
  }

  /** Records that {@code kind} was granted. */
  synchronized void granted(WorkKind kind) {
    picks++;
    lastGranted[kind.ordinal()] = picks;
  }
}
