package dev.changesync.engine.github;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Links and redirects that point away from the API's origin are never followed (the token would
 * go with them); same-origin redirects are. A scripted server stands in for a misbehaving GitHub.
 */
class HttpGitHubOriginTest {

  private static final String REPO_JSON =
      "{\"id\":7,\"name\":\"widgets\",\"full_name\":\"acme/widgets\","
          + "\"owner\":{\"login\":\"acme\"},\"default_branch\":\"trunk\"}";

  private HttpServer server;
  private String base;
  private final List<String> seen = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          String target = exchange.getRequestURI().toString();
          seen.add(target);
          String path = exchange.getRequestURI().getPath();
          byte[] body = new byte[0];
          int status = 200;
          switch (path) {
            case "/repos/acme/widgets/pulls":
              exchange
                  .getResponseHeaders()
                  .set("Link", "<http://evil.example:" + port() + path + "?page=2>; rel=\"next\"");
              body = "[]".getBytes(StandardCharsets.UTF_8);
              break;
            case "/repos/acme/away":
              status = 301;
              exchange.getResponseHeaders().set("Location", "https://evil.example/repositories/7");
              break;
            case "/repos/acme/moved":
              status = 301;
              exchange.getResponseHeaders().set("Location", "/repositories/7");
              break;
            case "/repositories/7":
              body = REPO_JSON.getBytes(StandardCharsets.UTF_8);
              break;
            default:
              status = 404;
              body = "{\"message\":\"Not Found\"}".getBytes(StandardCharsets.UTF_8);
          }
          exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
          if (body.length > 0) {
            exchange.getResponseBody().write(body);
          }
          exchange.close();
        });
    server.start();
    base = "http://127.0.0.1:" + port();
  }

  private int port() {
    return server.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private HttpGitHub client() {
    return HttpGitHub.create(
        GitHubSettings.builder(GitHubAuth.token("ghp_secret")).baseUrl(base).build());
  }

  @Test
  void aNextLinkToAnotherOriginIsRefused() {
    assertThatThrownBy(() -> client().openPulls("acme", "widgets", page -> true))
        .isInstanceOf(GitHubException.class)
        .hasMessageContaining("refusing to follow rel=\"next\" to http://evil.example");
    assertThat(seen).containsExactly("/repos/acme/widgets/pulls?state=open&per_page=100");
  }

  @Test
  void aRedirectToAnotherOriginIsRefused() {
    assertThatThrownBy(() -> client().repository("acme", "away"))
        .isInstanceOfSatisfying(
            GitHubException.class,
            e -> {
              assertThat(e.status()).hasValue(301);
              assertThat(e.getMessage()).contains("refusing to follow a redirect");
            });
    assertThat(seen).containsExactly("/repos/acme/away");
  }

  @Test
  void aSameOriginRedirectIsFollowed() {
    GhRepository repo = client().repository("acme", "moved");

    assertThat(repo).isEqualTo(new GhRepository(7, "acme", "widgets", "acme/widgets", "trunk"));
    assertThat(seen).containsExactly("/repos/acme/moved", "/repositories/7");
  }
}
