package dev.changesync.engine.service;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.WorkSignal;
import org.jdbi.v3.core.Handle;

/**
 * Marking a repository dirty — a fetch request. Every request sets {@code dirty}, keeps the first
 * {@code dirty_since}, increments {@code fetch_request_seq} (so that a fetch pass that started
 * before it does not clear the flag) and records {@code last_requested_fetch_at}; idle workers are
 * woken when the transaction commits ({@link WorkSignal}).
 */
final class FetchRequests {

  private static final String MARK_DIRTY =
      """
      update repository_sync_state
         set dirty = true,
             dirty_since = case when dirty then dirty_since else %1$s end,
             fetch_request_seq = fetch_request_seq + 1,
             last_requested_fetch_at = %1$s
       where repository_id = :id
      """
          .formatted(DbTime.NOW);

  private FetchRequests() {}

  /** Marks repository {@code repositoryId} dirty; returns false when it has no sync state. */
  static boolean markDirty(Handle h, DbTime time, long repositoryId) {
    boolean marked = time.bind(h.createUpdate(MARK_DIRTY)).bind("id", repositoryId).execute() == 1;
    if (marked) {
      WorkSignal.send(h, Lanes.FETCH);
    }
    return marked;
  }
}
