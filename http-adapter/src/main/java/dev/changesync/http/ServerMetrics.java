package dev.changesync.http;

import com.google.common.base.Suppliers;
import dev.changesync.engine.github.GitHubListener;
import dev.changesync.engine.github.RateLimit;
import dev.changesync.engine.github.RequestKind;
import dev.changesync.engine.service.GitHubCredential;
import dev.changesync.engine.service.RepositoryCounts;
import dev.changesync.engine.sync.Lane;
import dev.changesync.engine.sync.PassResult;
import dev.changesync.engine.sync.SyncListener;
import dev.changesync.engine.sync.WorkKind;
import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.RecoveryReport;
import dev.changesync.lease.RunOutcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's metrics, in Prometheus text format on {@code GET /metrics}. Fed by the engine's
 * listeners and by the HTTP layer; every meter has a bounded set of tag values (lanes, request
 * kinds, route templates — never raw paths or repository names).
 *
 * <table>
 *   <caption>Meters (Prometheus names)</caption>
 *   <tr><td>{@code changesync_lease_claims_total{lane}}</td><td>free leases claimed</td></tr>
 *   <tr><td>{@code changesync_lease_reclaims_total{lane}}</td><td>stale leases taken over</td></tr>
 *   <tr><td>{@code changesync_lease_lost_total{lane,reason}}</td><td>leases a holder found lost
 *       ({@code reclaimed}, {@code freed}, {@code no_heartbeat})</td></tr>
 *   <tr><td>{@code changesync_lease_manual_releases_total{lane}}</td><td>released by an
 *       operator</td></tr>
 *   <tr><td>{@code changesync_lease_recovered_total{lane}}</td><td>freed by recovery
 *       passes</td></tr>
 *   <tr><td>{@code changesync_pass_duration_seconds{lane,kind,outcome}}</td><td>passes by outcome
 *       ({@code completed}, {@code failed}, {@code lost})</td></tr>
 *   <tr><td>{@code changesync_worker_loop_failures_total}</td><td>worker loop iterations that
 *       failed outside a pass</td></tr>
 *   <tr><td>{@code changesync_github_requests_total{kind,status}}</td><td>GitHub responses by
 *       request kind and HTTP status ({@code error} for a timeout or network error)</td></tr>
 *   <tr><td>{@code changesync_github_rate_limit_remaining{resource}}</td><td>as GitHub last
 *       reported it</td></tr>
 *   <tr><td>{@code changesync_github_waits_seconds{reason}}</td><td>time the client chose to
 *       wait (rate limits, backoff)</td></tr>
 *   <tr><td>{@code changesync_http_requests_seconds{method,route,status}}</td><td>HTTP requests by
 *       route template ({@code unmatched} for unknown paths)</td></tr>
 *   <tr><td>{@code changesync_webhook_overloaded_total}</td><td>webhook deliveries refused (503)
 *       because the bytes of bodies in flight were at their budget</td></tr>
 * </table>
 *
 * <p>Plus the JVM's memory, GC, threads, CPU and uptime ({@code jvm_*}, {@code process_*}, {@code
 * system_*}).
 */
final class ServerMetrics implements AutoCloseable {

