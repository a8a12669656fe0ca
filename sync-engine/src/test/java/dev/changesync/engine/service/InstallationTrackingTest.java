package dev.changesync.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.config.Secret;
import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.github.HttpGitHub;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeApp;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.FakeInstallation;
import dev.changesync.testkit.github.FakeRepo;
import dev.changesync.testkit.github.RequestKind;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code track --installation}: every repository a GitHub App installation sees is tracked, and the
 * set kept current by a re-list and by the {@code installation_repositories} webhook.
 */
class InstallationTrackingTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String APP_ID = "999";
  private static final String SECRET = "installation secret";
  private static final FakeApp app = FakeApp.generate(APP_ID, 1);

  private final MutableClock clock = new MutableClock();
  private FakeGitHub fake;
  private FakeInstallation acme;
  private FakeRepo widgets;
  private FakeRepo gadgets;
  private Jdbi jdbi;
  private AdminService admin;
  private WebhookIntake intake;

  @BeforeEach
  void setUp() throws Exception {
    db.truncateAllTables();
    fake = FakeGitHub.builder().clock(clock).start();
    fake.registerApp(app);
    acme = fake.install(app, "acme", 101);
    fake.install(app, "globex", 202);
    widgets = fake.createRepo("acme", "widgets");
    gadgets = fake.createRepo("acme", "gadgets");
    fake.createRepo("acme", "tools");
    fake.createRepo("globex", "rockets");
    HttpGitHub github =
        HttpGitHub.builder(
                GitHubSettings.builder(GitHubAuth.app(APP_ID, app.privateKeyPem()))
                    .baseUrl(fake.baseUrl())
                    .pageSize(2) // the listing takes two pages
                    .build())
            .clock(clock)
            .build();
    jdbi = Jdbi.create(db.dataSource());
    DbTime time = DbTime.injected(clock);
    admin = new AdminService(jdbi, time, Optional.of(github));
    intake = new WebhookIntake(jdbi, time, Optional.of(Secret.of(SECRET)));
  }

  @AfterEach
  void tearDown() {
    fake.close();
  }

  private List<Map<String, Object>> tracked() {
    return jdbi.withHandle(
        h ->
            h.createQuery(
                    "select r.full_name, coalesce(r.github_installation_id, 0) as installation,"
                        + " s.backfill_mode,"
                        + " s.backfill_priority from repository r"
                        + " join repository_sync_state s on s.repository_id = r.id"
                        + " order by r.full_name")
                .mapToMap()
                .list());
  }

  private List<String> names() {
    return tracked().stream().map(r -> (String) r.get("full_name")).toList();
  }

  @Test
  void everyRepositoryTheInstallationSeesIsTrackedOnce() {
    admin.configureBackfill(RepoName.of("acme", "tools"), BackfillMode.OPEN_ONLY, 1);

    InstallationTracking.TrackedInstallation result =
        admin.trackInstallation(101, BackfillMode.OPEN_ONLY, 7);

    assertThat(result.repositories()).isEqualTo(3);
    assertThat(result.added()).containsExactlyInAnyOrder("acme/widgets", "acme/gadgets");
    assertThat(result.removed()).isEmpty();
    assertThat(fake.requests(RequestKind.INSTALLATION_REPOSITORIES, 200)).isEqualTo(2);
    assertThat(tracked())
        .containsExactly(
            Map.of(
                "full_name", "acme/gadgets",
                "installation", 101L,
                "backfill_mode", "open_only",
                "backfill_priority", 7),
            // Tracked by name before: keeps its configuration, and is not the installation's.
            Map.of(
                "full_name", "acme/tools",
                "installation", 0L,
                "backfill_mode", "open_only",
                "backfill_priority", 1),
            Map.of(
                "full_name", "acme/widgets",
                "installation", 101L,
                "backfill_mode", "open_only",
                "backfill_priority", 7));

    // Tracking it again changes nothing.
    assertThat(admin.trackInstallation(101, BackfillMode.OPEN_ONLY, 7).added()).isEmpty();
    assertThat(names()).hasSize(3);
  }

  @Test
  void theReListTracksAddedAndUntracksRemovedRepositories() {
    admin.configureBackfill(RepoName.of("acme", "tools"), BackfillMode.OPEN_ONLY, 1);
    admin.trackInstallation(101, BackfillMode.OPEN_ONLY, 0);
    acme.removeRepository(gadgets);
    acme.removeRepository(fake.repo("acme", "tools"));
    fake.createRepo("acme", "sprockets");

    // Not due yet: listed just now.
    assertThat(admin.installations().relistDue(Duration.ofHours(1))).isEmpty();

    clock.advance(Duration.ofMinutes(61));
    List<InstallationTracking.TrackedInstallation> relisted =
        admin.installations().relistDue(Duration.ofHours(1));

    assertThat(relisted)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.added()).containsExactly("acme/sprockets");
              assertThat(r.removed()).containsExactly("acme/gadgets");
            });
    // acme/tools was tracked by name: it stays although the installation lost it.
    assertThat(names()).containsExactly("acme/sprockets", "acme/tools", "acme/widgets");
    assertThat(admin.installations().relistDue(Duration.ofHours(1))).isEmpty();
  }

  @Test
  void theInstallationRepositoriesWebhookKeepsTheSetCurrent() {
    admin.trackInstallation(101, BackfillMode.OPEN_ONLY, 0);
    String body =
        """
        {"action": "added",
         "installation": {"id": 101, "account": {"login": "acme"}},
         "repository_selection": "selected",
         "repositories_added": [{"id": 9, "name": "new", "full_name": "acme/new", "private": true}],
         "repositories_removed": [{"id": 8, "name": "widgets", "full_name": "acme/widgets"}]}
        """;
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);

    WebhookResult result =
        intake.receive(
            WebhookIntakeTest.headers(
                "installation_repositories", "d-1", WebhookIntakeTest.sign(SECRET, bytes)),
            bytes);

    assertThat(result.outcome()).isEqualTo(WebhookResult.Outcome.ACCEPTED);
    assertThat(result.reason()).isEqualTo("installation 101: 1 repositories tracked, 1 untracked");
    assertThat(names()).containsExactly("acme/gadgets", "acme/new", "acme/tools");

    // An installation not tracked in full: recorded and ignored.
    byte[] other =
        body.replace("\"id\": 101", "\"id\": 202").getBytes(StandardCharsets.UTF_8);
    WebhookResult ignored =
        intake.receive(
            WebhookIntakeTest.headers(
                "installation_repositories", "d-2", WebhookIntakeTest.sign(SECRET, other)),
            other);
    assertThat(ignored.outcome()).isEqualTo(WebhookResult.Outcome.IGNORED);
    assertThat(names()).containsExactly("acme/gadgets", "acme/new", "acme/tools");
  }

  @Test
  void badInputIsRefusedWithAClearMessage() {
    assertThatThrownBy(() -> admin.trackInstallation(0, BackfillMode.OPEN_ONLY, 0))
        .isInstanceOf(BadInputException.class)
        .hasMessage("installation id must be positive, was 0");
    assertThatThrownBy(() -> admin.trackInstallation(555, BackfillMode.OPEN_ONLY, 0))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("installation 555");
    AdminService withToken =
        new AdminService(
            jdbi,
            DbTime.injected(clock),
            Optional.of(
                HttpGitHub.create(
                    GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
                        .baseUrl(fake.baseUrl())
                        .build())));
    assertThatThrownBy(() -> withToken.trackInstallation(101, BackfillMode.OPEN_ONLY, 0))
        .isInstanceOf(NotConfiguredException.class)
        .hasMessageContaining("needs GitHub App credentials");
    assertThat(names()).isEmpty();
  }
}
