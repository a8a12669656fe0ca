package dev.changesync.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.config.ChangesyncConfig.Role;
import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.sync.SyncSettings;
import dev.changesync.http.ChangesyncServer;
import dev.changesync.http.HttpSettings;
import dev.changesync.lease.LeasePolicy;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChangesyncConfigTest {

  @TempDir Path dir;

  private static ChangesyncConfig parse(Map<String, String> env, String... args) {
    return ChangesyncConfig.from(env, List.of(args), HttpSettings.SETTINGS);
  }

  private static ConfigException failure(Map<String, String> env, String... args) {
    try {
      ChangesyncConfig.from(env, List.of(args), HttpSettings.SETTINGS);
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("expected a ConfigException for " + env + " " + List.of(args));
  }

  private static final KeyPair KEYS = rsaKeys();

  private static KeyPair rsaKeys() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      return generator.generateKeyPair();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A GitHub App private key file (PKCS#8 PEM). */
  private Path keyFile() throws IOException {
    Path key = dir.resolve("app.pem");
    String base64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
            .encodeToString(KEYS.getPrivate().getEncoded());
    Files.writeString(
        key, "-----BEGIN PRIVATE KEY-----\n" + base64 + "\n-----END PRIVATE KEY-----\n");
    return key;
  }

  private static void assertApp(ChangesyncConfig config, String appId, long installationId) {
    assertThat(GitHubAuth.from(config)).containsInstanceOf(GitHubAuth.App.class);
    GitHubAuth.App app = (GitHubAuth.App) GitHubAuth.from(config).orElseThrow();
    assertThat(app.appId()).isEqualTo(appId);
    assertThat(app.installationId()).isEqualTo(installationId);
    assertThat(app.privateKey().getEncoded()).isEqualTo(KEYS.getPrivate().getEncoded());
  }

  @Test
  void everySettingHasItsDefault() {
    ChangesyncConfig config = parse(Map.of());

    assertThat(config.databaseUrl()).isEmpty();
    assertThat(config.databaseUser()).isEmpty();
    assertThat(config.databasePassword()).isEmpty();
    assertThat(HttpSettings.from(config).host()).isEqualTo("127.0.0.1");
    assertThat(HttpSettings.from(config).port()).isEqualTo(8080);
    assertThat(config.role()).isEqualTo(Role.ALL);
    assertThat(config.workerName())
        .endsWith(":" + ProcessHandle.current().pid())
        .doesNotContainAnyWhitespaces()
        .hasSizeGreaterThan((":" + ProcessHandle.current().pid()).length());
    assertThat(config.workerThreads()).isEqualTo(2);
    assertThat(config.get(Setting.GITHUB_API_URL)).isEqualTo(URI.create("https://api.github.com"));
    assertThat(GitHubAuth.from(config)).isEmpty();
    assertThat(config.webhookSecret()).isEmpty();
    assertThat(config.adminToken()).isEmpty();
    assertThat(config.leasePolicy())
        .isEqualTo(
            LeasePolicy.of(Duration.ofMinutes(15), Duration.ofSeconds(10), Duration.ofSeconds(30)));
    assertThat(config.liveness()).isTrue();
    assertThat(config.synchronousRelease()).isFalse();
    assertThat(config.get(Setting.POLL_INTERVAL)).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.get(Setting.WEBHOOK_DEBOUNCE)).isEqualTo(Duration.ofSeconds(15));
    assertThat(config.get(Setting.MIN_FETCH_INTERVAL)).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.get(Setting.INVENTORY_MAX_AGE)).isEqualTo(Duration.ofHours(6));
    assertThat(config.get(Setting.BACKFILL_INTERVAL)).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.get(Setting.BACKFILL_MAX_PRS)).isEqualTo(1000);
    assertThat(config.get(Setting.BACKFILL_MAX_RUNTIME)).isEqualTo(Duration.ofMinutes(30));
    assertThat(config.get(Setting.SHUTDOWN_GRACE)).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.migrate()).isTrue();
    assertThat(config.logFormat()).isEqualTo(ChangesyncConfig.LogFormat.TEXT);
  }

  @Test
  void everyVariableIsRead() throws IOException {
    Path key = keyFile();
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_DATABASE_URL", "jdbc:postgresql://db:5432/changesync");
    env.put("CHANGESYNC_DATABASE_USER", "sync");
    env.put("CHANGESYNC_DATABASE_PASSWORD", "db-pass");
    env.put("CHANGESYNC_HTTP_HOST", "0.0.0.0");
    env.put("CHANGESYNC_HTTP_PORT", "9090");
    env.put("CHANGESYNC_ROLE", "worker");
    env.put("CHANGESYNC_WORKER_NAME", "worker-7");
    env.put("CHANGESYNC_WORKER_THREADS", "8");
    env.put("CHANGESYNC_GITHUB_API_URL", "https://ghe.example.com/api/v3/");
    env.put("CHANGESYNC_GITHUB_APP_ID", "12345");
    env.put("CHANGESYNC_GITHUB_APP_INSTALLATION_ID", "678");
    env.put("CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", key.toString());
    env.put("CHANGESYNC_WEBHOOK_SECRET", "hook-secret");
    env.put("CHANGESYNC_ADMIN_TOKEN", "admin-token-0123456789");
    env.put("CHANGESYNC_LEASE_TTL", "2m");
    env.put("CHANGESYNC_HEARTBEAT_INTERVAL", "5s");
    env.put("CHANGESYNC_STALE_AFTER", "20s");
    env.put("CHANGESYNC_LIVENESS", "off");
    env.put("CHANGESYNC_POLL_INTERVAL", "500ms");
    env.put("CHANGESYNC_WEBHOOK_DEBOUNCE", "PT3S");
    env.put("CHANGESYNC_MIN_FETCH_INTERVAL", "30s");
    env.put("CHANGESYNC_INVENTORY_MAX_AGE", "1d");
    env.put("CHANGESYNC_BACKFILL_INTERVAL", "0");
    env.put("CHANGESYNC_BACKFILL_MAX_PRS", "50");
    env.put("CHANGESYNC_BACKFILL_MAX_RUNTIME", "10m");
    env.put("CHANGESYNC_SHUTDOWN_GRACE", "1m");
    env.put("CHANGESYNC_MIGRATE", "off");
    env.put("CHANGESYNC_LOG_FORMAT", "json");

    ChangesyncConfig config = parse(env);

    assertThat(config.databaseUrl()).contains("jdbc:postgresql://db:5432/changesync");
    assertThat(config.databaseUser()).contains("sync");
    assertThat(config.databasePassword().orElseThrow().reveal()).isEqualTo("db-pass");
    assertThat(HttpSettings.from(config).host()).isEqualTo("0.0.0.0");
    assertThat(HttpSettings.from(config).port()).isEqualTo(9090);
    assertThat(config.role()).isEqualTo(Role.WORKER);
    assertThat(config.role().runsWorkers()).isTrue();
    assertThat(config.role().runsHttp()).isFalse();
    assertThat(config.workerName()).isEqualTo("worker-7");
    assertThat(config.workerThreads()).isEqualTo(8);
    assertThat(config.get(Setting.GITHUB_API_URL)).isEqualTo(URI.create("https://ghe.example.com/api/v3"));
    assertApp(config, "12345", 678);
    assertThat(config.webhookSecret().orElseThrow().reveal()).isEqualTo("hook-secret");
    assertThat(config.adminToken().orElseThrow().reveal()).isEqualTo("admin-token-0123456789");
    assertThat(config.leasePolicy())
        .isEqualTo(
            LeasePolicy.of(Duration.ofMinutes(2), Duration.ofSeconds(5), Duration.ofSeconds(20)));
    assertThat(config.liveness()).isFalse();
    assertThat(config.get(Setting.POLL_INTERVAL)).isEqualTo(Duration.ofMillis(500));
    assertThat(config.get(Setting.WEBHOOK_DEBOUNCE)).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.get(Setting.MIN_FETCH_INTERVAL)).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.get(Setting.INVENTORY_MAX_AGE)).isEqualTo(Duration.ofDays(1));
    assertThat(config.get(Setting.BACKFILL_INTERVAL)).isEqualTo(Duration.ZERO);
    assertThat(config.get(Setting.BACKFILL_MAX_PRS)).isEqualTo(50);
    assertThat(config.get(Setting.BACKFILL_MAX_RUNTIME)).isEqualTo(Duration.ofMinutes(10));
    assertThat(config.get(Setting.SHUTDOWN_GRACE)).isEqualTo(Duration.ofMinutes(1));
    assertThat(config.migrate()).isFalse();
    assertThat(config.logFormat()).isEqualTo(ChangesyncConfig.LogFormat.JSON);
  }

  @Test
  void aGitHubTokenIsTokenAuth() {
    ChangesyncConfig config = parse(Map.of("CHANGESYNC_GITHUB_TOKEN", "ghp_secret"));

    assertThat(GitHubAuth.from(config)).containsInstanceOf(GitHubAuth.Token.class);
    assertThat(((GitHubAuth.Token) GitHubAuth.from(config).orElseThrow()).token())
        .isEqualTo("ghp_secret");
  }

  @Test
  void aBadDurationNamesTheVariableAndTheValue() {
    ConfigException e = failure(Map.of("CHANGESYNC_LEASE_TTL", "fifteen"));

    assertThat(e.problems())
        .containsExactly(
            "CHANGESYNC_LEASE_TTL: 'fifteen' is not a duration"
                + " (use 500ms, 15s, 15m, 6h or ISO-8601 like PT15M)");
    assertThat(e).hasMessage(e.problems().get(0));
  }

  @Test
  void everyProblemIsReportedNotJustTheFirst() {
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_HTTP_PORT", "http");
    env.put("CHANGESYNC_WORKER_THREADS", "0");
    env.put("CHANGESYNC_ROLE", "boss");
    env.put("CHANGESYNC_LIVENESS", "maybe");
    env.put("CHANGESYNC_POLL_INTERVAL", "5");
    env.put("CHANGESYNC_BACKFILL_MAX_PRS", "-1");
    env.put("CHANGESYNC_GITHUB_API_URL", "ftp://github");
    env.put("CHANGESYNC_DATABASE_URL", "mysql://u:hunter2@db/x");

    ConfigException e = failure(env);

    assertThat(e.problems())
        .hasSize(8)
        .anySatisfy(
            p -> assertThat(p).startsWith("CHANGESYNC_HTTP_PORT: 'http' is not a whole number"))
        .anySatisfy(p -> assertThat(p).startsWith("CHANGESYNC_WORKER_THREADS: 0 is out of range"))
        .anySatisfy(p -> assertThat(p).startsWith("CHANGESYNC_ROLE: 'boss' is not a role"))
        .anySatisfy(p -> assertThat(p).startsWith("CHANGESYNC_LIVENESS: 'maybe' is not on or off"))
        .anySatisfy(
            p -> assertThat(p).startsWith("CHANGESYNC_POLL_INTERVAL: '5' is not a duration"))
        .anySatisfy(
            p -> assertThat(p).startsWith("CHANGESYNC_BACKFILL_MAX_PRS: -1 is out of range"))
        .anySatisfy(p -> assertThat(p).startsWith("CHANGESYNC_GITHUB_API_URL: 'ftp://github'"))
        .anySatisfy(
            p -> assertThat(p).startsWith("CHANGESYNC_DATABASE_URL: 'mysql://u:****@db/x'"));
    assertThat(e.getMessage())
        .startsWith("invalid configuration (8 problems):")
        .doesNotContain("hunter2");
  }

  @Test
  void theServicePoolSizeIsDerivedFromTheRoleAndWorkerThreadsUnlessGiven() {
    assertThat(parse(Map.of()).databasePoolSize()).as("all, 2 threads: today's 4").isEqualTo(4);
    assertThat(parse(Map.of("CHANGESYNC_WORKER_THREADS", "6")).databasePoolSize()).isEqualTo(8);
    assertThat(parse(Map.of("CHANGESYNC_WORKER_THREADS", "64")).databasePoolSize())
        .isEqualTo(10);
    assertThat(parse(Map.of("CHANGESYNC_ROLE", "http")).databasePoolSize()).isEqualTo(10);
    assertThat(parse(Map.of("CHANGESYNC_ROLE", "worker")).databasePoolSize()).isEqualTo(2);
    assertThat(
            parse(Map.of("CHANGESYNC_ROLE", "http", "CHANGESYNC_DATABASE_POOL_SIZE", "32"))
                .databasePoolSize())
        .isEqualTo(32);
    assertThat(parse(Map.of(), "--database-pool-size", "3").databasePoolSize()).isEqualTo(3);
    assertThat(parse(Map.of("CHANGESYNC_DATABASE_POOL_SIZE", "7")).toString())
        .contains("databasePoolSize=7");
  }

  @Test
  void aBadServicePoolSizeIsOneLineNamingTheVariable() {
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_POOL_SIZE", "0")).problems())
        .containsExactly(
            "CHANGESYNC_DATABASE_POOL_SIZE: 0 is out of range (between 2 and 1000)");
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_POOL_SIZE", "-3")).problems())
        .containsExactly(
            "CHANGESYNC_DATABASE_POOL_SIZE: -3 is out of range (between 2 and 1000)");
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_POOL_SIZE", "1")).problems())
        .as("migrations on start hold two connections")
        .containsExactly(
            "CHANGESYNC_DATABASE_POOL_SIZE: 1 is out of range (between 2 and 1000)");
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_POOL_SIZE", "many")).getMessage())
        .isEqualTo("CHANGESYNC_DATABASE_POOL_SIZE: 'many' is not a whole number");
    assertThat(failure(Map.of(), "--database-pool-size", "1001").problems())
        .containsExactly("--database-pool-size: 1001 is out of range (between 2 and 1000)");
  }

  @Test
  void portMustBeInRangeAndZeroMeansAnyFreePort() {
    assertThat(failure(Map.of("CHANGESYNC_HTTP_PORT", "70000")).problems())
        .containsExactly("CHANGESYNC_HTTP_PORT: 70000 is out of range (between 0 and 65535)");
    assertThat(failure(Map.of("CHANGESYNC_HTTP_PORT", "-1")).problems())
        .containsExactly("CHANGESYNC_HTTP_PORT: -1 is out of range (between 0 and 65535)");
    assertThat(HttpSettings.from(parse(Map.of("CHANGESYNC_HTTP_PORT", "0"))).port()).isZero();
  }

  @Test
  void zeroIsRefusedWhereItWouldSpinButAllowedForWaits() {
    assertThat(failure(Map.of("CHANGESYNC_POLL_INTERVAL", "0")).problems())
        .containsExactly("CHANGESYNC_POLL_INTERVAL: '0' must be longer than zero");
    assertThat(failure(Map.of("CHANGESYNC_LEASE_TTL", "0s")).problems()).hasSize(1);
    ChangesyncConfig config =
        parse(Map.of("CHANGESYNC_WEBHOOK_DEBOUNCE", "0", "CHANGESYNC_SHUTDOWN_GRACE", "0s"));
    assertThat(config.get(Setting.WEBHOOK_DEBOUNCE)).isZero();
    assertThat(config.get(Setting.SHUTDOWN_GRACE)).isZero();
  }

  @Test
  void flagsOverrideTheEnvironmentInBothSpellings() {
    Map<String, String> env =
        Map.of(
            "CHANGESYNC_HTTP_PORT", "8081",
            "CHANGESYNC_ROLE", "http",
            "CHANGESYNC_LEASE_TTL", "1m");

    ChangesyncConfig config =
        parse(env, "--http-port", "9090", "--role=worker", "--worker-threads", "4");

    assertThat(HttpSettings.from(config).port()).isEqualTo(9090);
    assertThat(config.role()).isEqualTo(Role.WORKER);
    assertThat(config.workerThreads()).isEqualTo(4);
    assertThat(config.leasePolicy().leaseFor()).isEqualTo(Duration.ofMinutes(1));
  }

  @Test
  void everySettingHasAFlag() throws IOException {
    Path key = keyFile();
    ChangesyncConfig config =
        parse(
            Map.of(),
            "--database-url=jdbc:postgresql://h/d",
            "--database-user=u",
            "--database-password=p",
            "--http-host=::1",
            "--http-port=1",
            "--role=http",
            "--worker-name=w",
            "--worker-threads=3",
            "--github-api-url=http://localhost:1234",
            "--github-app-id=Iv23liAbC.x",
            "--github-app-installation-id=2",
            "--github-app-private-key-path=" + key,
            "--webhook-secret=s",
            "--admin-token=t0123456789abcdef",
            "--lease-ttl=1m",
            "--heartbeat-interval=1s",
            "--stale-after=5s",
            "--liveness=false",
            "--poll-interval=1s",
            "--webhook-debounce=2s",
            "--min-fetch-interval=3s",
            "--inventory-max-age=4s",
            "--backfill-interval=5s",
            "--backfill-max-prs=6",
            "--backfill-max-runtime=7s",
            "--shutdown-grace=8s",
            "--migrate=no",
            "--log-format=JSON");

    assertThat(config.databaseUrl()).contains("jdbc:postgresql://h/d");
    assertThat(config.databaseUser()).contains("u");
    assertThat(config.databasePassword().orElseThrow().reveal()).isEqualTo("p");
    assertThat(HttpSettings.from(config).host()).isEqualTo("::1");
    assertThat(HttpSettings.from(config).port()).isEqualTo(1);
    assertThat(config.role()).isEqualTo(Role.HTTP);
    assertThat(config.workerName()).isEqualTo("w");
    assertThat(config.workerThreads()).isEqualTo(3);
    assertThat(config.get(Setting.GITHUB_API_URL)).isEqualTo(URI.create("http://localhost:1234"));
    assertApp(config, "Iv23liAbC.x", 2);
    assertThat(config.webhookSecret().orElseThrow().reveal()).isEqualTo("s");
    assertThat(config.adminToken().orElseThrow().reveal()).isEqualTo("t0123456789abcdef");
    assertThat(config.leasePolicy())
        .isEqualTo(
            LeasePolicy.of(Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(5)));
    assertThat(config.liveness()).isFalse();
    assertThat(config.get(Setting.POLL_INTERVAL)).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.get(Setting.WEBHOOK_DEBOUNCE)).isEqualTo(Duration.ofSeconds(2));
    assertThat(config.get(Setting.MIN_FETCH_INTERVAL)).isEqualTo(Duration.ofSeconds(3));
    assertThat(config.get(Setting.INVENTORY_MAX_AGE)).isEqualTo(Duration.ofSeconds(4));
    assertThat(config.get(Setting.BACKFILL_INTERVAL)).isEqualTo(Duration.ofSeconds(5));
    assertThat(config.get(Setting.BACKFILL_MAX_PRS)).isEqualTo(6);
    assertThat(config.get(Setting.BACKFILL_MAX_RUNTIME)).isEqualTo(Duration.ofSeconds(7));
    assertThat(config.get(Setting.SHUTDOWN_GRACE)).isEqualTo(Duration.ofSeconds(8));
    assertThat(config.migrate()).isFalse();
    assertThat(config.logFormat()).isEqualTo(ChangesyncConfig.LogFormat.JSON);
    for (Setting<?> s : ChangesyncServer.settings()) {
      assertThat(ChangesyncConfig.usage(HttpSettings.SETTINGS))
          .contains(s.flag())
          .contains(s.envName());
    }
  }

  @Test
  void aBadFlagValueNamesTheFlag() {
    assertThat(failure(Map.of("CHANGESYNC_LEASE_TTL", "1m"), "--lease-ttl", "soon").problems())
        .containsExactly(
            "--lease-ttl: 'soon' is not a duration (use 500ms, 15s, 15m, 6h or ISO-8601 like"
                + " PT15M)");
  }

  @Test
  void unknownFlagsMissingValuesAndStrayArgumentsAreProblems() {
    ConfigException e = failure(Map.of(), "--htp-port", "1", "--role", "--http-port", "serve");

    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "unknown option --htp-port",
            "unexpected argument '1' (settings are --flag value)",
            "--role: needs a value",
            "--http-port: 'serve' is not a whole number");
  }

  @Test
  void anEmptyValueIsUnset() {
    ChangesyncConfig config =
        parse(Map.of("CHANGESYNC_GITHUB_TOKEN", "", "CHANGESYNC_HTTP_PORT", " "), "--admin-token=");

    assertThat(GitHubAuth.from(config)).isEmpty();
    assertThat(HttpSettings.from(config).port()).isEqualTo(8080);
    assertThat(config.adminToken()).isEmpty();
  }

  @Test
  void secretsNeverAppearInToString() {
    Map<String, String> env = new HashMap<>();
    env.put("CHANGESYNC_DATABASE_URL", "jdbc:postgresql://db/x?user=u&password=url-pass&ssl=true");
    env.put("CHANGESYNC_DATABASE_PASSWORD", "db-pass");
    env.put("CHANGESYNC_GITHUB_TOKEN", "ghp_token");
    env.put("CHANGESYNC_WEBHOOK_SECRET", "hook-secret");
    env.put("CHANGESYNC_ADMIN_TOKEN", "admin-token-0123456789");

    ChangesyncConfig config = parse(env);

    assertThat(config.toString())
        .doesNotContain("url-pass", "db-pass", "ghp_token", "hook-secret", "admin-token")
        .contains("password=****&ssl=true")
        .contains("databasePassword=****")
        .contains("githubAuth=token ****")
        .contains("webhookSecret=****")
        .contains("adminToken=****")
        .contains("leasePolicy=ttl 15m, heartbeat 10s, stale after 30s");
    assertThat(GitHubAuth.from(config).orElseThrow().toString()).doesNotContain("ghp_token");
    assertThat(config.adminToken().orElseThrow().toString()).isEqualTo("****");
  }

  @Test
  void secretsMatchInConstantTime() {
    Secret secret = Secret.of("admin-token");
    assertThat(secret.matches("admin-token")).isTrue();
    assertThat(secret.matches("admin-tokem")).isFalse();
    assertThat(secret.matches("admin")).isFalse();
    assertThat(secret.matches(null)).isFalse();
  }

  @Test
  void aTokenAndAppSettingsTogetherAreAnError() throws IOException {
    ConfigException e =
        failure(
            Map.of(
                "CHANGESYNC_GITHUB_TOKEN", "ghp_x",
                "CHANGESYNC_GITHUB_APP_ID", "1"));

    assertThat(e.problems())
        .containsExactly(
            "CHANGESYNC_GITHUB_TOKEN: a GitHub token and GitHub App settings are both set;"
                + " use one or the other");
    assertThat(e.getMessage()).doesNotContain("ghp_x");
  }

  @Test
  void incompleteAppSettingsNameWhatIsMissing() {
    ConfigException e = failure(Map.of("CHANGESYNC_GITHUB_APP_ID", "1"));

    assertThat(e.problems())
        .containsExactly(
            "GitHub App settings are incomplete: CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH"
                + " (--github-app-private-key-path) is missing (an app needs its id and private"
                + " key path; without CHANGESYNC_GITHUB_APP_INSTALLATION_ID each repository"
                + " owner's installation is found)");
  }

  @Test
  void anAppWithoutAnInstallationIdFindsEachOwnersInstallation() throws IOException {
    Path key = keyFile();
    ChangesyncConfig config =
        parse(
            Map.of(
                "CHANGESYNC_GITHUB_APP_ID", "321",
                "CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", key.toString()));

    assertThat(GitHubAuth.from(config)).containsInstanceOf(GitHubAuth.AppInstallations.class);
    GitHubAuth.AppInstallations app =
        (GitHubAuth.AppInstallations) GitHubAuth.from(config).orElseThrow();
    assertThat(app.appId()).isEqualTo("321");
    assertThat(app.privateKey().getEncoded()).isEqualTo(KEYS.getPrivate().getEncoded());
  }

  @Test
  void anInstallationIdWithoutAppIdAndKeyIsIncomplete() {
    ConfigException e = failure(Map.of("CHANGESYNC_GITHUB_APP_INSTALLATION_ID", "5"));

    assertThat(e.problems())
        .containsExactly(
            "GitHub App settings are incomplete: CHANGESYNC_GITHUB_APP_ID (--github-app-id) and"
                + " CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH (--github-app-private-key-path) are"
                + " missing (an app needs its id and private key path; without"
                + " CHANGESYNC_GITHUB_APP_INSTALLATION_ID each repository owner's installation is"
                + " found)");
  }

  @Test
  void appSettingsAreChecked() {
    Path missing = dir.resolve("nope.pem");
    ConfigException e =
        failure(
            Map.of(
                "CHANGESYNC_GITHUB_APP_ID", "one",
                "CHANGESYNC_GITHUB_APP_INSTALLATION_ID", "0",
                "CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", missing.toString()));

    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "CHANGESYNC_GITHUB_APP_ID: 'one' is not a GitHub App id (a number, or a client id"
                + " Iv...)",
            "CHANGESYNC_GITHUB_APP_INSTALLATION_ID: '0' is not a positive whole number",
            "CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH: '" + missing + "' is not a readable file");
  }

  @Test
  void leaseTimingIsDerivedFromTheTtlAndCheckedAsAWhole() {
    assertThat(parse(Map.of("CHANGESYNC_LEASE_TTL", "60s")).leasePolicy())
        .isEqualTo(
            LeasePolicy.of(Duration.ofMinutes(1), Duration.ofSeconds(10), Duration.ofSeconds(30)));
    assertThat(parse(Map.of("CHANGESYNC_STALE_AFTER", "3s")).leasePolicy())
        .isEqualTo(
            LeasePolicy.of(Duration.ofMinutes(15), Duration.ofSeconds(1), Duration.ofSeconds(3)));

    ConfigException e =
        failure(Map.of("CHANGESYNC_HEARTBEAT_INTERVAL", "20s", "CHANGESYNC_STALE_AFTER", "10s"));
    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0))
        .startsWith(
            "CHANGESYNC_HEARTBEAT_INTERVAL (PT20S) must be shorter than CHANGESYNC_STALE_AFTER"
                + " (PT10S)");

    assertThat(failure(Map.of("CHANGESYNC_LEASE_TTL", "500ms")).problems().get(0))
        .startsWith(
            "CHANGESYNC_LEASE_TTL (PT0.5S) is shorter than the CHANGESYNC_STALE_AFTER derived");
  }

  @Test
  void workerNamesAreChecked() {
    assertThat(failure(Map.of("CHANGESYNC_WORKER_NAME", "two words")).problems())
        .containsExactly(
            "CHANGESYNC_WORKER_NAME: 'two words' is not a worker name (1-200 characters, no spaces"
                + " or control characters)");
    assertThat(failure(Map.of("CHANGESYNC_WORKER_NAME", "w".repeat(201))).problems()).hasSize(1);
    assertThat(parse(Map.of("CHANGESYNC_WORKER_NAME", "host-1:4711")).workerName())
        .isEqualTo("host-1:4711");
  }

  @Test
  void theDatabaseUrlIsRequiredOnlyWhenAsked() {
    ChangesyncConfig config = parse(Map.of());
    assertThatThrownBy(config::requireDatabaseUrl)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("CHANGESYNC_DATABASE_URL (--database-url): required");
    assertThat(
            parse(Map.of("CHANGESYNC_DATABASE_URL", "jdbc:postgresql://h/d")).requireDatabaseUrl())
        .isEqualTo("jdbc:postgresql://h/d");
  }

  @Test
  void migrateAndLogFormatAreCheckedNamingTheVariable() {
    ConfigException e =
        failure(Map.of("CHANGESYNC_MIGRATE", "later", "CHANGESYNC_LOG_FORMAT", "xml"));

    assertThat(e.problems())
        .containsExactlyInAnyOrder(
            "CHANGESYNC_MIGRATE: 'later' is not on or off",
            "CHANGESYNC_LOG_FORMAT: 'xml' is not a log format (text or json)");
    assertThat(parse(Map.of("CHANGESYNC_MIGRATE", "OFF")).migrate()).isFalse();
    assertThat(parse(Map.of(), "--log-format", "json").logFormat())
        .isEqualTo(ChangesyncConfig.LogFormat.JSON);
  }

  @Test
  void rolesAndLivenessAcceptCommonSpellings() {
    assertThat(parse(Map.of("CHANGESYNC_ROLE", "HTTP")).role()).isEqualTo(Role.HTTP);
    assertThat(parse(Map.of("CHANGESYNC_LIVENESS", "true")).liveness()).isTrue();
    assertThat(parse(Map.of("CHANGESYNC_LIVENESS", "OFF")).liveness()).isFalse();
  }

  @Test
  void releaseCommitIsAsyncOrSync() {
    assertThat(parse(Map.of("CHANGESYNC_RELEASE_COMMIT", "SYNC")).synchronousRelease()).isTrue();
    assertThat(parse(Map.of(), "--release-commit", "async").synchronousRelease()).isFalse();
    assertThat(failure(Map.of("CHANGESYNC_RELEASE_COMMIT", "on")).problems())
        .containsExactly("CHANGESYNC_RELEASE_COMMIT: 'on' is not async or sync");
  }

  @Test
  void aKeyFileWithoutAKeyIsAProblem() throws IOException {
    Path notAKey = dir.resolve("not-a-key.pem");
    Files.writeString(notAKey, "hello");

    ConfigException e =
        failure(
            Map.of(
                "CHANGESYNC_GITHUB_APP_ID", "1",
                "CHANGESYNC_GITHUB_APP_INSTALLATION_ID", "2",
                "CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH", notAKey.toString()));

    assertThat(e.problems()).hasSize(1);
    assertThat(e.problems().get(0))
        .startsWith(
            "CHANGESYNC_GITHUB_APP_PRIVATE_KEY_PATH: '"
                + notAKey
                + "' holds no usable private key");
  }

  @Test
  void aTokenWithAStrayNewlineIsAProblemThatDoesNotShowIt() {
    ConfigException e = failure(Map.of("CHANGESYNC_GITHUB_TOKEN", "ghp_abc\n"));

    assertThat(e.problems()).singleElement().asString().startsWith("CHANGESYNC_GITHUB_TOKEN: ");
    assertThat(e.getMessage()).doesNotContain("ghp_abc");
  }

  @Test
  void githubAndSyncSettingsCarryTheConfiguredValues() {
    ChangesyncConfig config =
        parse(
            Map.of(
                "CHANGESYNC_GITHUB_TOKEN", "ghp_abc",
                "CHANGESYNC_GITHUB_API_URL", "https://ghe.example.com/api/v3",
                "CHANGESYNC_BACKFILL_MAX_PRS", "7",
                "CHANGESYNC_WORKER_THREADS", "3",
                "CHANGESYNC_LEASE_TTL", "1m"));

    GitHubSettings github = GitHubSettings.from(config);
    assertThat(github.baseUrl()).isEqualTo(URI.create("https://ghe.example.com/api/v3"));
    assertThat(github.auth()).isEqualTo(GitHubAuth.token("ghp_abc"));

    SyncSettings sync = SyncSettings.from(config);
    assertThat(sync.pollEvery()).isEqualTo(config.get(Setting.POLL_INTERVAL));
    assertThat(sync.webhookDebounce()).isEqualTo(config.get(Setting.WEBHOOK_DEBOUNCE));
    assertThat(sync.minFetchInterval()).isEqualTo(config.get(Setting.MIN_FETCH_INTERVAL));
    assertThat(sync.inventoryMaxAge()).isEqualTo(config.get(Setting.INVENTORY_MAX_AGE));
    assertThat(sync.backfillInterval()).isEqualTo(config.get(Setting.BACKFILL_INTERVAL));
    assertThat(sync.backfillMaxPulls()).isEqualTo(7);
    assertThat(sync.backfillMaxRuntime()).isEqualTo(config.get(Setting.BACKFILL_MAX_RUNTIME));
    assertThat(sync.shutdownGrace()).isEqualTo(config.get(Setting.SHUTDOWN_GRACE));
    assertThat(sync.workerThreads()).isEqualTo(3);
    assertThat(sync.leasePolicy()).isEqualTo(config.leasePolicy());

    assertThat(GitHubSettings.from(parse(Map.of())).auth()).isEqualTo(GitHubAuth.anonymous());
  }

  @Test
  void retryBackoffSettingsReachTheSyncSettingsAndMaxMayNotBeBelowMin() {
    ChangesyncConfig defaults = parse(Map.of());
    assertThat(defaults.get(Setting.RETRY_MIN)).isEqualTo(Duration.ofSeconds(30));
    assertThat(defaults.get(Setting.RETRY_MAX)).isEqualTo(Duration.ofHours(1));
    assertThat(SyncSettings.from(defaults).retryBackoffBase()).isEqualTo(Duration.ofSeconds(30));
    assertThat(SyncSettings.from(defaults).retryBackoffCap()).isEqualTo(Duration.ofHours(1));

    ChangesyncConfig set =
        parse(Map.of("CHANGESYNC_RETRY_MIN", "2s", "CHANGESYNC_RETRY_MAX", "5m"));
    assertThat(SyncSettings.from(set).retryBackoffBase()).isEqualTo(Duration.ofSeconds(2));
    assertThat(SyncSettings.from(set).retryBackoffCap()).isEqualTo(Duration.ofMinutes(5));
    assertThat(SyncSettings.from(set).retryAfter(3)).isEqualTo(Duration.ofSeconds(8));
    assertThat(parse(Map.of(), "--retry-min", "1s").get(Setting.RETRY_MIN)).isEqualTo(Duration.ofSeconds(1));

    assertThat(failure(Map.of("CHANGESYNC_RETRY_MIN", "10m", "CHANGESYNC_RETRY_MAX", "1m")).problems())
        .containsExactly("CHANGESYNC_RETRY_MAX (1m) must not be shorter than CHANGESYNC_RETRY_MIN (10m)");
    assertThat(failure(Map.of("CHANGESYNC_RETRY_MIN", "0s")).problems())
        .singleElement()
        .asString()
        .startsWith("CHANGESYNC_RETRY_MIN: '0s' must be longer than zero");
  }

  @Test
  void aPostgresUrlIsTakenAsItsJdbcUrl() {
    ChangesyncConfig config =
        parse(
            Map.of(
                "CHANGESYNC_DATABASE_URL",
                "postgres://app:p%40ss%2Fw0rd@db.internal:6432/changesync?sslmode=require"));

    assertThat(config.databaseUrl())
        .contains(
            "jdbc:postgresql://db.internal:6432/changesync?sslmode=require&user=app"
                + "&password=p%40ss%2Fw0rd");
    assertThat(parse(Map.of("CHANGESYNC_DATABASE_URL", "postgresql://localhost/cs")).databaseUrl())
        .contains("jdbc:postgresql://localhost/cs");
    assertThat(config.toString()).doesNotContain("p%40ss").doesNotContain("w0rd");
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_URL", "postgres:///nohost")).problems())
        .singleElement()
        .asString()
        .startsWith("CHANGESYNC_DATABASE_URL: 'postgres:///nohost' has no host");
    assertThat(failure(Map.of("CHANGESYNC_DATABASE_URL", "mysql://db/x")).problems())
        .singleElement()
        .asString()
        .contains("is not a PostgreSQL URL");
  }
}