  /** What {@code GET /metrics} answers with: Prometheus text exposition format 0.0.4. */
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  /** Histogram buckets of HTTP request durations ({@code _bucket{le=…}}), 5 ms to 10 s. */
  static final Duration[] HTTP_BUCKETS = {
    Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
    Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
    Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)
  };

  /** Histogram buckets of sync pass durations, 10 ms to 30 min. */
  static final Duration[] PASS_BUCKETS = {
    Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500),
    Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
    Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(30)
  };

  private static final Logger log = LoggerFactory.getLogger(ServerMetrics.class);

  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gcMetrics;
  private final Counter webhookOverloaded;
  private final Map<String, AtomicLong> rateLimitRemaining = new ConcurrentHashMap<>();

  ServerMetrics() {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
    // changesync_build_info{version="…",java="17"} 1: which build runs where.
    io.micrometer.core.instrument.Gauge.builder("changesync.build.info", () -> 1)
        .description("the running build: its version and Java feature release")
        .tag("version", ChangesyncServer.version())
        .tag("java", Integer.toString(Runtime.version().feature()))
        .register(registry);
    webhookOverloaded =
        Counter.builder("changesync.webhook.overloaded")
            .description("webhook deliveries refused because bodies in flight were at their budget")
            .register(registry);
    // Every lease counter from zero, so that rates and alerts work before the first event.
    for (Lane lane : Lane.values()) {
      String name = lane.leaseLane();
      claimsCounter(name);
      reclaimsCounter(name);
      manualReleasesCounter(name);
      for (LossReason reason : LossReason.values()) {
        lostCounter(name, reason);
      }
    }
  }

  private Counter claimsCounter(String lane) {
    return Counter.builder("changesync.lease.claims")
        .description("free leases claimed")
        .tag("lane", lane)
        .register(registry);
  }

  private Counter reclaimsCounter(String lane) {
    return Counter.builder("changesync.lease.reclaims")
        .description("stale leases taken over")
        .tag("lane", lane)
        .register(registry);
  }

  private Counter lostCounter(String lane, LossReason reason) {
    return Counter.builder("changesync.lease.lost")
        .description("leases their holder found lost")
        .tag("lane", lane)
        .tag("reason", lower(reason.name()))
        .register(registry);
  }

  private Counter manualReleasesCounter(String lane) {
    return Counter.builder("changesync.lease.manual.releases")
        .description("leases released by an operator")
        .tag("lane", lane)
        .register(registry);
  }

  /** How long one reading of the repository counts serves the scrapes that follow it. */
  static final Duration REPOSITORY_COUNTS_FOR = Duration.ofSeconds(15);

  /**
   * {@code changesync_repositories{state="…"}}: tracked repositories by state, one series per
   * state (never per repository), read through {@code counts} at most once per {@link
   * #REPOSITORY_COUNTS_FOR} however often the scrapes come; NaN while it cannot be read (the
   * database down, or the engine not started yet).
   */
  void repositoryCounts(Supplier<Map<String, Long>> counts) {
    Supplier<Map<String, Long>> cached =
        Suppliers.memoizeWithExpiration(
            counts::get, REPOSITORY_COUNTS_FOR.toNanos(), TimeUnit.NANOSECONDS);
    for (String state : RepositoryCounts.STATES) {
      Gauge.builder(
              "changesync.repositories",
              cached,
              c -> {
                try {
                  Long n = c.get().get(state);
                  return n == null ? Double.NaN : n;
                } catch (RuntimeException e) { // not cached: the next scrape reads again
                  log.debug("repository counts could not be read", e);
                  return Double.NaN;
                }
              })
          .description("tracked repositories by state (states overlap; tracked counts all)")
          .tag("state", state)
          .strongReference(true) // the supplier has no other owner
          .register(registry);
    }
  }

  private volatile Supplier<Map<String, GitHubCredential>> credentialLimits;
  private final java.util.Set<String> credentialGauges = ConcurrentHashMap.newKeySet();

  /**
   * {@code changesync_github_credential_rate_limit_remaining{credential="…"}} and {@code
   * changesync_github_credential_rate_limit_reset_timestamp_seconds{credential="…"}}: each GitHub
   * credential's budget as last seen by any worker (the shared budget work picking goes by), one
   * series per credential — an installation or a token's hash, never a secret. Read through {@code
   * read} at most once per {@link #REPOSITORY_COUNTS_FOR}; a credential's series appear at the
   * first scrape that finds it.
   */
  void credentialRateLimits(Supplier<java.util.List<GitHubCredential>> read) {
    credentialLimits =
        Suppliers.memoizeWithExpiration(
            () -> {
              Map<String, GitHubCredential> byCredential = new java.util.TreeMap<>();
              read.get().forEach(c -> byCredential.put(c.credential(), c));
              return byCredential;
            },
            REPOSITORY_COUNTS_FOR.toNanos(),
            TimeUnit.NANOSECONDS);
  }

  private void registerCredentialGauges() {
    Supplier<Map<String, GitHubCredential>> limits = credentialLimits;
    if (limits == null) {
      return;
    }
    Map<String, GitHubCredential> now;
    try {
      now = limits.get();
    } catch (RuntimeException e) {
      log.debug("GitHub credential rate limits could not be read", e);
      return;
    }
    for (String credential : now.keySet()) {
      if (!credentialGauges.add(credential)) {
        continue;
      }
      credentialGauge(
          "changesync.github.credential.rate.limit.remaining",
          "GitHub requests left in the window per credential, as last seen by any worker",
          credential,
          c -> c.remaining());
      credentialGauge(
          "changesync.github.credential.rate.limit.reset.timestamp.seconds",
          "when each credential's GitHub rate-limit window resets (Unix seconds)",
          credential,
          c -> c.resetAt().getEpochSecond());
    }
  }

  private void credentialGauge(
      String name,
      String description,
      String credential,
      java.util.function.ToDoubleFunction<GitHubCredential> value) {
    Supplier<Map<String, GitHubCredential>> limits = credentialLimits;
    Gauge.builder(
            name,
            limits,
            l -> {
              try {
                GitHubCredential c = l.get().get(credential);
                return c == null ? Double.NaN : value.applyAsDouble(c);
              } catch (RuntimeException e) {
                return Double.NaN;
              }
            })
        .description(description)
        .tag("credential", credential)
        .strongReference(true)
        .register(registry);
  }

  MeterRegistry registry() {
    return registry;
  }

  /** Every meter in Prometheus text format. */
  String scrape() {
    registerCredentialGauges();
    return registry.scrape();
  }

  // --- HTTP ------------------------------------------------------------------------------------

  void httpRequest(String method, String route, int status, Duration took) {
    Timer.builder("changesync.http.requests")
        .description("HTTP requests by route template and status")
        .serviceLevelObjectives(HTTP_BUCKETS)
        .tag("method", method)
        .tag("route", route)
        .tag("status", Integer.toString(status))
        .register(registry)
        .record(took);
  }

  /** A webhook delivery refused because the bodies in flight were at their budget. */
  void webhookOverloaded() {
    webhookOverloaded.increment();
  }

  // --- leases ----------------------------------------------------------------------------------

  /** Counts lease transitions. */
  LeaseListener leaseListener() {
    return new LeaseListener() {
      @Override
      public void claimed(Lease lease) {
        claimsCounter(lease.key().lane()).increment();
      }

      @Override
      public void reclaimed(Lease lease, Lease previous) {
        reclaimsCounter(lease.key().lane()).increment();
      }

      @Override
      public void lost(Lease lease, LossReason reason) {
        lostCounter(lease.key().lane(), reason).increment();
      }

      @Override
      public void manuallyReleased(Lease lease, String actor) {
        manualReleasesCounter(lease.key().lane()).increment();
      }

      @Override
      public void recovered(RecoveryReport report) {
        report
            .countsByLane()
            .forEach(
                (lane, freed) ->
                    Counter.builder("changesync.lease.recovered")
                        .description("leases freed by recovery passes")
                        .tag("lane", lane)
                        .register(registry)
                        .increment(freed));
      }
    };
  }

  // --- passes ----------------------------------------------------------------------------------

  /** Times passes by lane, kind and outcome. */
  SyncListener syncListener() {
    return new SyncListener() {
      @Override
      public void passFinished(PassResult result) {
        Timer.builder("changesync.pass.duration")
            .description("sync passes by lane, kind and outcome")
            .serviceLevelObjectives(PASS_BUCKETS)
            .tag("lane", result.lane().leaseLane())
            .tag("kind", kind(result.kind()))
            .tag("outcome", outcome(result.outcome()))
            .register(registry)
            .record(result.took());
      }

      @Override
      public void loopFailed(Throwable error) {
        Counter.builder("changesync.worker.loop.failures")
            .description("worker loop iterations that failed outside a pass")
            .register(registry)
            .increment();
      }
    };
  }

  private static String kind(WorkKind kind) {
    return lower(kind.name());
  }

  private static String outcome(RunOutcome outcome) {
    if (outcome instanceof RunOutcome.Completed) {
      return "completed";
    }
    if (outcome instanceof RunOutcome.Failed) {
      return "failed";
    }
    return "lost";
  }

  // --- GitHub ----------------------------------------------------------------------------------

  /** Counts GitHub requests and keeps the rate-limit budget. */
  GitHubListener gitHubListener() {
    return new GitHubListener() {
      @Override
      public void onResponse(RequestKind kind, int status, Duration took) {
        githubRequest(kind, Integer.toString(status));
      }

      @Override
      public void onNetworkError(RequestKind kind, Exception error, Duration took) {
        githubRequest(kind, "error");
      }

      @Override
      public void onRateLimit(RateLimit rateLimit) {
        String resource = rateLimit.resource() == null ? "core" : rateLimit.resource();
        rateLimitRemaining(resource).set(rateLimit.remaining());
      }

      @Override
      public void onWait(WaitReason reason, Duration duration) {
        Timer.builder("changesync.github.waits")
            .description("time the GitHub client waited before calling again")
            .tag("reason", lower(reason.name()))
            .register(registry)
            .record(duration);
      }
    };
  }

  private void githubRequest(RequestKind kind, String status) {
    count(
        "changesync.github.requests",
        "GitHub requests by kind and status",
        "kind",
        lower(kind.name()),
        "status",
        status);
  }

  private AtomicLong rateLimitRemaining(String resource) {
    return rateLimitRemaining.computeIfAbsent(
        resource,
        r -> {
          AtomicLong value = new AtomicLong();
          Gauge.builder("changesync.github.rate.limit.remaining", value, AtomicLong::doubleValue)
              .description("GitHub rate-limit requests left in the window, as last reported")
              .tag("resource", r)
              .register(registry);
          return value;
        });
  }

  // ---------------------------------------------------------------------------------------------

  private void count(String name, String description, String... tags) {
    Counter.builder(name).description(description).tags(tags).register(registry).increment();
  }

  private static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  @Override
  public void close() {
    gcMetrics.close();
    registry.close();
  }
}
