package dev.changesync.engine.sync;

import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.lease.LivenessSession;
import dev.changesync.engine.lease.PostgresLeaseStore;
import dev.changesync.lease.OwnerId;
import dev.changesync.testkit.github.FakeGitHub;
import java.time.Duration;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A worker process for crash tests: a real {@link Worker} on database time with a liveness
 * session, against a fake GitHub at a given URL. Prints {@code STARTED <owner>} once running and
 * then works until it is killed (or its stdin closes).
 *
 * <p>Arguments: {@code jdbcUrl gitHubBaseUrl workerName backfillMaxPulls}.
 */
public final class WorkerProcess {

  private WorkerProcess() {}

  public static void main(String[] args) throws Exception {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setUrl(args[0]);
    OwnerId owner = OwnerId.newIncarnation(args[2]);
    LivenessSession liveness = LivenessSession.open(dataSource, owner);
    PostgresLeaseStore store = PostgresLeaseStore.builder(dataSource).liveness(liveness).build();
    HttpGitHub github =
        HttpGitHub.create(
            GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                .baseUrl(args[1])
                .build());
    Worker worker =
        Worker.builder(store, github)
            .owner(owner)
            .liveness(liveness)
            .settings(
                SyncSettings.builder()
                    .pollEvery(Duration.ofMillis(50))
                    .backfillInterval(Duration.ZERO)
                    .backfillMaxPulls(Integer.parseInt(args[3]))
                    .workerThreads(1)
                    .build())
            .build();
    worker.start();
    System.out.println("STARTED " + owner);
    System.out.flush();
    // Work until killed; a closed stdin (the test JVM went away) stops the worker.
    while (System.in.read() >= 0) {
      // ignore input
    }
    worker.stop(Duration.ofSeconds(5));
    liveness.close();
    System.exit(0);
  }
}
