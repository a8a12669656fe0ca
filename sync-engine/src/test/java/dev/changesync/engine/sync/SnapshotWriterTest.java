package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.repo.Repositories;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SnapshotWriterTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private final MutableClock clock = new MutableClock();
  private final DbTime time = DbTime.injected(clock);
  private final SnapshotWriter writer = new SnapshotWriter(time);
  private Jdbi jdbi;
  private long repo;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    jdbi = Jdbi.create(db.dataSource());
    repo = new Repositories(jdbi, time).track(RepoName.of("acme", "widgets")).id();
  }

  private static GhPull pull(int number, String head, int changedFiles, Instant updatedAt) {
    return new GhPull(
        9_000 + number,
        number,
        "open",
        false,
        true,
        "PR " + number,
        head,
        "feature-" + number,
        "base000",
        "main",
        Optional.empty(),
        changedFiles,
        12,
        3,
        updatedAt);
  }

  private static List<GhFile> files() {
    return List.of(
        new GhFile(
            "src/Main.java",
            Optional.empty(),
            "modified",
            5,
            2,
            7,
            Optional.of("blob1"),
            Optional.of("@@ -1,3 +1,4 @@ class Main\n a\n+b\n@@ -20,2 +21,5 @@\n+c")),
        new GhFile(
            "src/New.java",
            Optional.of("src/Old.java"),
            "renamed",
            0,
            0,
            0,
            Optional.of("blob2"),
            Optional.empty()),
        new GhFile(
            "logo.png", Optional.empty(), "added", 0, 0, 0, Optional.of("blob3"), Optional.empty()),
        new GhFile(
            "README.md",
            Optional.empty(),
            "modified",
            7,
            1,
            8,
            Optional.of("blob4"),
            Optional.of("@@ -1 +1,7 @@ @@ -9,0 +15 @@ tail\n-x\n+y\n\\ No newline at end of file")));
  }

  private List<Map<String, Object>> rows(String table, String order) {
    return jdbi.withHandle(
        h ->
            h.createQuery("select * from " + table + " order by " + order)
                .mapToMap()
                .list());
  }

  private boolean write(Handle h, GhPull pull, List<GhFile> files) {
    return writer.write(h, repo, pull, files, Optional.empty());
  }

  private List<Map<String, Object>> snapshotRows() {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Map<String, Object> row : rows("pr_snapshot", "number")) {
      row.remove("indexed_at");
      rows.add(row);
    }
    return rows;
  }

  @Test
  void writesSnapshotFilesAndHunks() {
    Instant updated = Instant.parse("2026-01-01T10:00:00Z");
    boolean written =
        jdbi.inTransaction(h -> write(h, pull(7, "head1", 4, updated), files()));

    assertThat(written).isTrue();
    Map<String, Object> snapshot = rows("pr_snapshot", "number").get(0);
    assertThat(snapshot)
        .containsEntry("head_sha", "head1")
        .containsEntry("base_sha", "base000")
        .containsEntry("base_ref", "main")
        .containsEntry("state", "open")
        .containsEntry("draft", true)
        .containsEntry("changed_files", 4)
        .containsEntry("files_truncated", false);
    assertThat(rows("snapshot_file", "ordinal"))
        .extracting(r -> r.get("path"), r -> r.get("previous_path"), r -> r.get("patch") != null)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("src/Main.java", null, true),
            org.assertj.core.groups.Tuple.tuple("src/New.java", "src/Old.java", false),
            org.assertj.core.groups.Tuple.tuple("logo.png", null, false),
            org.assertj.core.groups.Tuple.tuple("README.md", null, true));
    assertThat(rows("snapshot_hunk", "file_ordinal, ordinal"))
        .extracting(
            r -> r.get("file_ordinal"),
            r -> r.get("old_start"),
            r -> r.get("old_count"),
            r -> r.get("new_start"),
            r -> r.get("new_count"),
            r -> r.get("section"))
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, 1, 3, 1, 4, "class Main"),
            org.assertj.core.groups.Tuple.tuple(0, 20, 2, 21, 5, null),
            org.assertj.core.groups.Tuple.tuple(3, 1, 1, 1, 7, null),
            org.assertj.core.groups.Tuple.tuple(3, 9, 0, 15, 1, "tail"));
  }

  @Test
  void rewritingTheSameHeadProducesIdenticalRows() {
    Instant updated = Instant.parse("2026-01-01T10:00:00Z");
    jdbi.useTransaction(h -> write(h, pull(7, "head1", 4, updated), files()));
    List<Map<String, Object>> snapshots = snapshotRows();
    List<Map<String, Object>> files = rows("snapshot_file", "number, ordinal");
    List<Map<String, Object>> hunks = rows("snapshot_hunk", "number, file_ordinal, ordinal");

    clock.advance(Duration.ofMinutes(5));
    boolean again =
        jdbi.inTransaction(h -> write(h, pull(7, "head1", 4, updated), files()));

    assertThat(again).isTrue();
    assertThat(snapshotRows()).isEqualTo(snapshots);
    assertThat(rows("snapshot_file", "number, ordinal")).isEqualTo(files);
    assertThat(rows("snapshot_hunk", "number, file_ordinal, ordinal")).isEqualTo(hunks);
  }

  @Test
  void aNewHeadReplacesEveryFileAndHunk() {
    Instant updated = Instant.parse("2026-01-01T10:00:00Z");
    jdbi.useTransaction(h -> write(h, pull(7, "head1", 4, updated), files()));
    GhFile only =
        new GhFile(
            "only.txt",
            Optional.empty(),
            "added",
            1,
            0,
            1,
            Optional.empty(),
            Optional.of("@@ -0,0 +1 @@\n+x"));
    jdbi.useTransaction(
        h ->
            write(h, pull(7, "head2", 1, updated.plusSeconds(60)), List.of(only)));

    assertThat(rows("pr_snapshot", "number").get(0)).containsEntry("head_sha", "head2");
    assertThat(rows("snapshot_file", "ordinal")).extracting(r -> r.get("path")).containsExactly("only.txt");
    assertThat(rows("snapshot_hunk", "ordinal")).hasSize(1);
  }

  @Test
  void theMergeBaseIsStoredWithTheHeadAndBaseItBelongsTo() {
    Instant updated = Instant.parse("2026-01-01T10:00:00Z");
    GhPull pull = pull(7, "head1", 4, updated);
    jdbi.useTransaction(h -> writer.write(h, repo, pull, files(), Optional.of("mb1")));
    assertThat(rows("pr_snapshot", "number").get(0)).containsEntry("merge_base_sha", "mb1");
    Optional<String> same = jdbi.withHandle(h -> MergeBases.stored(h, repo, pull));
    Optional<String> otherHead =
        jdbi.withHandle(h -> MergeBases.stored(h, repo, pull(7, "head2", 4, updated)));
    assertThat(same).contains("mb1");
    assertThat(otherHead).as("another head: not reused").isEmpty();

    // A rebuild whose merge base is unknown stores none (never one of another head or base).
    jdbi.useTransaction(h -> write(h, pull(7, "head2", 4, updated.plusSeconds(5)), files()));
    assertThat(rows("pr_snapshot", "number").get(0)).containsEntry("merge_base_sha", null);
  }

  @Test
  void moreChangedFilesThanListedMarksTheSnapshotTruncated() {
    jdbi.useTransaction(
        h -> write(h, pull(8, "h", 3_500, Instant.parse("2026-01-01T10:00:00Z")), files()));
    assertThat(rows("pr_snapshot", "number").get(0))
        .containsEntry("files_truncated", true)
        .containsEntry("changed_files", 3_500);
  }

  @Test
  void anOlderVersionOfThePullNeverOverwritesANewerSnapshot() {
    Instant newer = Instant.parse("2026-01-01T10:05:00Z");
    jdbi.useTransaction(h -> write(h, pull(7, "head2", 4, newer), files()));

    boolean written =
        jdbi.inTransaction(
            h -> write(h, pull(7, "head1", 1, newer.minusSeconds(60)), List.of()));

    assertThat(written).isFalse();
    assertThat(rows("pr_snapshot", "number").get(0)).containsEntry("head_sha", "head2");
    assertThat(rows("snapshot_file", "ordinal")).hasSize(4);
  }

  @Test
  void markClosedKeepsTheFilesAndRecordsTheState() {
    Instant updated = Instant.parse("2026-01-01T10:00:00Z");
    jdbi.useTransaction(h -> write(h, pull(7, "head1", 4, updated), files()));
    GhPull merged =
        new GhPull(
            9_007, 7, "closed", true, false, "PR 7", "head1", "feature-7", "base000", "main",
            Optional.empty(), 4, 12, 3, updated.plusSeconds(30));

    jdbi.useTransaction(h -> writer.markClosed(h, repo, merged));

    assertThat(rows("pr_snapshot", "number").get(0))
        .containsEntry("state", "closed")
        .containsEntry("merged", true);
    assertThat(rows("snapshot_file", "ordinal")).hasSize(4);
  }
}
