package dev.changesync.engine.github;

/** Which GitHub call a request belongs to, for {@link GitHubListener} (and metrics). */
public enum RequestKind {
  /** {@code GET /repos/{owner}/{repo}}. */
  REPOSITORY,
  /** One page of {@code GET /repos/{owner}/{repo}/pulls}. */
  PULLS_LIST,
  /** {@code GET /repos/{owner}/{repo}/pulls/{number}}. */
  PULL,
  /** One page of {@code GET /repos/{owner}/{repo}/pulls/{number}/files}. */
  FILES,
  /** {@code GET /repos/{owner}/{repo}/compare/{base}...{head}} (a pull request's merge base). */
  COMPARE,
  /** {@code POST /app/installations/{id}/access_tokens} (GitHub App auth). */
  ACCESS_TOKEN,
  /** {@code GET /repos/{owner}/{repo}/installation}: the App installation serving an owner. */
  INSTALLATION,
  /** One page of {@code GET /app/installations}: the App's installations. */
  INSTALLATIONS,
  /** One page of {@code GET /installation/repositories}: what an installation can see. */
  INSTALLATION_REPOSITORIES
}
