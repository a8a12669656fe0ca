package dev.changesync.engine.sync;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.lease.OwnerId;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RecordedRequest;
import dev.changesync.testkit.github.RequestKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Jdbi;

/**
 * Everything a sync test needs: a fake GitHub over real HTTP, the HTTP client pointed at it, the
 * PostgreSQL lease store, and workers — all on one {@link MutableClock}, which the test moves.
 */
final class SyncFixture implements AutoCloseable {

  /** Test settings: the SPEC defaults, but backfill passes may follow each other at once. */
  static final SyncSettings SETTINGS =
      SyncSettings.builder().backfillInterval(Duration.ZERO).backfillMaxPulls(100).build();

  final MutableClock clock = new MutableClock();
  final FakeGitHub fake;
  final HttpGitHub github;
  final Jdbi jdbi;
  final PostgresLeaseStore store;
  final Repositories repositories;
  private final List<Worker> workers = new ArrayList<>();

  SyncFixture(PostgresDatabase db) throws Exception {
    this(db, false);
  }

  /**
   * With {@code anonymous}, the client sends no credentials and the fake answers such requests
   * with GitHub's unauthenticated limit of 60 an hour.
   */
  SyncFixture(PostgresDatabase db, boolean anonymous) throws Exception {
    db.truncateAllTables();
    fake =
        anonymous
            ? FakeGitHub.builder().clock(clock).anonymousAccess().rateLimit(60).start()
            : FakeGitHub.builder().clock(clock).start();
    github =
        HttpGitHub.builder(
                GitHubSettings.builder(
                        anonymous
                            ? GitHubAuth.anonymous()
                            : GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                    .baseUrl(fake.baseUrl())
                    .build())
            .clock(clock)
            .sleeper(clock::advance)
            .build();
    jdbi = Jdbi.create(db.dataSource());
    store = PostgresLeaseStore.builder(db.dataSource()).clock(clock).build();
    repositories = new Repositories(jdbi, DbTime.injected(clock));
  }

  Worker worker(String name) {
    return worker(name, SETTINGS, github);
  }

  Worker worker(String name, SyncSettings settings, GitHub gitHub) {
    return worker(name, settings, gitHub, b -> b);
  }

  /** A worker on the fixture's store and clock, with {@code customize} applied to its builder. */
  Worker worker(
      String name, SyncSettings settings, GitHub gitHub, UnaryOperator<Worker.Builder> customize) {
    Worker worker =
        customize
            .apply(
                Worker.builder(store, gitHub)
                    .owner(OwnerId.newIncarnation(name))
                    .clock(clock)
                    .settings(settings))
            .build();
    workers.add(worker);
    return worker;
  }

  /** Tracks {@code repo} (dirty, never scanned) with backfill on. */
  long trackWithBackfill(FakeRepo repo, int priority) {
    long id = track(repo);
    jdbi.useHandle(
        h ->
            h.createUpdate(
                    "update repository_sync_state set backfill_mode = 'open_only',"
                        + " backfill_priority = :priority, backfill_retry_after = null"
                        + " where repository_id = :id")
                .bind("priority", priority)
                .bind("id", id)
                .execute());
    return id;
  }

  /**
   * Tracks {@code repo} (dirty, never scanned) for fetches and refreshes only: its backfill lane
   * is held back (a retry time far in the future), since mode {@code off} would stop every lane.
   */
  long track(FakeRepo repo) {
    long id = repositories.track(RepoName.of(repo.owner(), repo.name())).id();
    jdbi.useHandle(
        h ->
            h.createUpdate(
                    "update repository_sync_state"
                        + " set backfill_retry_after = timestamptz '9999-12-31 00:00:00+00'"
                        + " where repository_id = :id")
                .bind("id", id)
                .execute());
    return id;
  }

  /** What webhook intake and "POST .../fetch" do: mark dirty, bump the fetch request sequence. */
  void requestFetch(long id) {
    jdbi.useHandle(
        h ->
            DbTime.injected(clock)
                .bind(
                    h.createUpdate(
                        """
                        update repository_sync_state
                           set dirty = true, dirty_since = coalesce(dirty_since, %1$s),
                               fetch_request_seq = fetch_request_seq + 1,
                               last_requested_fetch_at = %1$s
                         where repository_id = :id
                        """
                            .formatted(DbTime.NOW)))
                .bind("id", id)
                .execute());
  }

  /** What webhook intake does for a pull_request event: a hint, or one more on the pending one. */
  void hint(long id, int number, String action) {
    jdbi.useHandle(
        h ->
            DbTime.injected(clock)
                .bind(
                    h.createUpdate(
                        """
                        insert into refresh_hint as r (repository_id, number, first_seen_at,
                                                       last_seen_at, last_action)
                        values (:id, :number, %1$s, %1$s, :action)
                        on conflict (repository_id, number) do update
                           set count = r.count + 1, last_seen_at = excluded.last_seen_at,
                               last_action = excluded.last_action, attempts = 0,
                               last_attempt_at = null, last_error = null
                        """
                            .formatted(DbTime.NOW)))
                .bind("id", id)
                .bind("number", number)
                .bind("action", action)
                .execute());
  }

  /** Runs {@link Worker#runOnce()} until there is nothing left to do; returns what ran. */
  List<PassResult> drain(Worker worker) {
    List<PassResult> passes = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      Optional<PassResult> pass = worker.runOnce();
      if (pass.isEmpty()) {
        return passes;
      }
      passes.add(pass.get());
    }
    throw new AssertionError("still working after 10,000 passes: " + passes.subList(0, 20));
  }

