package dev.changesync.testkit.github;

/**
 * How {@link FakeRepo#openPr(PrSpec)} (and {@link FakePr#push(PrSpec)}) should shape a pull
 * request. Immutable; every {@code withX} returns a copy. File contents are generated
 * deterministically from the fake's seed, the repository, the PR number and the push count.
 *
 * <p>By default a PR with {@code n} files has {@code n/10} binary files (at least one from 5 files
 * on), {@code n/8} renamed files (at least one from 3 files on; half of them pure renames without a
 * patch), one file too large to diff (no patch) from 20 files on, and text files with 1 to 3 hunks
 * each.
 */
public final class PrSpec {

  private static final int AUTO = -1;

  private final int files;
  private final int binaryFiles;
  private final int renamedFiles;
  private final int largeFiles;
  private final int maxHunksPerFile;
  private final boolean draft;
  private final String title;
  private final String baseRef;

  private PrSpec(
      int files,
      int binaryFiles,
      int renamedFiles,
      int largeFiles,
      int maxHunksPerFile,
      boolean draft,
      String title,
      String baseRef) {
    if (files < 0) {
      throw new IllegalArgumentException("files must be >= 0, was " + files);
    }
    if (maxHunksPerFile < 1) {
      throw new IllegalArgumentException("maxHunksPerFile must be >= 1, was " + maxHunksPerFile);
    }
    this.files = files;
    this.binaryFiles = binaryFiles;
    this.renamedFiles = renamedFiles;
    this.largeFiles = largeFiles;
    this.maxHunksPerFile = maxHunksPerFile;
    this.draft = draft;
    this.title = title;
    this.baseRef = baseRef;
    if (binaryFiles() + renamedFiles() + largeFiles() > files) {
      throw new IllegalArgumentException(
          "binary + renamed + large files ("
              + (binaryFiles() + renamedFiles() + largeFiles())
              + ") exceed files ("
              + files
              + ")");
    }
  }

  /** A PR with {@code files} changed files, the default mix of kinds, not a draft. */
  public static PrSpec files(int files) {
    return new PrSpec(files, AUTO, AUTO, AUTO, 3, false, null, "main");
  }

  /** Five files. */
  public static PrSpec defaults() {
    return files(5);
  }

  public PrSpec withFiles(int n) {
    return new PrSpec(
        n, binaryFiles, renamedFiles, largeFiles, maxHunksPerFile, draft, title, baseRef);
  }

  public PrSpec withBinaryFiles(int n) {
    return new PrSpec(files, n, renamedFiles, largeFiles, maxHunksPerFile, draft, title, baseRef);
  }

  public PrSpec withRenamedFiles(int n) {
    return new PrSpec(files, binaryFiles, n, largeFiles, maxHunksPerFile, draft, title, baseRef);
  }

  /** Text files GitHub does not diff (no patch, but additions and deletions). */
  public PrSpec withLargeFiles(int n) {
    return new PrSpec(files, binaryFiles, renamedFiles, n, maxHunksPerFile, draft, title, baseRef);
  }

  public PrSpec withMaxHunksPerFile(int n) {
    return new PrSpec(files, binaryFiles, renamedFiles, largeFiles, n, draft, title, baseRef);
  }

  public PrSpec withDraft(boolean isDraft) {
    return new PrSpec(
        files, binaryFiles, renamedFiles, largeFiles, maxHunksPerFile, isDraft, title, baseRef);
  }

  public PrSpec withTitle(String newTitle) {
    return new PrSpec(
        files, binaryFiles, renamedFiles, largeFiles, maxHunksPerFile, draft, newTitle, baseRef);
  }

  public PrSpec withBaseRef(String ref) {
    return new PrSpec(
        files, binaryFiles, renamedFiles, largeFiles, maxHunksPerFile, draft, title, ref);
  }

  public int files() {
    return files;
  }

  public int binaryFiles() {
    return binaryFiles != AUTO ? binaryFiles : files >= 5 ? Math.max(1, files / 10) : 0;
  }

  public int renamedFiles() {
    return renamedFiles != AUTO ? renamedFiles : files >= 3 ? Math.max(1, files / 8) : 0;
  }

  public int largeFiles() {
    return largeFiles != AUTO ? largeFiles : files >= 20 ? 1 : 0;
  }

  public int maxHunksPerFile() {
    return maxHunksPerFile;
  }

  public boolean draft() {
    return draft;
  }

  /** The title, or null for a generated one. */
  public String title() {
    return title;
  }

  public String baseRef() {
    return baseRef;
  }

  @Override
  public String toString() {
    return "PrSpec[files="
        + files
        + ", binary="
        + binaryFiles()
        + ", renamed="
        + renamedFiles()
        + ", large="
        + largeFiles()
        + ", draft="
        + draft
        + ", baseRef="
        + baseRef
        + "]";
  }
}
