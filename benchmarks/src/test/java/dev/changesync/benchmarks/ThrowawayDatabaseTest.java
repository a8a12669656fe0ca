package dev.changesync.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ThrowawayDatabaseTest {

  @Test
  void theBenchmarkDatabaseKeepsServerAndParameters() {
    assertThat(
            ThrowawayDatabase.urlFor(
                "jdbc:postgresql://db:5433/app?user=u&password=p", "changesync_bench_1"))
        .isEqualTo("jdbc:postgresql://db:5433/changesync_bench_1?user=u&password=p");
    assertThat(ThrowawayDatabase.urlFor("jdbc:postgresql://db/", "b"))
        .isEqualTo("jdbc:postgresql://db/b");
  }

  @Test
  void databasesAreCreatedFromTheNamedDatabaseOrPostgres() {
    assertThat(ThrowawayDatabase.maintenanceUrl("jdbc:postgresql://db/app?user=u"))
        .isEqualTo("jdbc:postgresql://db/app?user=u");
    assertThat(ThrowawayDatabase.maintenanceUrl("jdbc:postgresql://db/?user=u"))
        .isEqualTo("jdbc:postgresql://db/postgres?user=u");
    assertThat(ThrowawayDatabase.maintenanceUrl("jdbc:postgresql://db:5432/"))
        .isEqualTo("jdbc:postgresql://db:5432/postgres");
  }

  @Test
  void passwordsAreMaskedAndNeverEchoedInErrors() {
    assertThat(ThrowawayDatabase.mask("jdbc:postgresql://db/x?user=u&password=secret&ssl=true"))
        .isEqualTo("jdbc:postgresql://db/x?user=u&password=***&ssl=true");
    assertThatThrownBy(() -> ThrowawayDatabase.urlFor("jdbc:mysql://db/x?password=secret", "b"))
        .isInstanceOf(IllegalArgumentException.class)
        .message()
        .doesNotContain("secret");
  }
}
