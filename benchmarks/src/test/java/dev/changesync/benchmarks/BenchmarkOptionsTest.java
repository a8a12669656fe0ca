package dev.changesync.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.benchmarks.BenchmarkOptions.Scenario;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchmarkOptionsTest {

  private static final String URL = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres";
  private static final Map<String, String> ENV = Map.of(BenchmarkOptions.URL_VARIABLE, URL);

  @Test
  void defaultsComeFromTheIssueAndTheEnvironment() {
    BenchmarkOptions options = BenchmarkOptions.parse(List.of(), ENV);

    assertThat(options.url()).isEqualTo(URL);
    assertThat(options.threads()).isEqualTo(8);
    assertThat(options.measureFor()).isEqualTo(Duration.ofSeconds(15));
    assertThat(options.warmupFor()).isEqualTo(Duration.ofSeconds(20));
    assertThat(options.synchronousRelease()).isFalse();
    assertThat(options.keys()).isEqualTo(10_000);
    assertThat(options.scenarios()).containsExactlyElementsOf(Scenario.OWN);
    assertThat(options.claimBatch()).isEqualTo(1);
  }

  @Test
  void flagsTakeSeparateOrInlineValues() {
    BenchmarkOptions options =
        BenchmarkOptions.parse(
            List.of(
                "--url=jdbc:postgresql://db/x",
                "--threads",
                "16",
                "--seconds=3",
                "--warmup",
                "0",
                "--keys",
                "1_000",
                "--scenario",
                "claim-next,claim-release",
                "--release-commit=sync",
                "--claim-batch",
                "4"),
            Map.of());

    assertThat(options.url()).isEqualTo("jdbc:postgresql://db/x");
    assertThat(options.threads()).isEqualTo(16);
    assertThat(options.measureFor()).isEqualTo(Duration.ofSeconds(3));
    assertThat(options.warmupFor()).isZero();
    assertThat(options.keys()).isEqualTo(1_000);
    assertThat(options.scenarios()).containsExactly(Scenario.CLAIM_RELEASE, Scenario.CLAIM_NEXT);
    assertThat(options.synchronousRelease()).isTrue();
    assertThat(options.claimBatch()).isEqualTo(4);
  }

  @Test
  void badValuesAreRejectedNamingTheFlag() {
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--release-commit", "later"), ENV))
        .hasMessage("--release-commit must be async or sync, got 'later'");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--threads", "0"), ENV))
        .hasMessage("--threads must be at least 1, got 0");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--seconds", "ten"), ENV))
        .hasMessage("--seconds must be a whole number, got 'ten'");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--scenario", "claim"), ENV))
        .hasMessageStartingWith("--scenario: unknown scenario 'claim'");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--keys", "8"), ENV))
        .hasMessage("--keys (8) must be greater than --threads (8)");
    assertThatThrownBy(
            () -> BenchmarkOptions.parse(List.of("--keys", "32", "--claim-batch", "4"), ENV))
        .hasMessage("--keys (32) must be greater than --threads × --claim-batch (8 × 4)");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--claim-batch", "0"), ENV))
        .hasMessage("--claim-batch must be at least 1, got 0");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--threads"), ENV))
        .hasMessage("--threads needs a value");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--fast"), ENV))
        .hasMessageStartingWith("unknown option '--fast'");
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of("--pg-limit-tps", "6673.5"), ENV))
        .hasMessageStartingWith("unknown option '--pg-limit-tps'");
  }

  @Test
  void aMissingOrMalformedUrlNamesWhereItCameFrom() {
    assertThatThrownBy(() -> BenchmarkOptions.parse(List.of(), Map.of()))
        .hasMessageContaining("--url")
        .hasMessageContaining(BenchmarkOptions.URL_VARIABLE);
    assertThatThrownBy(
            () ->
                BenchmarkOptions.parse(
                    List.of(), Map.of(BenchmarkOptions.URL_VARIABLE, "postgres://h/db")))
        .hasMessageStartingWith(BenchmarkOptions.URL_VARIABLE + ": not a PostgreSQL JDBC URL");
  }
}
