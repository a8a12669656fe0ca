package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** What each role serves: {@code worker} only health, readiness and metrics; {@code http} no workers. */
class RolesTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  @Test
  void aWorkerServesOnlyHealthReadinessAndMetrics() {
    try (FakeGitHub fake = FakeGitHub.start()) {
      Map<String, String> env = ReadRoutesTest.env(db, fake);
      env.put("CHANGESYNC_ROLE", "worker");
      env.put("CHANGESYNC_ADMIN_TOKEN", "roles-admin-token");
      env.put("CHANGESYNC_WEBHOOK_SECRET", "secret");
      try (ChangesyncServer worker = ChangesyncServer.start(ChangesyncConfig.from(env))) {
        Http http = new Http(worker.baseUri());

        assertThat(http.get("/healthz").status()).isEqualTo(200);
        assertThat(http.get("/readyz").status()).isEqualTo(200);
        assertThat(http.get("/metrics").status()).isEqualTo(200);
        for (String path :
            List.of(
                "/v1/changes/repos/acme/widgets/status",
                "/v1/changes/leases",
                "/v1/changes/workers")) {
          Http.Response r = http.get(path);
          assertThat(r.status()).as(path).isEqualTo(404);
          assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
        }
        assertThat(http.post("/webhooks/github", "{}", Map.of()).status()).isEqualTo(404);
        assertThat(worker.changesync().worker()).isPresent();
      }
    }
  }

  @Test
  void anHttpServerRunsNoWorkersAndNeedsNoGitHub() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    try (ChangesyncServer api = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      Http http = new Http(api.baseUri());

      assertThat(api.changesync().worker()).isEmpty();
      assertThat(api.changesync().owner().toString()).startsWith("admin@");
      Http.Response workers = http.get("/v1/changes/workers");
      assertThat(workers.status()).isEqualTo(200);
      workers
          .json()
          .get("workers")
          .forEach(w -> assertThat(w.get("alive").asBoolean()).as(w.toString()).isFalse());
    }
  }
}
