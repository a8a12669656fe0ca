package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * The {@code Host} check against DNS rebinding, over raw HTTP/1.1 (the JDK client will not send a
 * chosen {@code Host}), and the start-up warnings of a server open beyond loopback.
 */
class HostCheckTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final ObjectMapper JSON = new ObjectMapper();

  private static ChangesyncServer loopback;
  private static ChangesyncServer allowList;

  @BeforeAll
  static void start() {
    loopback = ChangesyncServer.start(ChangesyncConfig.from(env()));
    Map<String, String> env = env();
    env.put("CHANGESYNC_HTTP_ALLOWED_HOSTS", "sync.example.com, changesync.internal");
    allowList = ChangesyncServer.start(ChangesyncConfig.from(env));
  }

  @AfterAll
  static void stop() {
    for (ChangesyncServer server : new ChangesyncServer[] {loopback, allowList}) {
      if (server != null) {
        server.close();
      }
    }
  }

  private static Map<String, String> env() {
    Map<String, String> env = ReadRoutesTest.env(db, null);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_WEBHOOK_SECRET", "webhook-secret-for-tests");
    return env;
  }

  /** A raw response: status and body. */
  record Raw(int status, String head, String body) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  /** Sends {@code method path} with exactly the {@code Host} given (none when null). */
  static Raw send(int port, String method, String path, String host) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      String request =
          method
              + " "
              + path
              + " HTTP/1.1\r\n"
              + (host == null ? "" : "Host: " + host + "\r\n")
              + "Content-Length: 0\r\n"
              + "Connection: close\r\n\r\n";
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int split = response.indexOf("\r\n\r\n");
      String head = response.substring(0, split);
      String body = response.substring(split + 4);
      if (head.toLowerCase().contains("transfer-encoding: chunked")) {
        body = dechunk(body);
      }
      return new Raw(Integer.parseInt(head.split(" ", 3)[1]), head, body);
    }
  }

  private static String dechunk(String chunked) {
    StringBuilder out = new StringBuilder();
    int at = 0;
    while (true) {
      int eol = chunked.indexOf("\r\n", at);
      int size = Integer.parseInt(chunked.substring(at, eol).split(";")[0].strip(), 16);
      if (size == 0) {
        return out.toString();
      }
      out.append(chunked, eol + 2, eol + 2 + size);
      at = eol + 2 + size + 2;
    }
  }

  // --- a server on loopback ---------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/changes/workers",
        "/v1/changes/repos/acme/widgets/status",
        "/nowhere"
      })
  void aRebindingHostIsRefusedOnEveryRoute(String path) throws IOException {
    Raw r = send(loopback.port(), "GET", path, "evil.example");

    assertThat(r.status()).isEqualTo(421);
    assertThat(r.head()).containsIgnoringCase("Content-Type: application/json");
    assertThat(r.json().fieldNames()).toIterable().containsExactly("message");
    assertThat(r.json().path("message").asText())
        .isEqualTo(
            "this server does not answer to host 'evil.example': add it to"
                + " CHANGESYNC_HTTP_ALLOWED_HOSTS if it is a name of this server");
  }

  @Test
  void webhooksAndAdminRoutesAreCheckedToo() throws IOException {
    Raw webhook = send(loopback.port(), "POST", "/webhooks/github", "evil.example:80");
    Raw admin = send(loopback.port(), "POST", "/v1/changes/recover", "EVIL.example");

    assertThat(webhook.status()).isEqualTo(421);
    assertThat(admin.status()).isEqualTo(421);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "localhost",
        "localhost:PORT",
        "LOCALHOST:PORT",
        "localhost.:PORT",
        "127.0.0.1",
        "127.0.0.1:PORT",
        "[::1]:PORT",
        "[::1]",
        "10.1.2.3:8080",
        "[2001:db8::1]:443"
      })
  void theBindAddressLocalhostAndAddressLiteralsAreAccepted(String host) throws IOException {
    int port = loopback.port();

    Raw r = send(port, "GET", "/healthz", host.replace("PORT", Integer.toString(port)));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(send(port, "GET", "/healthz", "evil.example").status()).isEqualTo(421);
  }

  @Test
  void aRequestWithoutHostPassesAndAnUnbracketedIpv6HostIs400() throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), loopback.port())) {
      byte[] request = "GET /healthz HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      socket.getOutputStream().write(request);
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(response).startsWith("HTTP/1.1 200");
    }
    Raw r = send(loopback.port(), "GET", "/healthz", "::1");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.json().path("message").asText()).isEqualTo("Host header '::1' is not a host");
  }

  // --- an allow-list ----------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(
      strings = {
        "sync.example.com", "SYNC.Example.com:443", "changesync.internal:PORT", "localhost"
      })
  void allowedNamesAreAcceptedInAnyCaseWithAnyPort(String host) throws IOException {
    int port = allowList.port();

    Raw r = send(port, "GET", "/healthz", host.replace("PORT", Integer.toString(port)));

    assertThat(r.status()).as(r.body()).isEqualTo(200);
    assertThat(send(port, "GET", "/healthz", "evil.example").status()).isEqualTo(421);
  }

  @ParameterizedTest
  @ValueSource(strings = {"evil.example", "sync.example.com.evil.example", "example.com"})
  void namesOutsideTheAllowListAreRefused(String host) throws IOException {
    assertThat(send(allowList.port(), "GET", "/healthz", host).status()).isEqualTo(421);
  }

  // --- wildcard binds and the start-up warnings -------------------------------------------------

  @Test
  void aWildcardBindWithoutAnAllowListAcceptsAnyHostAndWarnsTwice() throws IOException {
    assertThat(startupWarnings(env(), server -> {})).as("on loopback").isEmpty();
    Map<String, String> env = env();
    env.put("CHANGESYNC_HTTP_HOST", "0.0.0.0");

    List<String> warnings =
        startupWarnings(
            env,
            server -> {
              try {
                assertThat(send(server.port(), "GET", "/healthz", "evil.example").status())
                    .isEqualTo(200);
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            });

    assertThat(warnings)
        .containsExactly(
            "reads are open to anyone who reaches 0.0.0.0: patches, lease tokens and worker"
                + " hosts; set CHANGESYNC_READ_TOKEN (or CHANGESYNC_READ_TOKEN_FILE)",
            "any Host header is accepted on 0.0.0.0 (no protection against DNS rebinding); set"
                + " CHANGESYNC_HTTP_ALLOWED_HOSTS to the names clients use (* to accept any)");
  }

  @Test
  void aWildcardBindWithAnAllowListAndAReadTokenChecksHostsAndDoesNotWarn() throws IOException {
    Map<String, String> env = env();
    env.put("CHANGESYNC_HTTP_HOST", "0.0.0.0");
    env.put("CHANGESYNC_HTTP_ALLOWED_HOSTS", "sync.example.com");
    env.put("CHANGESYNC_READ_TOKEN", "read-token-for-tests-0123");

    List<String> warnings =
        startupWarnings(
            env,
            server -> {
              try {
                assertThat(send(server.port(), "GET", "/healthz", "evil.example").status())
                    .isEqualTo(421);
                assertThat(send(server.port(), "GET", "/healthz", "sync.example.com").status())
                    .isEqualTo(200);
              } catch (IOException e) {
                throw new AssertionError(e);
              }
            });

    assertThat(warnings).isEmpty();
  }

  /** The server's WARN lines while it starts with {@code env}, runs {@code check} and stops. */
  private static List<String> startupWarnings(
      Map<String, String> env, Consumer<ChangesyncServer> check) {
    Logger logger = (Logger) LoggerFactory.getLogger(ChangesyncServer.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try (ChangesyncServer server = ChangesyncServer.start(ChangesyncConfig.from(env))) {
      check.accept(server);
    } finally {
      logger.detachAppender(appender);
    }
    return appender.list.stream()
        .filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }
}
