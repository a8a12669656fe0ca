package dev.changesync.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OwnerIdTest {

  @Test
  void parseTakesTheIncarnationAfterTheLastColon() {
    OwnerId owner = OwnerId.parse("build-host-7:4242:9f86d081884c7d65");

    assertThat(owner.workerName()).isEqualTo("build-host-7:4242");
    assertThat(owner.incarnation()).isEqualTo("9f86d081884c7d65");
  }

  @Test
  void toStringRoundTripsThroughParse() {
    OwnerId owner = new OwnerId("host:123", "a_b-C9");

    assertThat(owner.toString()).isEqualTo("host:123:a_b-C9");
    assertThat(OwnerId.parse(owner.toString())).isEqualTo(owner);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "worker", ":inc", "worker:", "worker:in c", "worker:in:", " :inc", "w:é"})
  void parseRejectsMalformedOwnerIds(String ownerId) {
    assertThatIllegalArgumentException().isThrownBy(() -> OwnerId.parse(ownerId));
  }

  @Test
  void parseNamesTheExpectedShapeInItsMessage() {
    assertThatIllegalArgumentException()
        .isThrownBy(() -> OwnerId.parse("no-colon"))
        .withMessageContaining("<worker-name>:<incarnation>")
        .withMessageContaining("no-colon");
  }

  @Test
  void constructorRejectsBadParts() {
    assertThatNullPointerException()
        .isThrownBy(() -> new OwnerId(null, "i"))
        .withMessage("workerName");
    assertThatNullPointerException()
        .isThrownBy(() -> new OwnerId("w", null))
        .withMessage("incarnation");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new OwnerId("  ", "i"))
        .withMessageContaining("workerName");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new OwnerId("w", "a:b"))
        .withMessageContaining("incarnation");
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new OwnerId("w", "x".repeat(65)))
        .withMessageContaining("incarnation");
  }

  @Test
  void ownerIdIsAtMost255Characters() {
    String incarnation = "abcd";
    OwnerId longest = new OwnerId("w".repeat(250), incarnation);

    assertThat(longest.toString()).hasSize(OwnerId.MAX_LENGTH);
    assertThatIllegalArgumentException()
        .isThrownBy(() -> new OwnerId("w".repeat(251), incarnation))
        .withMessageContaining("at most 255 characters, got 256");
  }

  @Test
  void otherIncarnationIsTheSameWorkerNameWithAnotherIncarnation() {
    OwnerId first = new OwnerId("host:1", "a");

    assertThat(first.isOtherIncarnationOf(new OwnerId("host:1", "b"))).isTrue();
    assertThat(first.isOtherIncarnationOf(new OwnerId("host:1", "a"))).isFalse();
    assertThat(first.isOtherIncarnationOf(new OwnerId("host:2", "b"))).isFalse();
    assertThat(first.isOtherIncarnationOf(new OwnerId("host", "b"))).isFalse();
  }

  @Test
  void newIncarnationsAreUniqueAndParseBack() {
    Set<OwnerId> seen = new HashSet<>();
    for (int i = 0; i < 1_000; i++) {
      OwnerId owner = OwnerId.newIncarnation("host:77");
      assertThat(owner.workerName()).isEqualTo("host:77");
      assertThat(OwnerId.parse(owner.toString())).isEqualTo(owner);
      assertThat(seen.add(owner)).as("unique: %s", owner).isTrue();
    }
  }
}
