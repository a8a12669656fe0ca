package dev.changesync.testkit.github;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Function;

/**
 * The body of {@code GET /repos/{owner}/{repo}/compare/{base}...{head}} on {@link FakeGitHub}, in
 * GitHub's shape ({@code url}, {@code html_url}, {@code permalink_url}, {@code diff_url}, {@code
 * patch_url}, {@code base_commit}, {@code merge_base_commit}, {@code status}, {@code ahead_by},
 * {@code behind_by}, {@code total_commits}, {@code commits}, {@code files}).
 *
 * <p>The head's commits are the pull request's ({@link FakePr#commits()} for its current head, one
 * for an older head), the last one being the head itself; they are paged by {@code per_page} (250
 * without paging parameters, as GitHub). Files come only with the first page, as GitHub's do, up
 * to 300: the pull request's files for its current head, none for an older head (the fake keeps
 * no old files). {@code behind_by} is 0 when the base is the merge base, else 1.
 */
final class FakeCompare {

  /** GitHub lists at most this many files with a comparison. */
  static final int MAX_FILES = 300;

  /** Commits listed without paging parameters. */
  static final int DEFAULT_COMMITS = 250;

  private final ObjectMapper json;
  private final String baseUrl;
  private final Function<String, ObjectNode> user;

  FakeCompare(ObjectMapper json, String baseUrl, Function<String, ObjectNode> user) {
    this.json = json;
    this.baseUrl = baseUrl;
    this.user = user;
  }

  /** Commits in {@code head} that its merge base lacks, as the fake counts them. */
  static int aheadBy(FakePr pr, String headSha, String mergeBaseSha) {
    if (headSha.equals(mergeBaseSha)) {
      return 0;
    }
    return headSha.equals(pr.headSha()) ? pr.commits() : 1;
  }

  /**
   * The comparison of {@code baseSha} with {@code headSha}, a head of {@code pr}: page {@code page}
   * of {@code perPage} commits; {@code files} (already in GitHub's file shape) on page 1.
   */
  ObjectNode body(
      FakeRepo repo,
      FakePr pr,
      String basehead,
      String baseSha,
      String headSha,
      int perPage,
      int page,
      List<ObjectNode> files) {
    String mergeBase = pr.mergeBaseOf(headSha);
    int aheadBy = aheadBy(pr, headSha, mergeBase);
    int behindBy = baseSha.equals(mergeBase) ? 0 : 1;
    String web = "https://github.example/" + repo.fullName();
    ObjectNode n = json.createObjectNode();
    n.put("url", baseUrl + "/repos/" + repo.fullName() + "/compare/" + basehead);
    n.put("html_url", web + "/compare/" + basehead);
    String permalink = repo.owner() + ":" + baseSha + "..." + repo.owner() + ":" + headSha;
    n.put("permalink_url", web + "/compare/" + permalink);
    n.put("diff_url", web + "/compare/" + basehead + ".diff");
    n.put("patch_url", web + "/compare/" + basehead + ".patch");
    n.set("base_commit", commit(repo, pr, baseSha, null, pr.createdAt()));
    n.set("merge_base_commit", commit(repo, pr, mergeBase, null, pr.createdAt()));
    n.put(
        "status",
        baseSha.equals(headSha)
            ? "identical"
            : behindBy == 0 ? "ahead" : aheadBy == 0 ? "behind" : "diverged");
    n.put("ahead_by", aheadBy);
    n.put("behind_by", behindBy);
    n.put("total_commits", aheadBy);
    ArrayNode commits = n.putArray("commits");
    for (int i = (page - 1) * perPage + 1; i <= Math.min(aheadBy, page * perPage); i++) {
      String parent = i == 1 ? mergeBase : commitSha(headSha, aheadBy, i - 1);
      commits.add(commit(repo, pr, commitSha(headSha, aheadBy, i), parent, pr.updatedAt()));
    }
    ArrayNode listed = n.putArray("files");
    if (page == 1) {
      files.stream().limit(MAX_FILES).forEach(listed::add);
    }
    return n;
  }

  /** The {@code i}-th (1-based) of {@code count} commits leading to {@code headSha}. */
  private static String commitSha(String headSha, int count, int i) {
    return i == count ? headSha : FileGenerator.sha1("commit:" + headSha + ":" + i);
  }

  private ObjectNode commit(FakeRepo repo, FakePr pr, String sha, String parent, Instant at) {
    String api = baseUrl + "/repos/" + repo.fullName();
    String login = "dev" + (pr.number() % 7);
    String date = at.truncatedTo(ChronoUnit.SECONDS).toString();
    ObjectNode c = json.createObjectNode();
    c.put("sha", sha);
    c.put("node_id", "C_kwDO" + sha.substring(0, 12));
    ObjectNode commit = c.putObject("commit");
    for (String role : List.of("author", "committer")) {
      ObjectNode person = commit.putObject(role);
      person.put("name", login);
      person.put("email", login + "@users.noreply.github.example");
      person.put("date", date);
    }
    commit.put("message", "Commit " + sha.substring(0, 7));
    ObjectNode tree = commit.putObject("tree");
    String treeSha = FileGenerator.sha1("tree:" + sha);
    tree.put("sha", treeSha);
    tree.put("url", api + "/git/trees/" + treeSha);
    commit.put("url", api + "/git/commits/" + sha);
    commit.put("comment_count", 0);
    ObjectNode verification = commit.putObject("verification");
    verification.put("verified", false);
    verification.put("reason", "unsigned");
    verification.putNull("signature");
    verification.putNull("payload");
    verification.putNull("verified_at");
    c.put("url", api + "/commits/" + sha);
    c.put("html_url", "https://github.example/" + repo.fullName() + "/commit/" + sha);
    c.put("comments_url", api + "/commits/" + sha + "/comments");
    c.set("author", user.apply(login));
    c.set("committer", user.apply(login));
    ArrayNode parents = c.putArray("parents");
    String parentSha = parent != null ? parent : FileGenerator.sha1("parent:" + sha);
    ObjectNode p = parents.addObject();
    p.put("sha", parentSha);
    p.put("url", api + "/commits/" + parentSha);
    p.put("html_url", "https://github.example/" + repo.fullName() + "/commit/" + parentSha);
    return c;
  }
}
