package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.config.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The server's own settings are declared in http-adapter: read with the configuration when the
 * server parses it, else from the same environment on first use, with the same messages.
 */
class HttpSettingsTest {

  @Test
  void theServersParseKnowsItsFlagsAndTheEnginesDoesNot() {
    ChangesyncConfig server =
        ChangesyncConfig.from(Map.of(), List.of("--http-port=9191"), HttpSettings.SETTINGS);
    assertThat(HttpSettings.from(server).port()).isEqualTo(9191);
    assertThat(server.toString()).contains("httpPort=9191", "httpHost=127.0.0.1");

    assertThatThrownBy(() -> ChangesyncConfig.from(Map.of(), "--http-port=9191"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("unknown option --http-port");
  }

  @Test
  void aConfigurationReadWithoutThemParsesThemFromItsEnvironment() {
    ChangesyncConfig engine =
        ChangesyncConfig.from(
            Map.of("CHANGESYNC_HTTP_HOST", "::1", "CHANGESYNC_HTTP_ALLOWED_HOSTS", "A.example"));

    assertThat(HttpSettings.from(engine))
        .isEqualTo(new HttpSettings("::1", 8080, List.of("a.example")));
    assertThat(engine.toString()).doesNotContain("httpPort");
  }

  @Test
  void aBadValueReadLateNamesTheVariableAndStopsTheServerBeforeItStarts() {
    ChangesyncConfig engine = ChangesyncConfig.from(Map.of("CHANGESYNC_HTTP_PORT", "70000"));

    assertThatThrownBy(() -> HttpSettings.from(engine))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .containsExactly(
                        "CHANGESYNC_HTTP_PORT: 70000 is out of range (between 0 and 65535)"));
    assertThatThrownBy(() -> ChangesyncServer.start(engine))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("CHANGESYNC_HTTP_PORT: 70000");
  }

  @Test
  void everyBadAllowedHostIsItsOwnProblem() {
    assertThatThrownBy(
            () ->
                ChangesyncConfig.from(
                    Map.of("CHANGESYNC_HTTP_ALLOWED_HOSTS", "a b,ok.example,c:1"),
                    List.of(),
                    HttpSettings.SETTINGS))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(e.problems())
                    .hasSize(2)
                    .allMatch(p -> p.startsWith("CHANGESYNC_HTTP_ALLOWED_HOSTS: '")));
  }
}
