package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.changesync.lease.LeasePolicy;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SyncSettingsTest {

  @Test
  void defaultsAreThoseOfTheSpec() {
    SyncSettings s = SyncSettings.defaults();
    assertThat(s.pollEvery()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.webhookDebounce()).isEqualTo(Duration.ofSeconds(15));
    assertThat(s.minFetchInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(s.inventoryMaxAge()).isEqualTo(Duration.ofHours(6));
    assertThat(s.backfillInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(s.backfillMaxPulls()).isEqualTo(1000);
    assertThat(s.backfillMaxRuntime()).isEqualTo(Duration.ofMinutes(30));
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
    assertThat(s.workerThreads()).isEqualTo(2);
    assertThat(s.leasePolicy()).isEqualTo(LeasePolicy.defaults());
  }

  @Test
  void retryAfterDoublesFromTheBaseUpToTheCap() {
    SyncSettings s =
        SyncSettings.builder()
            .retryBackoffBase(Duration.ofSeconds(10))
            .retryBackoffCap(Duration.ofSeconds(75))
            .build();
    assertThat(s.retryAfter(1)).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.retryAfter(2)).isEqualTo(Duration.ofSeconds(20));
    assertThat(s.retryAfter(3)).isEqualTo(Duration.ofSeconds(40));
    assertThat(s.retryAfter(4)).isEqualTo(Duration.ofSeconds(75));
    assertThat(s.retryAfter(1_000)).isEqualTo(Duration.ofSeconds(75));
  }

  @Test
  void badValuesAreRefusedNamingTheSetting() {
    assertThatThrownBy(() -> SyncSettings.builder().workerThreads(0).build())
        .hasMessageContaining("workerThreads");
    assertThatThrownBy(() -> SyncSettings.builder().pollEvery(Duration.ZERO).build())
        .hasMessageContaining("pollEvery");
    assertThatThrownBy(() -> SyncSettings.builder().webhookDebounce(Duration.ofSeconds(-1)).build())
        .hasMessageContaining("webhookDebounce");
    assertThatThrownBy(
            () ->
                SyncSettings.builder()
                    .retryBackoffBase(Duration.ofMinutes(2))
                    .retryBackoffCap(Duration.ofMinutes(1))
                    .build())
        .hasMessageContaining("retryBackoffCap");
  }

  @Test
  void toBuilderKeepsEveryValue() {
    SyncSettings s = SyncSettings.builder().backfillMaxPulls(7).workerThreads(3).build();
    assertThat(s.toBuilder().build()).isEqualTo(s);
  }
}
