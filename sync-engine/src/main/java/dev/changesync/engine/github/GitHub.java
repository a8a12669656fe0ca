package dev.changesync.engine.github;

import java.util.List;

/**
 * The GitHub REST calls changesync makes. Implementations handle authentication, pagination (by
 * the {@code Link} header only), conditional requests, rate limits and retries; callers see
 * values or a {@link GitHubException}.
 *
 * <p>Lists arrive a page at a time through a {@link PageConsumer}, so a repository with thousands
 * of open pull requests never has to fit in memory, and long work can stop between pages.
 */
public interface GitHub {

  /** {@code GET /repos/{owner}/{repo}}. */
  GhRepository repository(String owner, String repo);

  /** The rate limit as GitHub last reported it, when this client has seen one. */
  default java.util.Optional<RateLimit> rateLimit() {
    return java.util.Optional.empty();
  }

  /** Each credential's rate limit as this client last saw it (empty when it has seen none). */
  default List<CredentialRateLimit> credentialRateLimits() {
    return List.of();
  }

  /**
   * The identity of the credential repositories of {@code owner} are read under, when known
   * without a request (see {@link CredentialRateLimit#credential()}); empty when the client has
   * not found the owner's GitHub App installation yet, or does not say.
   */
  default java.util.Optional<String> credential(String owner, String repo) {
    return java.util.Optional.empty();
  }

  /**
   * {@code GET /repos/{owner}/{repo}/pulls?state=open&per_page=100}, following {@code rel="next"}
   * until the last page or until {@code consumer} returns false.
   *
   * @return how the listing went (pages, and how many of them were answered 304 from the cache)
   */
  ListingStats openPulls(String owner, String repo, PageConsumer<GhPullSummary> consumer);

  /** {@code GET /repos/{owner}/{repo}/pulls/{number}}. */
  GhPull pull(String owner, String repo, int number);

  /**
   * {@code GET /repos/{owner}/{repo}/pulls/{number}/files?per_page=100}, following {@code
   * rel="next"}, at most {@link #MAX_FILES} files in all (GitHub's own limit); {@link
   * ListingStats#truncated()} tells when that limit was reached.
   */
  ListingStats pullFiles(String owner, String repo, int number, PageConsumer<GhFile> consumer);

  /**
   * {@code GET /repos/{owner}/{repo}/compare/{baseSha}...{headSha}?per_page=1}: how two commits
   * relate, in particular their merge base. Both must be commit SHAs (40 or 64 hex digits), so the
   * answer never changes and a repeated request is answered 304 from the conditional-request
   * cache. {@code per_page=1} keeps the commit list out of the body (GitHub still sends up to 300
   * changed files with it).
   *
   * @throws IllegalArgumentException when {@code baseSha} or {@code headSha} is not a SHA
   */
  GhComparison compare(String owner, String repo, String baseSha, String headSha);

  /** Whether {@code value} is a full commit SHA (SHA-1 or SHA-256, hex), as {@link #compare} takes. */
  static boolean isSha(String value) {
    if (value == null || (value.length() != 40 && value.length() != 64)) {
      return false;
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@link #openPulls(String, String, PageConsumer)} made conditional on the validators the caller
   * stored. {@link Conditional.Unchanged} — the consumer saw no page — only when GitHub answered
   * 304 to the stored {@code ETag} of every page of the stored listing, in order, up to its stored
   * last page (and that page was not full, so no page can have been added after it). Otherwise
   * every page goes to the consumer as without validators, and {@link Conditional.Changed} carries
   * the validators of the pages consumed, to be stored with their data.
   *
   * <p>The default ignores {@code known} and stores nothing.
   */
  default Conditional<ListingStats> openPulls(
      String owner, String repo, KnownETags known, PageConsumer<GhPullSummary> consumer) {
    return new Conditional.Changed<>(openPulls(owner, repo, consumer), List.of());
  }

  /**
   * {@link #pull(String, String, int)} made conditional: {@link Conditional.Unchanged} when GitHub
   * answered 304 to the stored {@code ETag}. The default ignores {@code known}.
   */
  default Conditional<GhPull> pull(String owner, String repo, int number, KnownETags known) {
    return new Conditional.Changed<>(pull(owner, repo, number), List.of());
  }

  /**
   * {@link #pullFiles(String, String, int, PageConsumer)} made conditional, as {@link
   * #openPulls(String, String, KnownETags, PageConsumer)}. The default ignores {@code known}.
   */
  default Conditional<ListingStats> pullFiles(
      String owner, String repo, int number, KnownETags known, PageConsumer<GhFile> consumer) {
    return new Conditional.Changed<>(pullFiles(owner, repo, number, consumer), List.of());
  }

  /**
   * {@code GET /installation/repositories?per_page=100} with the token of GitHub App installation
   * {@code installationId}: every repository it can see, a page at a time, following {@code
   * rel="next"} until the last page or until {@code consumer} returns false.
   *
   * @throws UnsupportedOperationException without GitHub App credentials (the default)
   */
  default ListingStats installationRepositories(
      long installationId, PageConsumer<GhRepository> consumer) {
    throw new UnsupportedOperationException(
        "listing an installation's repositories needs GitHub App credentials");
  }

  /** GitHub lists at most this many files of a pull request. */
  int MAX_FILES = 3_000;

  /** Receives one page of a listing; returns false to stop listing. */
  @FunctionalInterface
  interface PageConsumer<T> {
    boolean accept(List<T> page);
  }

  /**
   * What a paginated listing cost and returned.
   *
   * @param pages pages fetched (each one request)
   * @param notModifiedPages of those, pages GitHub answered 304 and the client served from its
   *     cache (they cost no rate limit)
   * @param items items handed to the consumer
   * @param truncated the listing reached {@link #MAX_FILES} and stopped there: the pull request may
   *     have more files than were listed (compare {@link GhPull#changedFiles()}); always false for
   *     pull request listings
   */
  record ListingStats(int pages, int notModifiedPages, int items, boolean truncated) {

    /** Stats of a listing that was not truncated. */
    public ListingStats(int pages, int notModifiedPages, int items) {
      this(pages, notModifiedPages, items, false);
    }
  }
}
