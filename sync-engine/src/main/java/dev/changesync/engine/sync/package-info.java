/**
 * The sync lanes and the worker loop (SPEC §3): keeping each tracked repository's open-PR inventory
 * and PR snapshots current, many workers at once, each (repository, lane) under its own lease.
 *
 * <h2>Lanes</h2>
 *
 * <ul>
 *   <li><b>fetch</b> ({@code FetchLane}) scans every open PR of a repository, a page at a time, and
 *       keeps the inventory ({@code open_pr}) in step: rows upserted with their freshness, rows of
 *       PRs no longer open deleted once the listing completed, counts recomputed, and the dirty flag
 *       cleared only if no fetch was requested since the pass started ({@code fetch_request_seq}).
 *   <li><b>refresh</b> ({@code RefreshLane}) rebuilds exactly the PRs named by webhook hints, and
 *       inserts or deletes their inventory rows; it never lists the repository's PRs.
 *   <li><b>backfill</b> ({@code BackfillLane}) walks the rows that are not current, newest first,
 *       from a cursor kept in the database, and rebuilds their snapshots — a bounded number of PRs
 *       (and a bounded runtime) per pass, so a large repository is worked through over many passes,
 *       by whichever workers pick it up.
 * </ul>
 *
 * <h2>Freshness</h2>
 *
 * An inventory row compares the PR's head and base as GitHub last showed them with the stored
 * snapshot: {@code current} (same head and base), {@code stale_head_changed}, {@code
 * stale_base_moved}, {@code failed} (the last rebuild failed; kept while the head does not move),
 * or null — missing, no snapshot. The counts are {@code total}, {@code current}, {@code stale}
 * (the two stale kinds and failed) and the generated {@code missing}.
 *
 * <h2>Writes</h2>
 *
 * Every write a pass makes is a guarded write ({@link
 * dev.changesync.engine.lease.PostgresLeaseStore#inLease}): a transaction that first checks the
 * pass's lease (owner and token) and holds the lease row until commit, so a worker that lost its
 * lease — however long it was paused — writes nothing. Transactions are short and never span a
 * GitHub call: fetch writes one per page, refresh one per hint, backfill one per PR (snapshot,
 * inventory row, cursor and counts together, so a crash between PRs loses nothing and redoes
 * nothing). Completion bookkeeping (finished-at; backoff reset, or last error, failure count and
 * exponential retry-after) lands with the lease release. Snapshots are idempotent and never go
 * backwards ({@code SnapshotWriter}).
 *
 * <h2>ETags</h2>
 *
 * The ETags of the GitHub responses a pass stored are kept in {@code github_etag} ({@code
 * ETagStore}), in the same transaction as the data they stand for: the open-PR listing's with the
 * final transaction of a complete scan, a PR's and its files' with its snapshot. Any worker, in any
 * process, makes its requests conditional on them. When GitHub confirms them (304, no rate limit)
 * the pass writes nothing — no rows upserted or deleted, no snapshot rewritten — and still counts as
 * done: the scan stamps its success and clears the dirty flag, the hint is answered, the cursor
 * moves on. A listing counts as unchanged only as a whole (every stored page confirmed); a PR only
 * with all its files.
 *
 * <p>Different lanes of one repository may run at once on different workers. A transaction that
 * changes inventory rows and recounts locks the repository's sync-state row first; fetch page
 * transactions touch inventory rows only. That one lock order keeps concurrent lanes from
 * deadlocking, and makes every recount see all inventory changes committed before it.
 *
 * <h2>Failures</h2>
 *
 * {@code Failure} decides, in one place, whom a failure blames. A pull request's own problem
 * (GitHub's 404 / 410 / 422 for it or its files, a body that cannot be read, data the database
 * rejects as bad) marks its row {@code failed}, moves the backfill cursor past it and counts an
 * attempt on its refresh hint. Anything else — the database, a lost lease, GitHub 5xx, timeouts,
 * rate limits, rejected credentials — is infrastructure: the pass ends at once as failed (the
 * lane's failure count and retry-after), the cursor and the hints stay as they were, and the work
 * resumes when the infrastructure is back. {@code last_error} (the repository's, a row's, a
 * hint's) gets a short message without SQL, owner ids or tokens; the exception goes to the log.
 *
 * <h2>Work picking</h2>
 *
 * {@link dev.changesync.engine.sync.Worker#runOnce()} asks, in order: a fetch that was requested
 * (never scanned, or dirty past the debounce and not within the minimum fetch interval), a refresh
 * (pending hints past their own backoff), a backfill pass (mode not {@code off}, highest priority
 * first, not within the backfill interval), a periodic fetch (inventory older than the maximum
 * age). Each question is one {@code claimNext}: an index-driven candidate query joined with the
 * lane's lease rows, the first claimable one locked {@code FOR UPDATE SKIP LOCKED} — workers polling
 * together each get different work. A lane whose {@code retry_after} lies ahead is skipped, so a
 * failing repository never blocks the others.
 *
 * <h2>Which clock decides</h2>
 *
 * "Now" in every lane statement and candidate query is {@link dev.changesync.engine.db.DbTime#NOW}:
 * the database's clock in production (the same authority as the lease store), an injected clock in
 * tests. The lanes never read the system clock. Durations of passes, and the backfill's max runtime,
 * are measured on an injectable monotonic {@link com.google.common.base.Ticker}.
 */
package dev.changesync.engine.sync;
