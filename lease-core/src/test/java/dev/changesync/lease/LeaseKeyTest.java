package dev.changesync.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import org.junit.jupiter.api.Test;

class LeaseKeyTest {

  @Test
  void keyIsResourceAndLane() {
    LeaseKey key = LeaseKey.of("repo:42", "fetch");

    assertThat(key).isEqualTo(new LeaseKey("repo:42", "fetch"));
    assertThat(key).isNotEqualTo(LeaseKey.of("repo:42", "refresh"));
    assertThat(key.toString()).isEqualTo("(repo:42, fetch)");
  }

  @Test
  void badNamesAreRejectedNamingThePart() {
    assertThatNullPointerException()
        .isThrownBy(() -> LeaseKey.of(null, "fetch"))
        .withMessage("resource");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeaseKey.of("repo:1", " "))
        .withMessage("lane must not be blank");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeaseKey.of(" repo:1", "fetch"))
        .withMessageStartingWith("resource must not start or end with whitespace");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> LeaseKey.of("r".repeat(LeaseKey.MAX_LENGTH + 1), "fetch"))
        .withMessage("resource must be at most 200 characters, got 201");
    assertThat(LeaseKey.of("r".repeat(LeaseKey.MAX_LENGTH), "fetch").resource()).hasSize(200);
  }
}
