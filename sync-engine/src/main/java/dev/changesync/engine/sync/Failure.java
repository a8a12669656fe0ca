package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.github.GitHubException;
import dev.changesync.lease.Cancellation;
import dev.changesync.lease.LeaseLostException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.JdbiException;

/**
 * Why a piece of sync work failed — the one place that tells a pull request's own problem from an
 * infrastructure problem — with a short message fit for {@code last_error}.
 *
 * <p><b>{@link OfPull}</b>: GitHub answered 404, 410 or 422 for the PR or its files, sent a body
 * that cannot be read, or the PR's data is rejected by the database as bad data (SQLSTATE class
 * 22). The PR is to blame: its row is marked {@code failed}, the backfill cursor moves past it, its
 * refresh hint counts an attempt.
 *
 * <p><b>{@link OfInfrastructure}</b>: everything else — the database (unreachable or failing), a
 * lost lease, GitHub 5xx, timeouts and network errors, rate limits, rejected credentials (401 /
 * 403), and errors nobody foresaw. No PR is to blame: the pass ends at once as failed (the lane's
 * failure count and retry-after), the cursor stays before the PR and the hint stays as it was, so
 * the work resumes when the infrastructure is back.
 *
 * <p><b>Messages</b> never contain SQL, exception class names, owner ids or tokens ({@code
 * last_error} is served without authentication); the exception, with its details, goes to the log.
 */
sealed interface Failure {

  /** Short and user-facing: "database unavailable", "GitHub returned 502 for pull request #12". */
  String message();

  /** The pull request's own problem. */
  record OfPull(String message) implements Failure {
    public OfPull {
      requireNonNull(message, "message");
    }
  }

  /** Not the pull request's fault: the pass ends and backs off, blaming no PR. */
  record OfInfrastructure(String message) implements Failure {
    public OfInfrastructure {
      requireNonNull(message, "message");
    }
  }

  /** A failure that ended a whole pass (no PR being rebuilt); never {@link OfPull}. */
  static Failure classify(Throwable cause) {
    return classify(cause, 0);
  }

  /**
   * A failure while rebuilding pull request {@code number} (its GitHub requests and the write of
   * its snapshot and row); {@code 0} for none.
   */
  static Failure classify(Throwable cause, int number) {
    requireNonNull(cause, "cause");
    String subject = number > 0 ? " for pull request #" + number : "";
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof PassFailedException) {
        return new OfInfrastructure(t.getMessage());
      }
      if (t instanceof LeaseLostException) {
        return new OfInfrastructure("lease lost to another worker");
      }
      if (t instanceof Cancellation.CancelledException) {
        return new OfInfrastructure("lease no longer trusted; pass cancelled");
      }
      if (t instanceof Pass.WorkerStoppingException) {
        return new OfInfrastructure("the worker is stopping");
      }
      if (t instanceof GitHubException g) {
        return gitHub(g, number > 0, subject);
      }
      if (t instanceof SQLException || t instanceof JdbiException) {
        return database(cause, number);
      }
      if (t instanceof IOException || t instanceof UncheckedIOException) {
        return new OfInfrastructure("I/O error" + subject);
      }
    }
    return new OfInfrastructure("internal error" + subject + " (details in the worker log)");
  }

  /** Ends the pass because of this failure, keeping {@code cause} for the log. */
  default PassFailedException endPass(Throwable cause) {
    return new PassFailedException(message(), cause);
  }

  private static Failure gitHub(GitHubException g, boolean forPull, String subject) {
    if (g.isRateLimited()) {
      Instant until = g.retryAt().orElseThrow().truncatedTo(ChronoUnit.SECONDS);
      return new OfInfrastructure("GitHub rate limit reached until " + until);
    }
    if (g.isInterrupted()) {
      return new OfInfrastructure("GitHub request interrupted");
    }
    if (g.status().isEmpty()) {
      return new OfInfrastructure(
          g.getCause() instanceof IOException
              ? "GitHub did not answer" + subject + " (timeout or network error)"
              : "GitHub request failed" + subject);
    }
    int status = g.status().getAsInt();
    if (status >= 200 && status < 300) {
      String message = "GitHub sent a response that cannot be read" + subject;
      return forPull ? new OfPull(message) : new OfInfrastructure(message);
    }
    String message =
        switch (status) {
          case 401 -> "GitHub rejected the credentials (401)";
          case 403 -> "GitHub refused access (403)";
          case 404 ->
              forPull
                  ? "GitHub returned 404" + subject
                  : "repository not found or private (404): set CHANGESYNC_GITHUB_TOKEN to a token"
                      + " that can read it";
          default -> "GitHub returned " + status + subject;
        };
    boolean aboutThePull = status == 404 || status == 410 || status == 422;
    return forPull && aboutThePull ? new OfPull(message) : new OfInfrastructure(message);
  }

  private static Failure database(Throwable cause, int number) {
    String sqlState = null;
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ConnectionException
          || t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof ConnectException) {
        return new OfInfrastructure("database unavailable");
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null && sqlState == null) {
        sqlState = sql.getSQLState();
      }
    }
    if (sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("57P"))) {
      // 08: connection exception; 57P01-57P03: shutdown, crash, cannot connect now.
      return new OfInfrastructure("database unavailable");
    }
    if (number > 0 && sqlState != null && sqlState.startsWith("22")) {
      // 22: data exception (a NUL byte, an overlong value, ...): this PR's data.
      return new OfPull("the data of pull request #" + number + " cannot be stored");
    }
    return new OfInfrastructure(
        "database error" + (number > 0 ? " while storing pull request #" + number : ""));
  }

  /**
   * True for the failures an operator expects now and then — GitHub errors, timeouts and rate
   * limits, I/O errors, an unreachable or failing database, a lost or distrusted lease, a stopping
   * worker — which are logged as one line; false for what nobody foresaw (logged with its stack).
   */
  static boolean expected(Throwable cause) {
    return !(classify(cause) instanceof OfInfrastructure infra)
        || !infra.message().startsWith("internal error");
  }

  /** True when a GitHub 404 / 410 (with a response) is in {@code cause}'s chain. */
  static boolean repositoryGone(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof GitHubException g) {
        return g.isNotFound();
      }
    }
    return false;
  }

  /**
   * {@code cause}'s chain on one line, outermost first: {@code GitHubException: GitHub returned
   * 502 <- ConnectException: Connection refused}; messages repeated down the chain are given once.
   */
  static String chain(Throwable cause) {
    StringBuilder out = new StringBuilder();
    String previous = null;
    int depth = 0;
    for (Throwable t = cause; t != null && depth < 6; t = t.getCause() == t ? null : t.getCause()) {
      String message = t.getMessage() == null ? "" : t.getMessage().strip();
      if (previous != null && !message.isEmpty() && previous.contains(message)) {
        continue;
      }
      if (out.length() > 0) {
        out.append(" <- ");
      }
      out.append(t.getClass().getSimpleName());
      if (!message.isEmpty()) {
        out.append(": ").append(message.replaceAll("\\s+", " "));
      }
      previous = message;
      depth++;
    }
    return out.toString();
  }

  /** A duration as operators read it in logs: {@code 19ms}. */
  static String millis(java.time.Duration d) {
    return d.toMillis() + "ms";
  }
}
