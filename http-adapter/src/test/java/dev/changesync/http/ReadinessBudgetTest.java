package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.config.ChangesyncConfig;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: {@code /readyz} answers within about a second when the database hangs — here a TCP
 * server on loopback that accepts connections and never says a word, as a frozen PostgreSQL does —
 * so that a probe with Kubernetes' default one-second timeout sees a 503, not a timeout.
 */
class ReadinessBudgetTest {

  private ServerSocket silent;
  private final List<Socket> accepted = new ArrayList<>();
  private Thread acceptor;
  private ChangesyncServer server;

  @BeforeEach
  void start() throws IOException {
    silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    acceptor =
        new Thread(
            () -> {
              while (!silent.isClosed()) {
                try {
                  Socket s = silent.accept();
                  synchronized (accepted) {
                    accepted.add(s);
                  }
                } catch (IOException e) {
                  return; // closed
                }
              }
            },
            "silent-database");
    acceptor.setDaemon(true);
    acceptor.start();
    Map<String, String> env = new HashMap<>();
    env.put(
        "CHANGESYNC_DATABASE_URL",
        "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/changesync?user=changesync");
    env.put("CHANGESYNC_HTTP_PORT", "0");
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_MIGRATE", "off");
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
  }

  @AfterEach
  void stop() throws IOException {
    if (server != null) {
      server.close();
    }
    silent.close();
    synchronized (accepted) {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  @Test
  void readyzAnswers503WithinASecondWhileTheDatabaseHangs() {
    Http http = new Http(server.baseUri());
    for (int i = 0; i < 3; i++) {
      long started = System.nanoTime();
      Http.Response r = http.get("/readyz");
      Duration took = Duration.ofNanos(System.nanoTime() - started);

      assertThat(r.status()).isEqualTo(503);
      assertThat(r.json().get("database_reachable").asBoolean()).isFalse();
      assertThat(r.message()).isEqualTo("database unreachable");
      assertThat(took).as("answer %d", i).isLessThan(Duration.ofMillis(1500));
    }
    assertThat(http.get("/healthz").status()).isEqualTo(200);
  }
}
