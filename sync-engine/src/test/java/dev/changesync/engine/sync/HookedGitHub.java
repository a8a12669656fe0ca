package dev.changesync.engine.sync;

import dev.changesync.engine.github.GhComparison;
import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GhPull;
import dev.changesync.engine.github.GhPullSummary;
import dev.changesync.engine.github.GhRepository;
import dev.changesync.engine.github.GitHub;
import java.util.function.IntConsumer;

/**
 * A {@link GitHub} that forwards to another and runs test hooks at chosen moments: after each page
 * of the open-PR listing has been handed to the lane, and before each single-PR request.
 */
final class HookedGitHub implements GitHub {

  private final GitHub delegate;
  private volatile IntConsumer afterListPage = page -> {};
  private volatile IntConsumer beforePull = number -> {};

  HookedGitHub(GitHub delegate) {
    this.delegate = delegate;
  }

  /** Runs {@code hook} with the page index (0-based) after the lane has taken each list page. */
  HookedGitHub afterListPage(IntConsumer hook) {
    this.afterListPage = hook;
    return this;
  }

  /** Runs {@code hook} with the PR number before each {@code GET} of a single PR. */
  HookedGitHub beforePull(IntConsumer hook) {
    this.beforePull = hook;
    return this;
  }

  @Override
  public GhRepository repository(String owner, String repo) {
    return delegate.repository(owner, repo);
  }

  @Override
  public ListingStats openPulls(String owner, String repo, PageConsumer<GhPullSummary> consumer) {
    int[] pages = {0};
    return delegate.openPulls(
        owner,
        repo,
        page -> {
          boolean more = consumer.accept(page);
          afterListPage.accept(pages[0]++);
          return more;
        });
  }

  @Override
  public GhPull pull(String owner, String repo, int number) {
    beforePull.accept(number);
    return delegate.pull(owner, repo, number);
  }

  @Override
  public ListingStats pullFiles(
      String owner, String repo, int number, PageConsumer<GhFile> consumer) {
    return delegate.pullFiles(owner, repo, number, consumer);
  }

  @Override
  public GhComparison compare(String owner, String repo, String baseSha, String headSha) {
    return delegate.compare(owner, repo, baseSha, headSha);
  }
}
