package dev.changesync.engine.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.http.HttpSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The access settings: the read token, the allowed {@code Host} names, how tokens and secrets are
 * checked, the {@code *_FILE} variants of secrets, and plain-http GitHub URLs.
 */
class AccessSettingsTest {

  private static final String TOKEN = "read-token-0123456789";

  @TempDir Path dir;

  private static List<String> problems(Map<String, String> env, String... args) {
    try {
      ChangesyncConfig.from(env, List.of(args), HttpSettings.SETTINGS);
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected a ConfigException for " + env + " " + List.of(args));
  }

  private Path file(String name, String content) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, content, StandardCharsets.UTF_8);
    return file;
  }

  // --- read token -------------------------------------------------------------------------------

  @Test
  void theReadTokenComesFromItsVariableOrFlagAndIsMasked() {
    ChangesyncConfig fromEnv = ChangesyncConfig.from(Map.of("CHANGESYNC_READ_TOKEN", TOKEN));
    ChangesyncConfig fromFlag = ChangesyncConfig.from(Map.of(), "--read-token", TOKEN);

    assertThat(fromEnv.readToken().orElseThrow().reveal()).isEqualTo(TOKEN);
    assertThat(fromFlag.readToken().orElseThrow().reveal()).isEqualTo(TOKEN);
    assertThat(fromEnv.toString()).contains("readToken=****").doesNotContain(TOKEN);
    assertThat(ChangesyncConfig.from(Map.of()).readToken()).isEmpty();
    assertThat(ChangesyncConfig.from(Map.of()).toString()).contains("readToken=unset");
  }

  @ParameterizedTest
  @ValueSource(strings = {"CHANGESYNC_ADMIN_TOKEN", "CHANGESYNC_READ_TOKEN"})
  void aTokenShorterThanSixteenCharactersIsRefused(String variable) {
    assertThat(problems(Map.of(variable, "fifteen-chars-x")))
        .containsExactly(
            variable
                + ": too short (15 characters); use at least 16, e.g. from openssl rand -hex 32");
    assertThat(ChangesyncConfig.from(Map.of(variable, "sixteen-chars-xx")).toString())
        .doesNotContain("sixteen");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"CHANGESYNC_ADMIN_TOKEN", "CHANGESYNC_READ_TOKEN", "CHANGESYNC_WEBHOOK_SECRET"})
  void aSecretWithSurroundingWhitespaceIsRefusedWithoutShowingIt(String variable) {
    for (String value : List.of(" " + TOKEN, TOKEN + " ", TOKEN + "\n", "\t" + TOKEN)) {
      List<String> problems = problems(Map.of(variable, value));

      assertThat(problems)
          .containsExactly(
              variable
                  + ": starts or ends with whitespace; remove it (the value is compared exactly,"
                  + " and a stray space or newline is usually a copy-paste slip)");
    }
  }

  @Test
  void aFlagIsNamedWhenItCarriesTheBadToken() {
    assertThat(problems(Map.of(), "--admin-token=short"))
        .containsExactly(
            "--admin-token: too short (5 characters); use at least 16, e.g. from openssl rand -hex"
                + " 32");
  }

  @Test
  void aShortWebhookSecretIsFineAndInnerSpacesToo() {
    ChangesyncConfig config =
        ChangesyncConfig.from(Map.of("CHANGESYNC_WEBHOOK_SECRET", "It's a Secret"));

    assertThat(config.webhookSecret().orElseThrow().reveal()).isEqualTo("It's a Secret");
  }

  // --- *_FILE -----------------------------------------------------------------------------------

  @Test
  void everySecretCanComeFromAFileWithOneTrailingNewlineRemoved() throws IOException {
    Map<String, String> env =
        Map.of(
            "CHANGESYNC_ADMIN_TOKEN_FILE", file("admin", "admin-token-0123456789\n").toString(),
            "CHANGESYNC_READ_TOKEN_FILE", file("read", TOKEN + "\r\n").toString(),
            "CHANGESYNC_WEBHOOK_SECRET_FILE", file("hook", "hook secret").toString(),
            "CHANGESYNC_GITHUB_TOKEN_FILE", file("gh", "ghp_fromfile\n").toString(),
            "CHANGESYNC_DATABASE_PASSWORD_FILE", file("db", " pass word \n").toString());

    ChangesyncConfig config = ChangesyncConfig.from(env);

    assertThat(config.adminToken().orElseThrow().reveal()).isEqualTo("admin-token-0123456789");
    assertThat(config.readToken().orElseThrow().reveal()).isEqualTo(TOKEN);
    assertThat(config.webhookSecret().orElseThrow().reveal()).isEqualTo("hook secret");
    assertThat(((GitHubAuth.Token) GitHubAuth.from(config).orElseThrow()).token())
        .isEqualTo("ghp_fromfile");
    // A password is taken as it is, spaces and all.
    assertThat(config.databasePassword().orElseThrow().reveal()).isEqualTo(" pass word ");
  }

  @Test
  void aFileCanBeNamedByAFlag() throws IOException {
    Path admin = file("admin", "admin-token-0123456789\n");

    ChangesyncConfig config =
        ChangesyncConfig.from(Map.of(), "--admin-token-file", admin.toString());

    assertThat(config.adminToken().orElseThrow().reveal()).isEqualTo("admin-token-0123456789");
  }

  @Test
  void onlyOneTrailingNewlineIsRemoved() throws IOException {
    Path admin = file("admin", "admin-token-0123456789\n\n");

    assertThat(problems(Map.of("CHANGESYNC_ADMIN_TOKEN_FILE", admin.toString())))
        .containsExactly(
            "CHANGESYNC_ADMIN_TOKEN_FILE: starts or ends with whitespace; remove it (the value is"
                + " compared exactly, and a stray space or newline is usually a copy-paste slip)");
  }

  @Test
  void aTokenFromAFileMustBeLongEnoughToo() throws IOException {
    Path read = file("read", "short\n");

    assertThat(problems(Map.of("CHANGESYNC_READ_TOKEN_FILE", read.toString())))
        .containsExactly(
            "CHANGESYNC_READ_TOKEN_FILE: too short (5 characters); use at least 16, e.g. from"
                + " openssl rand -hex 32");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ADMIN_TOKEN",
        "READ_TOKEN",
        "WEBHOOK_SECRET",
        "GITHUB_TOKEN",
        "DATABASE_PASSWORD"
      })
  void aSecretAndItsFileTogetherAreAnErrorNamingBoth(String name) throws IOException {
    Path path = file("secret", TOKEN);
    Map<String, String> env =
        Map.of("CHANGESYNC_" + name, TOKEN, "CHANGESYNC_" + name + "_FILE", path.toString());

    assertThat(problems(env))
        .containsExactly(
            "CHANGESYNC_"
                + name
                + " and CHANGESYNC_"
                + name
                + "_FILE are both set; use one of them");
  }

  @Test
  void aFlagAndTheOtherVariableTogetherNameWhereEachCameFrom() throws IOException {
    Path path = file("secret", TOKEN);

    assertThat(problems(Map.of("CHANGESYNC_READ_TOKEN", TOKEN), "--read-token-file=" + path))
        .containsExactly(
            "CHANGESYNC_READ_TOKEN and --read-token-file are both set; use one of them");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "ADMIN_TOKEN",
        "READ_TOKEN",
        "WEBHOOK_SECRET",
        "GITHUB_TOKEN",
        "DATABASE_PASSWORD"
      })
  void aMissingFileNamesTheVariableAndThePath(String name) {
    String missing = dir.resolve("nope").toString();

    assertThat(problems(Map.of("CHANGESYNC_" + name + "_FILE", missing)))
        .containsExactly(
            "CHANGESYNC_" + name + "_FILE: cannot read '" + missing + "' (no such file)");
  }

  @Test
  void aDirectoryOrAnEmptyFileIsNoSecret() throws IOException {
    Path empty = file("empty", "\n");

    assertThat(problems(Map.of("CHANGESYNC_ADMIN_TOKEN_FILE", dir.toString())))
        .containsExactly("CHANGESYNC_ADMIN_TOKEN_FILE: cannot read '" + dir + "' (a directory)");
    assertThat(problems(Map.of("CHANGESYNC_ADMIN_TOKEN_FILE", empty.toString())))
        .containsExactly("CHANGESYNC_ADMIN_TOKEN_FILE: '" + empty + "' is empty");
  }

  @Test
  void aBadGitHubTokenFromAFileNamesTheFileVariable() throws IOException {
    Path gh = file("gh", "ghp_two words\n");

    List<String> problems = problems(Map.of("CHANGESYNC_GITHUB_TOKEN_FILE", gh.toString()));

    assertThat(problems).singleElement().asString().startsWith("CHANGESYNC_GITHUB_TOKEN_FILE: ");
    assertThat(problems.get(0)).doesNotContain("ghp_two");
  }

  // --- allowed hosts ----------------------------------------------------------------------------

  @Test
  void allowedHostsAreNormalized() {
    ChangesyncConfig config =
        ChangesyncConfig.from(
            Map.of("CHANGESYNC_HTTP_ALLOWED_HOSTS", " Sync.Example.COM, [::1],changesync.local. "),
            List.of(),
            HttpSettings.SETTINGS);

    assertThat(HttpSettings.from(config).allowedHosts())
        .containsExactly("sync.example.com", "::1", "changesync.local");
    assertThat(config.toString())
        .contains("httpAllowedHosts=sync.example.com,::1,changesync.local");
    assertThat(HttpSettings.from(ChangesyncConfig.from(Map.of())).allowedHosts()).isEmpty();
    ChangesyncConfig any =
        ChangesyncConfig.from(Map.of(), List.of("--http-allowed-hosts=*"), HttpSettings.SETTINGS);
    assertThat(HttpSettings.from(any).allowedHosts()).containsExactly("*");
  }

  @ParameterizedTest
  @ValueSource(strings = {"https://sync.example.com", "sync.example.com:443", "two words", "a,,b"})
  void anAllowedHostMustBeABareName(String value) {
    String bad = value.equals("a,,b") ? "" : value;

    assertThat(problems(Map.of("CHANGESYNC_HTTP_ALLOWED_HOSTS", value)))
        .containsExactly(
            "CHANGESYNC_HTTP_ALLOWED_HOSTS: '"
                + bad
                + "' is not a host name (comma-separated names or addresses, without scheme or"
                + " port; * for any)");
  }

  @Test
  void hostsAreComparedWithoutCaseBracketsOrDnsLookups() {
    assertThat(Hosts.normalize("[::1]")).isEqualTo("::1");
    assertThat(Hosts.normalize("LocalHost.")).isEqualTo("localhost");
    assertThat(Hosts.isLoopback("localhost")).isTrue();
    assertThat(Hosts.isLoopback("127.0.0.1")).isTrue();
    assertThat(Hosts.isLoopback("127.3.4.5")).isTrue();
    assertThat(Hosts.isLoopback("[::1]")).isTrue();
    assertThat(Hosts.isLoopback("::1")).isTrue();
    assertThat(Hosts.isLoopback("0.0.0.0")).isFalse();
    assertThat(Hosts.isLoopback("10.0.0.1")).isFalse();
    assertThat(Hosts.isLoopback("localhost.evil.example")).isFalse();
    assertThat(Hosts.isWildcard("0.0.0.0")).isTrue();
    assertThat(Hosts.isWildcard("::")).isTrue();
    assertThat(Hosts.isWildcard("[::]")).isTrue();
    assertThat(Hosts.isWildcard("127.0.0.1")).isFalse();
    assertThat(Hosts.isWildcard("example.com")).isFalse();
  }

  // --- GitHub over plain http -------------------------------------------------------------------

  @Test
  void plainHttpToAHostBeyondLoopbackIsRefused() {
    assertThat(problems(Map.of("CHANGESYNC_GITHUB_API_URL", "http://ghe.example.com/api/v3")))
        .containsExactly(
            "CHANGESYNC_GITHUB_API_URL: 'http://ghe.example.com/api/v3' is plain http to a host"
                + " that is not loopback (the GitHub credentials would cross the network"
                + " unencrypted); use https, or set CHANGESYNC_GITHUB_ALLOW_INSECURE=true");
    assertThat(problems(Map.of(), "--github-api-url=http://10.1.2.3:8080"))
        .singleElement()
        .asString()
        .startsWith("--github-api-url: 'http://10.1.2.3:8080' is plain http");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "http://127.0.0.1:8080",
        "http://localhost:1234/api/v3",
        "http://[::1]:9000",
        "https://ghe.example.com/api/v3"
      })
  void loopbackAndHttpsUrlsNeedNoPermission(String url) {
    assertThat(ChangesyncConfig.from(Map.of("CHANGESYNC_GITHUB_API_URL", url)).get(Setting.GITHUB_API_URL))
        .isEqualTo(URI.create(url));
  }

  @Test
  void plainHttpBeyondLoopbackCanBeAllowedExplicitly() {
    ChangesyncConfig config =
        ChangesyncConfig.from(
            Map.of(
                "CHANGESYNC_GITHUB_API_URL", "http://ghe.example.com/api/v3",
                "CHANGESYNC_GITHUB_ALLOW_INSECURE", "true"));

    assertThat(config.get(Setting.GITHUB_API_URL)).isEqualTo(URI.create("http://ghe.example.com/api/v3"));
    assertThat(problems(Map.of("CHANGESYNC_GITHUB_ALLOW_INSECURE", "maybe")))
        .containsExactly("CHANGESYNC_GITHUB_ALLOW_INSECURE: 'maybe' is not on or off");
  }
}
