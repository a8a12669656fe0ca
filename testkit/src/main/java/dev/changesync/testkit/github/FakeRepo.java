package dev.changesync.testkit.github;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A repository on {@link FakeGitHub}. Made by {@link FakeGitHub#createRepo}; thread-safe (every
 * method takes the fake's lock).
 */
public final class FakeRepo {

  private final FakeGitHub gitHub;
  private final long id;
  private final String owner;
  private final String name;
  private final String defaultBranch;
  private final Instant createdAt;
  private final TreeMap<Integer, FakePr> pulls = new TreeMap<>(); // guarded by gitHub.lock
  private final Map<String, Integer> branchVersions = new TreeMap<>(); // guarded by gitHub.lock
  private int nextNumber = 1; // guarded by gitHub.lock
  private Instant updatedAt; // guarded by gitHub.lock

  FakeRepo(FakeGitHub gitHub, long id, String owner, String name, Instant createdAt) {
    this.gitHub = gitHub;
    this.id = id;
    this.owner = owner;
    this.name = name;
    this.defaultBranch = "main";
    this.createdAt = createdAt;
    this.updatedAt = createdAt;
  }

  public long id() {
    return id;
  }

  public String owner() {
    return owner;
  }

  public String name() {
    return name;
  }

  public String fullName() {
    return owner + "/" + name;
  }

  public String defaultBranch() {
    return defaultBranch;
  }

  Instant createdAt() {
    return createdAt;
  }

  Instant updatedAt() {
    synchronized (gitHub.lock) {
      return updatedAt;
    }
  }

  FakeGitHub gitHub() {
    return gitHub;
  }

  /** Opens a pull request with five files. */
  public FakePr openPr() {
    return openPr(PrSpec.defaults());
  }

  /** Opens a pull request with {@code files} files of the default mix. */
  public FakePr openPr(int files) {
    return openPr(PrSpec.files(files));
  }

  /** Opens a pull request shaped by {@code spec}; its number is the next free one. */
  public FakePr openPr(PrSpec spec) {
    synchronized (gitHub.lock) {
      int number = nextNumber++;
      FakePr pr = new FakePr(this, gitHub.nextId(), number, spec, gitHub.now());
      pulls.put(number, pr);
      updatedAt = gitHub.now();
      return pr;
    }
  }

  /**
   * Opens {@code count} pull requests of 1 to 12 files each (the count drawn from the fake's seed),
   * every tenth one a draft; together they include binary, renamed and multi-hunk files.
   */
  public List<FakePr> openPrs(int count) {
    synchronized (gitHub.lock) {
      Random random = new Random(gitHub.seed() * 31 + id);
      List<FakePr> opened = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        PrSpec spec = PrSpec.files(1 + random.nextInt(12)).withDraft(i % 10 == 9);
        opened.add(openPr(spec));
      }
      return opened;
    }
  }

  /** Opens {@code count} pull requests shaped by {@code spec}. */
  public List<FakePr> openPrs(int count, PrSpec spec) {
    synchronized (gitHub.lock) {
      List<FakePr> opened = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        opened.add(openPr(spec));
      }
      return opened;
    }
  }

  /**
   * The pull request numbered {@code number}.
   *
   * @throws NoSuchElementException when there is none
   */
  public FakePr pr(int number) {
    synchronized (gitHub.lock) {
      FakePr pr = pulls.get(number);
      if (pr == null) {
        throw new NoSuchElementException(fullName() + " has no pull request #" + number);
      }
      return pr;
    }
  }

  /** Every pull request, open or not, lowest number first. */
  public List<FakePr> pulls() {
    synchronized (gitHub.lock) {
      return List.copyOf(pulls.values());
    }
  }

  /** The open pull requests in GitHub's default list order: newest (highest number) first. */
  public List<FakePr> openPulls() {
    synchronized (gitHub.lock) {
      List<FakePr> open = new ArrayList<>();
      for (FakePr pr : pulls.descendingMap().values()) {
        if (pr.isOpen()) {
          open.add(pr);
        }
      }
      return open;
    }
  }

  /** Pull requests in {@code state} ({@code open}, {@code closed} or {@code all}), newest first. */
  List<FakePr> pullsInState(String state) {
    List<FakePr> result = new ArrayList<>();
    for (FakePr pr : pulls.descendingMap().values()) {
      if (state.equals("all") || state.equals(pr.state())) {
        result.add(pr);
      }
    }
    result.sort(Comparator.comparingInt(FakePr::number).reversed());
    return result;
  }

  FakePr pullOrNull(int number) {
    return pulls.get(number);
  }

  /**
   * Pushes a new commit to {@code branch}: every open pull request based on it gets a new base SHA
   * (GitHub does not bump their {@code updated_at} for that). Returns the branch's new SHA.
   */
  public String advanceBranch(String branch) {
    synchronized (gitHub.lock) {
      int version = branchVersions.merge(branch, 1, Integer::sum);
      String sha = branchSha(branch, version);
      for (FakePr pr : pulls.values()) {
        if (pr.isOpen() && pr.baseRef().equals(branch)) {
          pr.setBaseSha(sha);
        }
      }
      return sha;
    }
  }

  /** The current SHA of {@code branch} (a base branch of pull requests). */
  public String branchSha(String branch) {
    synchronized (gitHub.lock) {
      return branchSha(branch, branchVersions.getOrDefault(branch, 0));
    }
  }

  private String branchSha(String branch, int version) {
    return FileGenerator.sha1("branch:" + gitHub.seed() + ":" + id + ":" + branch + ":" + version);
  }

  /**
   * The commit {@code ref} names as a compare base: a branch's current SHA, or any SHA a branch
   * has had (base branches are the pull requests' base refs and the default branch); null when
   * unknown.
   */
  String resolveBase(String ref) {
    Set<String> branches = new TreeSet<>(branchVersions.keySet());
    branches.add(defaultBranch);
    for (FakePr pr : pulls.values()) {
      branches.add(pr.baseRef());
    }
    if (branches.contains(ref)) {
      return branchSha(ref, branchVersions.getOrDefault(ref, 0));
    }
    for (String branch : branches) {
      for (int v = 0; v <= branchVersions.getOrDefault(branch, 0); v++) {
        if (branchSha(branch, v).equals(ref)) {
          return ref;
        }
      }
    }
    return null;
  }

  /**
   * The pull request whose head {@code ref} names as a compare head — its head branch, or any head
   * SHA it ever had — or null.
   */
  FakePr pullWithHead(String ref) {
    for (FakePr pr : pulls.values()) {
      if (pr.headRef().equals(ref) || pr.hadHead(ref)) {
        return pr;
      }
    }
    return null;
  }

  /** A new commit on {@code branch} for one pull request's base (see {@link FakePr#moveBase()}). */
  String newBaseSha(String branch) {
    int version = branchVersions.merge(branch, 1, Integer::sum);
    return branchSha(branch, version);
  }

  void touch() {
    updatedAt = gitHub.now();
  }

  @Override
  public String toString() {
    return "FakeRepo[" + fullName() + " id=" + id + "]";
  }
}
