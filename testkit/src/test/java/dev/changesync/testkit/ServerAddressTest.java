package dev.changesync.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServerAddressTest {

  @Test
  void keepsParametersAndNamesAnyDatabase() {
    ServerAddress a =
        ServerAddress.parse("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres&ssl=false");

    assertThat(a.maintenanceDatabase()).isEqualTo("postgres");
    assertThat(a.user()).isEqualTo("postgres");
    assertThat(a.password()).isNull();
    assertThat(a.urlFor("changesync_test_x"))
        .isEqualTo("jdbc:postgresql://127.0.0.1:5432/changesync_test_x?user=postgres&ssl=false");
    assertThat(a.maintenanceUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres&ssl=false");
  }

  @Test
  void writesTheOperatingSystemUserIntoUrlsWithoutOne() {
    ServerAddress a = ServerAddress.parse("jdbc:postgresql://db.example:5433/maint");

    assertThat(a.user()).isEqualTo(System.getProperty("user.name"));
    assertThat(a.urlFor("d")).startsWith("jdbc:postgresql://db.example:5433/d?user=");
  }

  @Test
  void addsSeparateCredentialsAndMasksThePassword() {
    ServerAddress a =
        ServerAddress.parse("jdbc:postgresql://localhost:32768/test?loggerLevel=OFF")
            .withCredentials("test", "s3cret&x");

    assertThat(a.user()).isEqualTo("test");
    assertThat(a.password()).isEqualTo("s3cret&x");
    assertThat(a.urlFor("d"))
        .isEqualTo(
            "jdbc:postgresql://localhost:32768/d?loggerLevel=OFF&user=test&password=s3cret%26x");
    assertThat(a.describe("d"))
        .isEqualTo("jdbc:postgresql://localhost:32768/d?loggerLevel=OFF&user=test&password=***");
  }

  @Test
  void rejectsOtherUrlsWithoutRepeatingThem() {
    assertThatThrownBy(() -> ServerAddress.parse("jdbc:mysql://h/db?password=hunter2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("jdbc:postgresql://HOST[:PORT]/DATABASE")
        .hasMessageNotContaining("hunter2");
  }
}