  Map<String, Object> state(long id) {
    return jdbi.withHandle(
        h ->
            h.createQuery("select * from repository_sync_state where repository_id = :id")
                .bind("id", id)
                .mapToMap()
                .one());
  }

  List<Map<String, Object>> inventory(long id) {
    return jdbi.withHandle(
        h ->
            h.createQuery("select * from open_pr where repository_id = :id order by number")
                .bind("id", id)
                .mapToMap()
                .list());
  }

  /** Repository {@code id}'s inventory row of PR {@code number}, or null when there is none. */
  Map<String, Object> row(long id, int number) {
    return inventory(id).stream()
        .filter(r -> Objects.equals(r.get("number"), number))
        .findFirst()
        .orElse(null);
  }

  /** The single value {@code sql} selects. */
  <T> T one(String sql, Class<T> type) {
    return jdbi.withHandle(h -> h.createQuery(sql).mapTo(type).one());
  }

  Map<Integer, Integer> fileCounts(long id) {
    return countsBy(id, "snapshot_file");
  }

  Map<Integer, Integer> hunkCounts(long id) {
    return countsBy(id, "snapshot_hunk");
  }

  private Map<Integer, Integer> countsBy(long id, String table) {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select number, count(*)::int as n from "
                        + table
                        + " where repository_id = :id group by number")
                .bind("id", id)
                .reduceRows(
                    new java.util.TreeMap<Integer, Integer>(),
                    (map, row) -> {
                      map.put(row.getColumn("number", Integer.class), row.getColumn("n", Integer.class));
                      return map;
                    }));
  }

  private static final Pattern PULL_PATH = Pattern.compile(".*/pulls/(\\d+)(/files)?$");

  /** How many requests of {@code kind} (PULL or FILES) named each PR, from the fake's log. */
  Map<Integer, Integer> requestsPerPull(RequestKind kind) {
    Map<Integer, Integer> perPull = new java.util.TreeMap<>();
    for (RecordedRequest r : fake.requestLog()) {
      if (r.kind() != kind) {
        continue;
      }
      Matcher m = PULL_PATH.matcher(r.path());
      if (m.matches()) {
        perPull.merge(Integer.parseInt(m.group(1)), 1, Integer::sum);
      }
    }
    return perPull;
  }

  @Override
  public void close() {
    for (Worker worker : workers) {
      worker.stop(Duration.ofSeconds(5));
    }
    fake.close();
  }
}
