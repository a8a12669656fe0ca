package dev.changesync.engine.service;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.repo.Lanes;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;

/**
 * Read-only views of the change state: repository status, pull request status, snapshot and files.
 * Names are matched case-insensitively; an untracked repository or unknown pull request is a {@link
 * NotFoundException}.
 */
public final class StatusService {

  private final Jdbi jdbi;
  private final DbTime time;

  public StatusService(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /** Tracked repositories counted by state ({@link RepositoryCounts#STATES}), read now. */
  public Map<String, Long> repositoryCounts() {
    return new RepositoryCounts(jdbi, time).read();
  }

  // ---------------------------------------------------------------------------------------------
  // Repository status
  // ---------------------------------------------------------------------------------------------

  static String laneColumns(String alias) {
    return """
    %1$s.owner_id as %1$s_owner_id, %1$s.token as %1$s_token,
    %1$s.heartbeat_at as %1$s_heartbeat_at, %1$s.expires_at as %1$s_expires_at,
    coalesce(%1$s.stale_at > t.now, false) as %1$s_held\
    """
        .formatted(alias);
  }

  static String laneJoin(String alias, String lane) {
    return """
    left join lease %1$s
           on %1$s.resource = %2$s and %1$s.lane = '%3$s' and %1$s.owner_id is not null\
    """
        .formatted(alias, Lanes.resourceSql("r.id"), lane);
  }

  // One statement, every lookup by key: the repository by its lower(owner), lower(name) index, its
  // sync state and the three lease rows by primary key, the hint count by the hint primary key.
  private static final String REPOSITORY_STATUS =
      """
      with t as (select %1$s as now)
      select r.id, r.full_name, s.*, t.now as status_now,
             %2$s,
             %3$s,
             %4$s,
             (select count(*) from refresh_hint h where h.repository_id = r.id)
               as pending_refresh_count,
             gh.github_rate_limit_remaining, gh.github_rate_limit_reset_at
        from repository r
        join repository_sync_state s on s.repository_id = r.id
        cross join t
        left join lateral (
          select w.github_rate_limit_remaining, w.github_rate_limit_reset_at
            from worker w
           where w.stopped_at is null and w.github_rate_limit_remaining is not null
           order by w.last_seen_at desc
           limit 1) gh on true
        %5$s
        %6$s
        %7$s
       where lower(r.owner) = lower(:owner) and lower(r.name) = lower(:name)
      """
          .formatted(
              DbTime.NOW,
              laneColumns("lf"),
              laneColumns("lb"),
              laneColumns("lr"),
              laneJoin("lf", Lanes.FETCH),
              laneJoin("lb", Lanes.BACKFILL),
              laneJoin("lr", Lanes.REFRESH));

  /** Every SPEC §4 field of {@code name}'s status; {@link NotFoundException} when not tracked. */
  public RepositoryStatus repositoryStatus(RepoName name) {
    requireNonNull(name, "name");
    return Database.call(
        () -> jdbi.withHandle(h -> repositoryStatus(h, name)).orElseThrow(() -> notTracked(name)));
  }

  /**
   * PostgreSQL's plan for the very statement {@link #repositoryStatus} runs for {@code name}:
   * {@code EXPLAIN (options)} of it, one row per line (the JSON document for {@code FORMAT JSON}).
   * For diagnostics and plan tests.
   *
   * @param options EXPLAIN's options, e.g. {@code FORMAT JSON}: words, spaces and commas only
   * @throws IllegalArgumentException when {@code options} holds anything else
   */
  public String explainRepositoryStatus(RepoName name, String options) {
    requireNonNull(name, "name");
    if (!options.matches("[A-Za-z_ ,]+")) {
      throw new IllegalArgumentException("EXPLAIN options must be words and commas: " + options);
    }
    return jdbi.withHandle(
        h ->
            String.join(
                "\n",
                time.bind(h.createQuery("explain (" + options + ") " + REPOSITORY_STATUS))
                    .bind("owner", name.owner())
                    .bind("name", name.name())
                    .mapTo(String.class)
                    .list()));
  }

  Optional<RepositoryStatus> repositoryStatus(Handle h, RepoName name) {
    return time.bind(h.createQuery(REPOSITORY_STATUS))
        .bind("owner", name.owner())
        .bind("name", name.name())
        .map((rs, ctx) -> repositoryStatus(rs))
        .findOne();
  }

  private static RepositoryStatus repositoryStatus(ResultSet rs) throws SQLException {
    SyncPhase.Facts facts = facts(rs, rs.getBoolean("lf_held"), rs.getBoolean("lr_held"),
        rs.getBoolean("lb_held"), rs.getLong("pending_refresh_count"));
    Instant now = facts.now();
    return new RepositoryStatus(
        rs.getLong("id"),
        rs.getString("full_name"),
        rs.getBoolean("dirty"),
        Rows.optInstant(rs, "dirty_since"),
        Rows.optInstant(rs, "last_webhook_at"),
        Rows.optInstant(rs, "last_requested_fetch_at"),
        Rows.optInstant(rs, "last_fetch_started_at"),
        Rows.optInstant(rs, "last_fetch_finished_at"),
        Rows.optInstant(rs, "last_successful_fetch_at"),
        Rows.optInstant(rs, "last_backfill_started_at"),
        Rows.optInstant(rs, "last_backfill_finished_at"),
        Rows.optInstant(rs, "last_open_pr_scan_at"),
        BackfillMode.parse(rs.getString("backfill_mode")),
        rs.getInt("backfill_priority"),
        rs.getBoolean("lf_held"),
        rs.getBoolean("lb_held"),
        rs.getBoolean("lr_held"),
        Rows.optString(rs, "lf_owner_id"),
        Rows.optLong(rs, "lf_token"),
        Rows.optInstant(rs, "lf_heartbeat_at"),
        Rows.optInstant(rs, "lf_expires_at"),
        Rows.optString(rs, "lb_owner_id"),
        Rows.optLong(rs, "lb_token"),
        Rows.optInstant(rs, "lb_heartbeat_at"),
        Rows.optInstant(rs, "lb_expires_at"),
        Rows.optString(rs, "lr_owner_id"),
        Rows.optLong(rs, "lr_token"),
        Rows.optInstant(rs, "lr_heartbeat_at"),
        Rows.optInstant(rs, "lr_expires_at"),
        rs.getInt("open_pr_total"),
        rs.getInt("open_pr_current"),
        rs.getInt("open_pr_stale"),
        rs.getInt("open_pr_missing"),
        Rows.optInt(rs, "open_pr_cursor_number"),
        Rows.optInstant(rs, "open_pr_cursor_updated_at"),
        rs.getLong("pending_refresh_count"),
        Rows.optString(rs, "last_error"),
        Rows.optInstant(rs, "last_error_at"),
        rs.getInt("fetch_failure_count"),
        SyncPhase.nextAttempt(facts.fetchRetryAfter(), now),
        rs.getInt("refresh_failure_count"),
        SyncPhase.nextAttempt(facts.refreshRetryAfter(), now),
        rs.getInt("backfill_failure_count"),
        SyncPhase.nextAttempt(facts.backfillRetryAfter(), now),
        Rows.optInstant(rs, "github_not_found_at"),
        facts.converged(),
        facts.phase(),
        Rows.optInt(rs, "github_rate_limit_remaining"),
        Rows.optInstant(rs, "github_rate_limit_reset_at"));
  }

  /**
   * The facts phase and convergence are decided from, out of a row with the sync state's columns
   * and {@code status_now}.
   */
  static SyncPhase.Facts facts(
      ResultSet rs, boolean fetchHeld, boolean refreshHeld, boolean backfillHeld, long hints)
      throws SQLException {
    return new SyncPhase.Facts(
        Rows.instant(rs, "status_now"),
        BackfillMode.parse(rs.getString("backfill_mode")),
        rs.getBoolean("dirty"),
        rs.getObject("last_open_pr_scan_at") != null,
        fetchHeld,
        refreshHeld,
        backfillHeld,
        Rows.optInstant(rs, "fetch_retry_after"),
        Rows.optInstant(rs, "refresh_retry_after"),
        Rows.optInstant(rs, "backfill_retry_after"),
        rs.getObject("github_not_found_at") != null,
        rs.getInt("open_pr_stale"),
        rs.getInt("open_pr_missing"),
        hints);
  }

  // ---------------------------------------------------------------------------------------------
  // Pull requests
  // ---------------------------------------------------------------------------------------------

  private static final String PULL_STATUS =
      """
      select o.number as o_number, o.freshness, o.title as o_title, o.draft as o_draft,
             o.head_sha as o_head_sha, o.base_sha as o_base_sha, o.base_ref as o_base_ref,
             o.updated_at as o_updated_at, o.snapshot_head_sha, o.snapshot_base_sha,
             o.snapshot_indexed_at, o.last_error as o_last_error,
             o.first_seen_at as o_first_seen_at, o.last_seen_at as o_last_seen_at,
             p.number as p_number, p.state as p_state, p.merged as p_merged, p.draft as p_draft,
             p.head_sha as p_head_sha, p.base_sha as p_base_sha, p.base_ref as p_base_ref,
             p.files_truncated, p.changed_files, p.additions, p.deletions, p.indexed_at,
             (select count(*) from snapshot_file f
               where f.repository_id = p.repository_id and f.number = p.number) as files_stored,
             (select count(*) from snapshot_hunk sh
               where sh.repository_id = p.repository_id and sh.number = p.number) as hunks_stored,
             h.number as h_number, h.first_seen_at as h_first_seen_at,
             h.last_seen_at as h_last_seen_at, h.count as h_count, h.last_action as h_last_action,
             h.attempts as h_attempts, h.last_error as h_last_error
        from (select cast(:id as bigint) as repository_id, cast(:number as integer) as number) want
        left join open_pr o on o.repository_id = want.repository_id and o.number = want.number
        left join pr_snapshot p on p.repository_id = want.repository_id and p.number = want.number
        left join refresh_hint h on h.repository_id = want.repository_id and h.number = want.number
      """;

  /**
   * What changesync knows about pull request {@code number}: inventory row, snapshot summary,
   * pending hint. {@link NotFoundException} when the repository is not tracked, or when the pull
   * request is neither in the inventory nor snapshotted nor hinted.
   */
  public PullStatus pullStatus(RepoName name, int number) {
    requireNonNull(name, "name");
    int pr = Inputs.pullNumber(number);
    PullStatus status =
        Database.call(
            () ->
                jdbi.withHandle(
                    h -> {
                      Repositories.Repo repo = tracked(h, name);
                      return h.createQuery(PULL_STATUS)
                          .bind("id", repo.id())
                          .bind("number", pr)
                          .map((rs, ctx) -> pullStatus(rs, repo, pr))
                          .one();
                    }));
    if (status.inventory().isEmpty()
        && status.snapshot().isEmpty()
        && status.pendingRefresh().isEmpty()) {
      throw unknownPull(name, pr);
    }
    return status;
  }

  private static PullStatus pullStatus(ResultSet rs, Repositories.Repo repo, int number)
      throws SQLException {
    Optional<PullStatus.Inventory> inventory = Optional.empty();
    if (rs.getObject("o_number") != null) {
      inventory =
          Optional.of(
              new PullStatus.Inventory(
                  Optional.ofNullable(rs.getString("freshness")).orElse("missing"),
                  Rows.optString(rs, "o_title"),
                  rs.getBoolean("o_draft"),
                  rs.getString("o_head_sha"),
                  rs.getString("o_base_sha"),
                  rs.getString("o_base_ref"),
                  Rows.instant(rs, "o_updated_at"),
                  Rows.optString(rs, "snapshot_head_sha"),
                  Rows.optString(rs, "snapshot_base_sha"),
                  Rows.optInstant(rs, "snapshot_indexed_at"),
                  Rows.optString(rs, "o_last_error"),
                  Rows.instant(rs, "o_first_seen_at"),
                  Rows.instant(rs, "o_last_seen_at")));
    }
    Optional<PullStatus.SnapshotSummary> snapshot = Optional.empty();
    if (rs.getObject("p_number") != null) {
      snapshot =
          Optional.of(
              new PullStatus.SnapshotSummary(
                  rs.getString("p_state"),
                  rs.getBoolean("p_merged"),
                  rs.getBoolean("p_draft"),
                  rs.getString("p_head_sha"),
                  rs.getString("p_base_sha"),
                  rs.getString("p_base_ref"),
                  rs.getBoolean("files_truncated"),
                  rs.getInt("changed_files"),
                  rs.getInt("additions"),
                  rs.getInt("deletions"),
                  rs.getInt("files_stored"),
                  rs.getInt("hunks_stored"),
                  Rows.instant(rs, "indexed_at")));
    }
    Optional<PullStatus.PendingRefresh> hint = Optional.empty();
    if (rs.getObject("h_number") != null) {
      hint =
          Optional.of(
              new PullStatus.PendingRefresh(
                  Rows.instant(rs, "h_first_seen_at"),
                  Rows.instant(rs, "h_last_seen_at"),
                  rs.getInt("h_count"),
                  Rows.optString(rs, "h_last_action"),
                  rs.getInt("h_attempts"),
                  Rows.optString(rs, "h_last_error")));
    }
    return new PullStatus(repo.id(), repo.name().fullName(), number, inventory, snapshot, hint);
  }

  /** Most open pull requests listed at once by {@link #openPulls}. */
  public static final int MAX_OPEN_PULLS = 1000;

  private static final String OPEN_PULLS =
      """
      select o.number, o.title, o.draft, o.freshness, o.updated_at, o.head_sha,
             o.snapshot_head_sha, o.snapshot_indexed_at, o.last_error
        from open_pr o
       where o.repository_id = :id
       order by o.updated_at desc, o.number desc
       limit :limit
      """;

  /**
   * Up to {@code limit} (1–{@value #MAX_OPEN_PULLS}) of {@code name}'s open pull requests with
   * their freshness, most recently updated first; {@link NotFoundException} when not tracked.
   */
  public OpenPullList openPulls(RepoName name, int limit) {
    requireNonNull(name, "name");
    if (limit < 1 || limit > MAX_OPEN_PULLS) {
      throw new BadInputException("invalid limit " + limit + ": from 1 to " + MAX_OPEN_PULLS);
    }
    return Database.call(
        () ->
            jdbi.withHandle(
                h -> {
                  RepositoryStatus status =
                      repositoryStatus(h, name).orElseThrow(() -> notTracked(name));
                  List<OpenPullList.Entry> pulls =
                      h.createQuery(OPEN_PULLS)
                          .bind("id", status.repositoryId())
                          .bind("limit", limit)
                          .map(
                              (rs, ctx) ->
                                  new OpenPullList.Entry(
                                      rs.getInt("number"),
                                      Rows.optString(rs, "title"),
                                      rs.getBoolean("draft"),
                                      Optional.ofNullable(rs.getString("freshness"))
                                          .orElse("missing"),
                                      Rows.instant(rs, "updated_at"),
                                      rs.getString("head_sha"),
                                      Rows.optString(rs, "snapshot_head_sha"),
                                      Rows.optInstant(rs, "snapshot_indexed_at"),
                                      Rows.optString(rs, "last_error")))
                          .list();
                  return new OpenPullList(
                      status.repositoryId(),
                      status.fullName(),
                      time.now(h),
                      status.openPrTotal(),
                      pulls);
                }));
  }

  /** The snapshot of pull request {@code number}; {@link NotFoundException} when there is none. */
  public PullSnapshot pullSnapshot(RepoName name, int number) {
    requireNonNull(name, "name");
    int pr = Inputs.pullNumber(number);
    return Database.call(
        () ->
            jdbi.withHandle(
                h -> {
                  Repositories.Repo repo = tracked(h, name);
                  return h.createQuery(
                          "select * from pr_snapshot where repository_id = :id and number ="
                              + " :number")
                      .bind("id", repo.id())
                      .bind("number", pr)
                      .map(
                          (rs, ctx) ->
                              new PullSnapshot(
                                  repo.id(),
                                  repo.name().fullName(),
                                  pr,
                                  Rows.optString(rs, "title"),
                                  rs.getString("state"),
                                  rs.getBoolean("merged"),
                                  rs.getBoolean("draft"),
                                  rs.getString("head_sha"),
                                  Rows.optString(rs, "head_ref"),
                                  rs.getString("base_sha"),
                                  rs.getString("base_ref"),
                                  Rows.optString(rs, "merge_base_sha"),
                                  rs.getBoolean("files_truncated"),
                                  rs.getInt("changed_files"),
                                  rs.getInt("additions"),
                                  rs.getInt("deletions"),
                                  Rows.optInstant(rs, "updated_at"),
                                  Rows.instant(rs, "indexed_at")))
                      .findOne()
                      .orElseThrow(() -> noSnapshot(name, pr));
                }));
  }

  /**
   * The files of pull request {@code number}'s snapshot with their hunks, in GitHub's order; {@link
   * NotFoundException} when there is no snapshot.
   */
  public PullFiles pullFiles(RepoName name, int number) {
    requireNonNull(name, "name");
    int pr = Inputs.pullNumber(number);
    // Repeatable read: a concurrent rebuild replaces files and hunks in one transaction, and this
    // read sees either the old snapshot or the new one, never a mix.
    return Database.call(
        () ->
            jdbi.inTransaction(
                TransactionIsolationLevel.REPEATABLE_READ, h -> pullFiles(h, name, pr)));
  }

  private record FilesHeader(
      String headSha, String baseSha, boolean filesTruncated, int changedFiles) {}

  private record HunkRow(int fileOrdinal, PullFiles.Hunk hunk) {}

  private static PullFiles pullFiles(Handle h, RepoName name, int pr) {
    Repositories.Repo repo = tracked(h, name);
    FilesHeader header =
        h.createQuery(
                "select head_sha, base_sha, files_truncated, changed_files"
                    + " from pr_snapshot where repository_id = :id and number = :number")
            .bind("id", repo.id())
            .bind("number", pr)
            .map(
                (rs, ctx) ->
                    new FilesHeader(
                        rs.getString("head_sha"),
                        rs.getString("base_sha"),
                        rs.getBoolean("files_truncated"),
                        rs.getInt("changed_files")))
            .findOne()
            .orElseThrow(() -> noSnapshot(name, pr));
    Map<Integer, List<PullFiles.Hunk>> hunks = new TreeMap<>();
    h.createQuery(
            """
            select file_ordinal, old_start, old_count, new_start, new_count
              from snapshot_hunk where repository_id = :id and number = :number
             order by file_ordinal, ordinal
            """)
        .bind("id", repo.id())
        .bind("number", pr)
        .map(
            (rs, ctx) ->
                new HunkRow(
                    rs.getInt("file_ordinal"),
                    new PullFiles.Hunk(
                        rs.getInt("old_start"),
                        rs.getInt("old_count"),
                        rs.getInt("new_start"),
                        rs.getInt("new_count"))))
        .forEach(
            row ->
                hunks.computeIfAbsent(row.fileOrdinal(), k -> new ArrayList<>()).add(row.hunk()));
    List<PullFiles.File> files =
        h.createQuery(
                """
                select ordinal, path, previous_path, status, additions, deletions, changes, patch
                  from snapshot_file where repository_id = :id and number = :number
                 order by ordinal
                """)
            .bind("id", repo.id())
            .bind("number", pr)
            .map(
                (rs, ctx) ->
                    new PullFiles.File(
                        rs.getString("path"),
                        Rows.optString(rs, "previous_path"),
                        rs.getString("status"),
                        rs.getInt("additions"),
                        rs.getInt("deletions"),
                        rs.getInt("changes"),
                        Rows.optString(rs, "patch"),
                        hunks.getOrDefault(rs.getInt("ordinal"), List.of())))
            .list();
    return new PullFiles(
        repo.id(),
        repo.name().fullName(),
        pr,
        header.headSha(),
        header.baseSha(),
        header.filesTruncated(),
        header.changedFiles(),
        files);
  }

  // ---------------------------------------------------------------------------------------------

  static Repositories.Repo tracked(Handle h, RepoName name) {
    return Repositories.find(h, name).orElseThrow(() -> notTracked(name));
  }

  static NotFoundException notTracked(RepoName name) {
    return new NotFoundException("repository " + name.fullName() + " is not tracked");
  }

  private static NotFoundException unknownPull(RepoName name, int number) {
    return new NotFoundException(
        "pull request " + name.fullName() + "#" + number + " is not known to changesync");
  }

  private static NotFoundException noSnapshot(RepoName name, int number) {
    return new NotFoundException(
        "pull request " + name.fullName() + "#" + number + " has no snapshot");
  }
}
