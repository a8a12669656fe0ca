package dev.changesync.lease;

import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LeasePolicyTest {

  @ParameterizedTest(name = "TTL {0} -> heartbeat {1}, stale after {2}")
  @CsvSource({
    "PT15M,  PT10S,   PT30S",
    "PT2H,   PT10S,   PT30S",
    "PT60S,  PT10S,   PT30S",
    "PT30S,  PT5S,    PT15S",
    "PT6S,   PT1S,    PT3S",
    "PT2S,   PT0.333S, PT1S",
    "PT1.2S, PT0.2S,  PT1S",
    "PT1S,   PT0.2S,  PT1S",
  })
  void ofTtlDerivesHeartbeatAndStaleAfter(Duration ttl, Duration heartbeat, Duration staleAfter) {
    LeasePolicy policy = LeasePolicy.ofTtl(ttl);

    assertThat(policy).isEqualTo(new LeasePolicy(ttl, heartbeat, staleAfter));
  }

  @Test
  void defaultsAreTheFifteenMinuteTtl() {
    assertThat(LeasePolicy.defaults())
        .isEqualTo(LeasePolicy.of(ofMinutes(15), ofSeconds(10), ofSeconds(30)))
        .isEqualTo(LeasePolicy.ofTtl(LeasePolicy.DEFAULT_LEASE_FOR));
  }

  @Test
  void ofTtlRejectsTtlShorterThanTheMinimumStaleAfterNamingLeaseFor() {
    // 500 ms would derive heartbeat 200 ms and stale-after 1 s: a lease that expires before it
    // could go stale, and a runner that trusts it for longer than it lives.
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.ofTtl(ofMillis(500)))
        .withMessageStartingWith("leaseFor (PT0.5S)")
        .withMessageContaining("at least PT1S");
    assertThatIllegalArgumentException().isThrownBy(() -> LeasePolicy.ofTtl(ofMillis(999)));
  }

  @Test
  void explicitPolicyKeepsItsValues() {
    LeasePolicy policy = LeasePolicy.of(ofSeconds(90), ofSeconds(2), ofSeconds(20));

    assertThat(policy.leaseFor()).isEqualTo(ofSeconds(90));
    assertThat(policy.heartbeatEvery()).isEqualTo(ofSeconds(2));
    assertThat(policy.staleAfter()).isEqualTo(ofSeconds(20));
  }

  @Test
  void staleAfterMayEqualLeaseFor() {
    assertThat(LeasePolicy.of(ofSeconds(5), ofSeconds(1), ofSeconds(5)).staleAfter())
        .isEqualTo(ofSeconds(5));
  }

  @Test
  void withDefaultsFillsInOnlyWhatIsMissing() {
    assertThat(LeasePolicy.withDefaults(ofMinutes(15), null, null))
        .isEqualTo(LeasePolicy.ofTtl(ofMinutes(15)));
    assertThat(LeasePolicy.withDefaults(ofMinutes(15), ofSeconds(2), null))
        .as("stale-after from the heartbeat actually used")
        .isEqualTo(LeasePolicy.of(ofMinutes(15), ofSeconds(2), ofSeconds(6)));
    assertThat(LeasePolicy.withDefaults(ofMinutes(15), ofMillis(300), null))
        .as("stale-after never below 1 s")
        .isEqualTo(LeasePolicy.of(ofMinutes(15), ofMillis(300), ofSeconds(1)));
    assertThat(LeasePolicy.withDefaults(ofMinutes(15), null, ofSeconds(60)))
        .isEqualTo(LeasePolicy.of(ofMinutes(15), ofSeconds(10), ofSeconds(60)));
    assertThat(LeasePolicy.withDefaults(ofMinutes(1), ofSeconds(5), ofSeconds(40)))
        .isEqualTo(LeasePolicy.of(ofMinutes(1), ofSeconds(5), ofSeconds(40)));
  }

  @Test
  void withDefaultsShortensTheDerivedHeartbeatToFitAnExplicitStaleAfter() {
    // Only CHANGESYNC_STALE_AFTER=5s set: the TTL's 10 s heartbeat would never fit.
    assertThat(LeasePolicy.withDefaults(ofMinutes(15), null, ofSeconds(5)))
        .isEqualTo(LeasePolicy.of(ofMinutes(15), ofMillis(1_666), ofSeconds(5)));
  }

  @Test
  void withDefaultsRejectsDerivedStaleAfterLongerThanLeaseForNamingLeaseFor() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.withDefaults(ofSeconds(10), ofSeconds(5), null))
        .withMessageStartingWith("leaseFor (PT10S)")
        .withMessageContaining("staleAfter")
        .withMessageContaining("PT15S");
  }

  @Test
  void nonPositiveDurationsAreRejectedNamingTheParameter() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(Duration.ZERO, ofSeconds(1), ofSeconds(3)))
        .withMessage("leaseFor must be positive, got PT0S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), ofSeconds(-1), ofSeconds(3)))
        .withMessage("heartbeatEvery must be positive, got PT-1S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), ofSeconds(1), Duration.ZERO))
        .withMessage("staleAfter must be positive, got PT0S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.ofTtl(ofSeconds(-5)))
        .withMessage("leaseFor must be positive, got PT-5S");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.withDefaults(Duration.ZERO, null, null))
        .withMessageStartingWith("leaseFor");
  }

  @Test
  void nullDurationsAreRejectedNamingTheParameter() {
    assertThatNullPointerException()
        .isThrownBy(() -> LeasePolicy.of(null, ofSeconds(1), ofSeconds(3)))
        .withMessage("leaseFor");
    assertThatNullPointerException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), null, ofSeconds(3)))
        .withMessage("heartbeatEvery");
    assertThatNullPointerException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), ofSeconds(1), null))
        .withMessage("staleAfter");
    assertThatNullPointerException()
        .isThrownBy(() -> LeasePolicy.ofTtl(null))
        .withMessage("leaseFor");
  }

  @Test
  void heartbeatMustBeShorterThanStaleAfter() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), ofSeconds(3), ofSeconds(3)))
        .withMessageStartingWith("heartbeatEvery (PT3S) must be shorter than staleAfter (PT3S)");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(30), ofSeconds(5), ofSeconds(3)))
        .withMessageStartingWith("heartbeatEvery (PT5S)");
  }

  @Test
  void staleAfterMustNotBeLongerThanLeaseFor() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(10), ofSeconds(1), ofSeconds(11)))
        .withMessage("staleAfter (PT11S) must not be longer than leaseFor (PT10S)");
  }

  @Test
  void durationsAreTruncatedToMilliseconds() {
    LeasePolicy policy =
        LeasePolicy.of(
            Duration.parse("PT10.0009S"),
            Duration.parse("PT1.0004S"),
            Duration.parse("PT3.000999S"));

    assertThat(policy).isEqualTo(LeasePolicy.of(ofSeconds(10), ofSeconds(1), ofSeconds(3)));
    assertThat(new LeasePolicy(policy.leaseFor(), policy.heartbeatEvery(), policy.staleAfter()))
        .isEqualTo(policy);
  }

  @Test
  void durationsShorterThanAMillisecondAreRejected() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeasePolicy.of(ofSeconds(10), Duration.ofNanos(500_000), ofSeconds(3)))
        .withMessage("heartbeatEvery must be at least 1 ms, got PT0.0005S");
  }
}
