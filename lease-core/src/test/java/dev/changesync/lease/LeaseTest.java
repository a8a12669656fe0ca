package dev.changesync.lease;

import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class LeaseTest {

  private static final LeaseKey KEY = LeaseKey.of("repo:42", "fetch");
  private static final OwnerId OWNER = new OwnerId("host:1", "a");
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration MICRO = Duration.ofNanos(1_000);
  private static final LeasePolicy POLICY =
      LeasePolicy.of(ofSeconds(60), ofSeconds(5), ofSeconds(15));

  private static Lease lease(Instant heartbeatAt, Instant expiresAt) {
    return new Lease(KEY, OWNER, 7, T0, heartbeatAt, expiresAt, POLICY);
  }

  @Test
  void heldUntilHeartbeatIsStaleAfterOldAndStaleFromThen() {
    Lease lease = lease(T0.plusSeconds(10), T0.plusSeconds(70));
    Instant staleAt = T0.plusSeconds(25);

    assertThat(lease.staleAt()).isEqualTo(staleAt);
    assertThat(lease.stateAt(T0.plusSeconds(10))).isEqualTo(LeaseState.HELD);
    assertThat(lease.stateAt(staleAt.minus(MICRO))).isEqualTo(LeaseState.HELD);
    assertThat(lease.stateAt(staleAt.minusNanos(1))).isEqualTo(LeaseState.HELD);
    assertThat(lease.stateAt(staleAt)).isEqualTo(LeaseState.STALE);
    assertThat(lease.stateAt(staleAt.plusSeconds(3600))).isEqualTo(LeaseState.STALE);
  }

  @Test
  void heldUntilExpiryWhenItComesFirst() {
    // A fresh heartbeat does not help a lease that has expired.
    Lease lease = lease(T0.plusSeconds(10), T0.plusSeconds(20));

    assertThat(lease.staleAt()).isEqualTo(T0.plusSeconds(20));
    assertThat(lease.stateAt(T0.plusSeconds(20).minus(MICRO))).isEqualTo(LeaseState.HELD);
    assertThat(lease.stateAt(T0.plusSeconds(20))).isEqualTo(LeaseState.STALE);
  }

  @Test
  void staleAtIsWhenStateStopsBeingHeld() {
    Lease byHeartbeat = lease(T0, T0.plusSeconds(60));
    Lease byExpiry = lease(T0, T0.plusSeconds(5));

    for (Lease lease : new Lease[] {byHeartbeat, byExpiry}) {
      assertThat(lease.stateAt(lease.staleAt().minusNanos(1))).isEqualTo(LeaseState.HELD);
      assertThat(lease.stateAt(lease.staleAt())).isEqualTo(LeaseState.STALE);
    }
  }

  @Test
  void onlyFreeAndStaleAreClaimable() {
    assertThat(LeaseState.FREE.isClaimable()).isTrue();
    assertThat(LeaseState.STALE.isClaimable()).isTrue();
    assertThat(LeaseState.HELD.isClaimable()).isFalse();
  }

  @Test
  void sameOwnershipComparesKeyOwnerAndTokenOnly() {
    Lease lease = lease(T0, T0.plusSeconds(60));
    Lease renewed = lease(T0.plusSeconds(5), T0.plusSeconds(65));

    assertThat(lease.sameOwnership(renewed)).isTrue();
    assertThat(lease.sameOwnership(new Lease(KEY, OWNER, 8, T0, T0, T0, POLICY))).isFalse();
    assertThat(
            lease.sameOwnership(new Lease(KEY, new OwnerId("host:1", "b"), 7, T0, T0, T0, POLICY)))
        .isFalse();
    assertThat(
            lease.sameOwnership(
                new Lease(LeaseKey.of("repo:42", "refresh"), OWNER, 7, T0, T0, T0, POLICY)))
        .isFalse();
  }

  @Test
  void tokenMustBePositive() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new Lease(KEY, OWNER, 0, T0, T0, T0, POLICY))
        .withMessage("token must be positive, got 0");
  }

  @Test
  void partsMustNotBeNull() {
    assertThatNullPointerException()
        .isThrownBy(() -> new Lease(KEY, OWNER, 1, T0, null, T0, POLICY))
        .withMessage("heartbeatAt");
    assertThatNullPointerException()
        .isThrownBy(() -> lease(T0, T0).stateAt(null))
        .withMessage("now");
  }
}
