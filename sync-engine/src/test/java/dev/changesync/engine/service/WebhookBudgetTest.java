package dev.changesync.engine.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The bytes-in-flight budget of webhook bodies: reservations, growth, headroom, release. */
class WebhookBudgetTest {

  private static final long MB = 1024 * 1024;
  private static final long MAX = WebhookIntake.MAX_BODY_BYTES;

  private final WebhookBudget budget = new WebhookBudget(MAX + 8 * MB, 8 * MB);

  @Test
  void aReservationHoldsItsBytesUntilClosed() {
    WebhookBudget.Reservation r = budget.tryReserve(10 * MB).orElseThrow();

    assertThat(budget.usedBytes()).isEqualTo(10 * MB);
    assertThat(r.tryGrowTo(12 * MB)).isTrue();
    assertThat(r.tryGrowTo(11 * MB)).as("shrinking is a no-op").isTrue();
    assertThat(budget.usedBytes()).isEqualTo(12 * MB);

    r.close();
    r.close();
    assertThat(budget.usedBytes()).isZero();
    assertThatThrownBy(() -> r.tryGrowTo(1)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void largeBodiesCannotTakeTheSmallDeliveriesHeadroom() {
    WebhookBudget.Reservation large = budget.tryReserve(MAX).orElseThrow();

    assertThat(budget.tryReserve(2 * MB)).as("a second large body").isEmpty();
    assertThat(large.tryGrowTo(MAX + 1)).as("growing past the large share").isFalse();
    assertThat(budget.usedBytes()).isEqualTo(MAX);
    Optional<WebhookBudget.Reservation> small = budget.tryReserve(WebhookBudget.SMALL_DELIVERY_BYTES);
    assertThat(small).as("a small delivery still fits").isPresent();
    assertThat(small.get().tryGrowTo(WebhookBudget.SMALL_DELIVERY_BYTES + 1))
        .as("once past the small size it is a large body")
        .isFalse();
  }

  @Test
  void smallDeliveriesShareTheWholeBudgetAndFailWhenItIsFull() {
    long fits = budget.capacityBytes() / WebhookBudget.SMALL_DELIVERY_BYTES;
    for (int i = 0; i < fits; i++) {
      assertThat(budget.tryReserve(WebhookBudget.SMALL_DELIVERY_BYTES)).as("small " + i).isPresent();
    }

    assertThat(budget.tryReserve(WebhookBudget.SMALL_DELIVERY_BYTES)).isEmpty();
    assertThat(budget.usedBytes()).isEqualTo(fits * WebhookBudget.SMALL_DELIVERY_BYTES);
  }

  @Test
  void theBudgetFollowsTheHeapWithinItsBounds() {
    assertThat(WebhookBudget.forMaxHeap(256 * MB).capacityBytes()).isEqualTo(64 * MB);
    assertThat(WebhookBudget.forMaxHeap(64 * MB).capacityBytes()).isEqualTo(MAX + 8 * MB);
    assertThat(WebhookBudget.forMaxHeap(16_384 * MB).capacityBytes()).isEqualTo(256 * MB);
    assertThat(WebhookBudget.forMaxHeap(256 * MB).smallHeadroomBytes()).isEqualTo(8 * MB);
  }

  @Test
  void aBudgetTooSmallForOneLargestBodyIsRefused() {
    assertThatThrownBy(() -> new WebhookBudget(MAX, 8 * MB))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("capacityBytes");
    assertThatThrownBy(() -> new WebhookBudget(MAX + 8 * MB, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("smallHeadroomBytes");
  }
}
