package dev.changesync.cli;

import static dev.changesync.cli.CliRunner.cli;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: {@code --timeout} bounds every request of the CLI. The other end here is a TCP server
 * on loopback that accepts connections and never says a word — a frozen changesync server, or a
 * frozen PostgreSQL.
 */
class TimeoutTest {

  private ServerSocket silent;
  private final List<Socket> accepted = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!silent.isClosed()) {
                try {
                  Socket s = silent.accept();
                  synchronized (accepted) {
                    accepted.add(s);
                  }
                } catch (IOException e) {
                  return;
                }
              }
            },
            "silent-peer");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  @AfterEach
  void stop() throws IOException {
    silent.close();
    synchronized (accepted) {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }

  private static CliRunner.Result timed(CliRunner runner, Duration atMost, String... args) {
    long started = System.nanoTime();
    CliRunner.Result r = runner.run(args);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).as(r.toString()).isLessThan(atMost);
    return r;
  }

  @Test
  void aFrozenServerFailsTheCommandAfterTheTimeout() {
    String url = "http://127.0.0.1:" + silent.getLocalPort();

    CliRunner.Result r =
        timed(cli().env("CHANGESYNC_SERVER_URL", url), Duration.ofSeconds(5), "workers", "--timeout", "700ms");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .isEqualTo("the server at " + url + " did not answer within 700ms (--timeout)\n");
  }

  @Test
  void aFrozenDatabaseFailsTheCommandAfterTheTimeout() {
    String url =
        "jdbc:postgresql://127.0.0.1:" + silent.getLocalPort() + "/changesync?user=changesync";

    CliRunner.Result r =
        timed(
            cli().env("CHANGESYNC_DATABASE_URL", url),
            Duration.ofSeconds(6),
            "status",
            "acme/widgets",
            "--timeout",
            "1s");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("database not reachable at jdbc:postgresql://127.0.0.1:" + silent.getLocalPort());
  }
}
