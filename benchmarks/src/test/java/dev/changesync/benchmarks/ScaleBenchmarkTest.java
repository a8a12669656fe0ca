package dev.changesync.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The scale benchmark's invariant checks are tied to what {@link ScaleSeed} really seeds, and a
 * short run of it, with workers racing, picks work and breaks none of them.
 */
class ScaleBenchmarkTest {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  @Test
  void theForbiddenRepositoriesAreThoseWithRetryAheadALeaseHeldElsewhereOrTheirCredentialUsedUp() {
    Jdbi jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(h -> h.createScript(ScaleSeed.sql(2_000)).execute());
    List<String> resources =
        jdbi.withHandle(h -> h.createQuery("select 'repo:' || id from repository order by id")
            .mapTo(String.class).list());
    List<String> unpickable =
        jdbi.withHandle(
            h -> h.createQuery(
                    """
                    select 'repo:' || s.repository_id from repository_sync_state s
                     where s.fetch_retry_after > now() or exists (
                           select 1 from lease l
                            where l.resource = 'repo:' || s.repository_id
                              and l.owner_id is not null and l.expires_at > now())
                        or exists (
                           select 1 from github_credential_rate_limit c
                            where c.credential = s.github_credential
                              and c.remaining <= 0 and c.reset_at > now())
                     order by s.repository_id
                    """)
                .mapTo(String.class).list());
    assertThat(unpickable).hasSize(2 * 30);
    assertThat(resources.stream().filter(r -> ScaleBenchmark.broken(r) != null).toList())
        .containsExactlyElementsOf(unpickable);
  }

  @Test
  void racingWorkersPickWorkAndBreakNoInvariant() throws Exception {
    var options =
        new ScaleBenchmark.ScaleOptions(
            db.jdbcUrl(), 2_000, List.of(1, 4), Duration.ofSeconds(2), Duration.ofSeconds(1));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int violations = ScaleBenchmark.run(options, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(violations).as(out).isZero();
    assertThat(out).contains("RESULT workers=1 ", "RESULT workers=4 ", "violations=0");
    assertThat(out).doesNotContain("picks_per_s=0.0");
  }

  @Test
  void badOptionsAreNamed() {
    assertThatThrownBy(
            () -> ScaleBenchmark.ScaleOptions.parse(List.of("--workers", "0"), Map.of("X", "")))
        .hasMessageContaining("--workers must be at least 1");
    assertThatThrownBy(() -> ScaleBenchmark.ScaleOptions.parse(List.of(), Map.of()))
        .hasMessageContaining("no database server");
    assertThatThrownBy(
            () -> ScaleBenchmark.ScaleOptions.parse(List.of("--bogus", "1"), Map.of()))
        .hasMessageContaining("unknown option '--bogus'");
  }
}
