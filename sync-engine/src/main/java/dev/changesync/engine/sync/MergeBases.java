package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.GitHubException;
import dev.changesync.engine.repo.RepoName;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The merge base of an open pull request, for its snapshot (SPEC §3: "merge-base SHA where known").
 *
 * <p>GitHub's pull request object carries no merge base; the compare endpoint does ({@code
 * merge_base_commit.sha} of {@code GET /repos/{owner}/{repo}/compare/{base}...{head}}). A merge
 * base is a function of the two commits alone, so the one stored in a snapshot stays right for as
 * long as the pull request's head and base SHAs are the ones stored beside it. Then it is reused
 * and costs no request: an unchanged pull request — a title edit, a label, a rebuild of a PR only
 * marked failed — is rebuilt without asking. Only when the head or the base SHA moved (a push, a
 * rebase, the base branch moving on, a retarget) is GitHub asked, with one compare of the two SHAs;
 * a pull request whose snapshot is rebuilt because it changed therefore costs one request more
 * than its PR and files requests.
 *
 * <p>The compare goes through the same client as every other call: its rate-limit waits and
 * retries, and its conditional requests (a compare of two SHAs never changes, so asking again is a
 * 304 that costs no rate limit). When GitHub cannot compare the two commits — 404, 410 or 422
 * (commits it no longer has, say after a force-push) or a body without a merge base — the merge
 * base stays unknown (null) instead of failing the pull request: the rest of its snapshot is right
 * without it. Any other failure (5xx, timeouts, rate limits, credentials) is the infrastructure's,
 * as for the PR's own requests, and ends the pass.
 */
final class MergeBases {

  private static final Logger log = LoggerFactory.getLogger(MergeBases.class);

  private final Jdbi jdbi;
  private final GitHub github;

  MergeBases(Jdbi jdbi, GitHub github) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.github = requireNonNull(github, "github");
  }

  /**
   * The merge base of {@code pull} (open) of repository {@code repositoryId}: the stored one when
   * the stored snapshot has the same head and base SHAs, else GitHub's; empty when unknown.
   */
  Optional<String> of(Pass pass, RepoName name, GhPull pull) {
    if (!GitHub.isSha(pull.baseSha()) || !GitHub.isSha(pull.headSha())) {
      return Optional.empty();
    }
    Optional<String> stored = jdbi.withHandle(h -> stored(h, pass.repositoryId(), pull));
    if (stored.isPresent()) {
      return stored;
    }
    pass.checkpoint();
    try {
      return Optional.of(
          github.compare(name.owner(), name.name(), pull.baseSha(), pull.headSha()).mergeBaseSha());
    } catch (GitHubException e) {
      if (!cannotCompare(e)) {
        throw e;
      }
      log.info(
          "merge base of PR #{} of {} unknown: {}", pull.number(), name, SyncState.describe(e));
      return Optional.empty();
    }
  }

  /** The stored merge base of {@code pull}, when its snapshot has the same head and base SHAs. */
  static Optional<String> stored(Handle h, long repositoryId, GhPull pull) {
    return h.createQuery(
            """
            select merge_base_sha from pr_snapshot
             where repository_id = :repo and number = :number
               and head_sha = :head_sha and base_sha = :base_sha and merge_base_sha is not null
            """)
        .bind("repo", repositoryId)
        .bind("number", pull.number())
        .bind("head_sha", pull.headSha())
        .bind("base_sha", pull.baseSha())
        .mapTo(String.class)
        .findOne();
  }

  /** GitHub answered, and the answer is that these two commits have no merge base it can tell. */
  private static boolean cannotCompare(GitHubException e) {
    if (e.status().isEmpty()) {
      return false;
    }
    int status = e.status().getAsInt();
    return e.isNotFound() || status == 422 || (status >= 200 && status < 300);
  }
}
