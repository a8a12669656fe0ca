package com.example;

import dev.changesync.engine.Changesync;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.engine.sync.SyncSettings;
import java.time.Duration;

/** Syncs the open pull requests of one repository into PostgreSQL and prints its status. */
public final class EmbeddingExample {

  public static void main(String[] args) throws InterruptedException {
    GitHubSettings github =
        GitHubSettings.of(GitHubAuth.token(System.getenv("CHANGESYNC_GITHUB_TOKEN")));
    RepositoryStatus status =
        sync(System.getenv("CHANGESYNC_DATABASE_URL"), github, RepoName.parse(args[0]));
    System.out.printf(
        "%s: %d open pull requests, %d current%n",
        status.fullName(), status.openPrTotal(), status.openPrCurrent());
  }

  static RepositoryStatus sync(String jdbcUrl, GitHubSettings github, RepoName repo)
      throws InterruptedException {
    try (Changesync changesync =
        Changesync.builder()
            .jdbcUrl(jdbcUrl) // or .dataSource(yourPool)
            .github(github)
            .syncSettings(
                SyncSettings.builder()
                    .workerThreads(2)
                    .pollEvery(Duration.ofMillis(200))
                    .build())
            .build()
            .start()) { // migrates the schema, then the worker starts polling
      // Track the repository: the next pass lists its open pull requests, backfill snapshots them.
      changesync.admin().configureBackfill(repo, BackfillMode.OPEN_ONLY, 10);
      RepositoryStatus status = changesync.status().repositoryStatus(repo);
      while (!status.converged()) { // scanned, every open PR current, no hint pending
        Thread.sleep(200);
        status = changesync.status().repositoryStatus(repo);
      }
      return status;
    } // close(): running passes finish, every lease is released, the pool is closed
  }
}
