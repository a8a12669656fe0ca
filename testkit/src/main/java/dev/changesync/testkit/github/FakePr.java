package dev.changesync.testkit.github;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A pull request on {@link FakeGitHub}. Thread-safe: every method takes the fake's lock. Mutators
 * move {@code updated_at} forward (to the fake's clock, and at least one second past its previous
 * value, so that every change is visible in {@code updated_at} even when a test's clock stands
 * still) — except {@link #moveBase()}, as on GitHub, where a push to the base branch does not touch
 * the pull request.
 *
 * <p>Some of the JSON varies by number, deterministically, to exercise tolerant clients: every
 * fourth PR omits {@code merge_commit_sha}, even numbers omit {@code assignee}, and every 13th has
 * {@code head.repo: null} (a deleted fork).
 *
 * <p><b>Merge base.</b> The head branches off the base commit the pull request was opened on, and
 * off the new base commit after {@link #rebase()} or {@link #changeBase}; a {@link #push()} keeps
 * it, and so does the base branch moving on ({@link #moveBase()}, {@link
 * FakeRepo#advanceBranch}). Every head the pull request ever had keeps its merge base, for the
 * compare endpoint.
 */
public final class FakePr {

  private final FakeRepo repo;
  private final FakeGitHub gitHub;
  private final long id;
  private final int number;
  private final Instant createdAt;
  private final String headRef;

  // All guarded by gitHub.lock.
  private String title;
  private String state = "open";
  private boolean draft;
  private boolean merged;
  private Instant closedAt;
  private Instant mergedAt;
  private Instant updatedAt;
  private String baseRef;
  private String baseSha;
  private String headSha;
  private String mergeBaseSha;
  private final Map<String, String> mergeBaseByHead = new HashMap<>();
  private int version; // pushes so far
  private int commits = 1;
  private List<FakeFile> files;

  FakePr(FakeRepo repo, long id, int number, PrSpec spec, Instant now) {
    this.repo = repo;
    this.gitHub = repo.gitHub();
    this.id = id;
    this.number = number;
    this.createdAt = now.truncatedTo(ChronoUnit.SECONDS);
    this.updatedAt = createdAt;
    this.headRef = "feature/" + number + "-change";
    this.baseRef = spec.baseRef();
    this.baseSha = repo.branchSha(baseRef);
    this.mergeBaseSha = baseSha;
    this.title = spec.title() != null ? spec.title() : "Change " + number + " of " + repo.name();
    this.draft = spec.draft();
    regenerate(spec);
  }

  public FakeRepo repo() {
    return repo;
  }

  public long id() {
    return id;
  }

  public int number() {
    return number;
  }

  public Instant createdAt() {
    return createdAt;
  }

  public String headRef() {
    return headRef;
  }

  public String title() {
    synchronized (gitHub.lock) {
      return title;
    }
  }

  /** {@code open} or {@code closed}. */
  public String state() {
    synchronized (gitHub.lock) {
      return state;
    }
  }

  public boolean isOpen() {
    return state().equals("open");
  }

  public boolean draft() {
    synchronized (gitHub.lock) {
      return draft;
    }
  }

  public boolean merged() {
    synchronized (gitHub.lock) {
      return merged;
    }
  }

  public Instant updatedAt() {
    synchronized (gitHub.lock) {
      return updatedAt;
    }
  }

  public Instant closedAt() {
    synchronized (gitHub.lock) {
      return closedAt;
    }
  }

  public Instant mergedAt() {
    synchronized (gitHub.lock) {
      return mergedAt;
    }
  }

  public String headSha() {
    synchronized (gitHub.lock) {
      return headSha;
    }
  }

  public String baseRef() {
    synchronized (gitHub.lock) {
      return baseRef;
    }
  }

  public String baseSha() {
    synchronized (gitHub.lock) {
      return baseSha;
    }
  }

  /** The merge base of the current head with the base: the base commit the head branched off. */
  public String mergeBaseSha() {
    synchronized (gitHub.lock) {
      return mergeBaseSha;
    }
  }

  /** The merge base of {@code head} if it is a head this pull request ever had, else null. */
  String mergeBaseOf(String head) {
    return mergeBaseByHead.get(head);
  }

  /** Whether {@code sha} is a head this pull request ever had. */
  boolean hadHead(String sha) {
    return mergeBaseByHead.containsKey(sha);
  }

  public int commits() {
    synchronized (gitHub.lock) {
      return commits;
    }
  }

  /** Every changed file, in the order GitHub lists them (it serves at most 3,000 of them). */
  public List<FakeFile> files() {
    synchronized (gitHub.lock) {
      return files;
    }
  }

  /** GitHub's {@code changed_files}: all changed files, even beyond the 3,000 it will list. */
  public int changedFiles() {
    return files().size();
  }

  public int additions() {
    return files().stream().mapToInt(FakeFile::additions).sum();
  }

  public int deletions() {
    return files().stream().mapToInt(FakeFile::deletions).sum();
  }

  /** Total hunks over all files' patches. */
  public int hunkCount() {
    return files().stream().mapToInt(f -> f.hunks().size()).sum();
  }

  /** A merge commit SHA as GitHub computes for an open PR's test merge (or the real merge). */
  String mergeCommitSha() {
    synchronized (gitHub.lock) {
      return FileGenerator.sha1("merge:" + headSha + ":" + baseSha);
    }
  }

  /** Pushes a commit: a new head SHA and regenerated files (as many as before). */
  public FakePr push() {
    synchronized (gitHub.lock) {
      return push(PrSpec.files(files.size()));
    }
  }

  /** Pushes a commit that leaves {@code fileCount} changed files of the default mix. */
  public FakePr push(int fileCount) {
    return push(PrSpec.files(fileCount));
  }

  /** Pushes a commit whose files follow {@code spec} (its draft, title and base are ignored). */
  public FakePr push(PrSpec spec) {
    synchronized (gitHub.lock) {
      version++;
      commits++;
      regenerate(spec);
      touch();
      return this;
    }
  }

  /** Rebases onto a new commit of the base branch: new base SHA, new head SHA, same file count. */
  public FakePr rebase() {
    synchronized (gitHub.lock) {
      baseSha = repo.newBaseSha(baseRef);
      mergeBaseSha = baseSha;
      version++;
      regenerate(PrSpec.files(files.size()));
      touch();
      return this;
    }
  }

  /**
   * The base branch moved on: a new base SHA, nothing else changes (GitHub leaves {@code
   * updated_at} alone).
   */
  public FakePr moveBase() {
    synchronized (gitHub.lock) {
      baseSha = repo.newBaseSha(baseRef);
      return this;
    }
  }

  /** Retargets the pull request to another base branch. */
  public FakePr changeBase(String newBaseRef) {
    synchronized (gitHub.lock) {
      baseRef = newBaseRef;
      baseSha = repo.branchSha(newBaseRef);
      mergeBaseSha = baseSha;
      mergeBaseByHead.put(headSha, mergeBaseSha);
      touch();
      return this;
    }
  }

  public FakePr close() {
    synchronized (gitHub.lock) {
      state = "closed";
      closedAt = gitHub.now().truncatedTo(ChronoUnit.SECONDS);
      touch();
      return this;
    }
  }

  public FakePr merge() {
    synchronized (gitHub.lock) {
      state = "closed";
      merged = true;
      closedAt = gitHub.now().truncatedTo(ChronoUnit.SECONDS);
      mergedAt = closedAt;
      touch();
      return this;
    }
  }

  /**
   * Reopens a closed (not merged) pull request.
   *
   * @throws IllegalStateException when it was merged
   */
  public FakePr reopen() {
    synchronized (gitHub.lock) {
      if (merged) {
        throw new IllegalStateException("#" + number + " was merged and cannot be reopened");
      }
      state = "open";
      closedAt = null;
      touch();
      return this;
    }
  }

  public FakePr setDraft(boolean isDraft) {
    synchronized (gitHub.lock) {
      draft = isDraft;
      touch();
      return this;
    }
  }

  public FakePr setTitle(String newTitle) {
    synchronized (gitHub.lock) {
      title = newTitle;
      touch();
      return this;
    }
  }

  void setBaseSha(String sha) {
    baseSha = sha;
  }

  private void regenerate(PrSpec spec) {
    long seed = gitHub.seed() * 1_000_003L + repo.id() * 10_007L + number * 101L + version;
    files = List.copyOf(FileGenerator.generate(seed, spec));
    headSha = FileGenerator.sha1("head:" + seed);
    mergeBaseByHead.put(headSha, mergeBaseSha);
  }

  private void touch() {
    Instant now = gitHub.now().truncatedTo(ChronoUnit.SECONDS);
    Instant next = updatedAt.plusSeconds(1);
    updatedAt = now.isAfter(next) ? now : next;
    repo.touch();
  }

  @Override
  public String toString() {
    synchronized (gitHub.lock) {
      return "FakePr["
          + repo.fullName()
          + "#"
          + number
          + " "
          + state
          + (draft ? " draft" : "")
          + " head="
          + headSha.substring(0, 7)
          + " base="
          + baseSha.substring(0, 7)
          + " files="
          + files.size()
          + "]";
    }
  }
}
