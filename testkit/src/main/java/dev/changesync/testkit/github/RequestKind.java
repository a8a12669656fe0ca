package dev.changesync.testkit.github;

/** What a request to {@link FakeGitHub} asked for; counters and faults are kept per kind. */
public enum RequestKind {
  /** {@code GET /repos/{owner}/{repo}} (or {@code /repositories/{id}}). */
  REPOSITORY,
  /** {@code GET /repos/{owner}/{repo}/pulls}, any page. */
  PULLS_LIST,
  /** {@code GET /repos/{owner}/{repo}/pulls/{number}}. */
  PULL,
  /** {@code GET /repos/{owner}/{repo}/pulls/{number}/files}, any page. */
  FILES,
  /** {@code GET /repos/{owner}/{repo}/compare/{base}...{head}}, any page. */
  COMPARE,
  /** {@code POST /app/installations/{id}/access_tokens}. */
  ACCESS_TOKEN,
  /** {@code GET /repos/{owner}/{repo}/installation} (with the app's JWT). */
  INSTALLATION,
  /** {@code GET /app/installations}, any page (with the app's JWT). */
  APP_INSTALLATIONS,
  /** {@code GET /installation/repositories}, any page (with an installation token). */
  INSTALLATION_REPOSITORIES,
  /** Anything else (answered 404). */
  OTHER
}
