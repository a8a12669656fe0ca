package dev.changesync.engine.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

  static Stream<Arguments> valid() {
    return Stream.of(
        Arguments.of("500ms", Duration.ofMillis(500)),
        Arguments.of("15s", Duration.ofSeconds(15)),
        Arguments.of("15m", Duration.ofMinutes(15)),
        Arguments.of("6h", Duration.ofHours(6)),
        Arguments.of("1d", Duration.ofDays(1)),
        Arguments.of("1h30m", Duration.ofMinutes(90)),
        Arguments.of("1m500ms", Duration.ofMillis(60_500)),
        Arguments.of("15S", Duration.ofSeconds(15)),
        Arguments.of(" 15s ", Duration.ofSeconds(15)),
        Arguments.of("0", Duration.ZERO),
        Arguments.of("0s", Duration.ZERO),
        Arguments.of("PT15M", Duration.ofMinutes(15)),
        Arguments.of("pt15m", Duration.ofMinutes(15)),
        Arguments.of("PT0.5S", Duration.ofMillis(500)),
        Arguments.of("P1D", Duration.ofDays(1)),
        Arguments.of("P1DT2H", Duration.ofHours(26)));
  }

  @ParameterizedTest
  @MethodSource("valid")
  void parsesShortAndIsoForms(String text, Duration expected) {
    assertThat(Durations.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "fifteen", "15", "15x", "s", "", "1.5s", "-5s", "PT-1S", "PT", "15 m", "m15", "P1M"
      })
  void rejectsWhatIsNotADurationSayingWhatIsAccepted(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"fifteen", "15", "1.5s"})
  void messageNamesTheAcceptedForms(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .hasMessage(
            "'" + text + "' is not a duration (use 500ms, 15s, 15m, 6h or ISO-8601 like PT15M)");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "500ms", "15s", "15m", "6h", "1d", "1h30m", "2d3h4m5s6ms"})
  void formatRoundTrips(String text) {
    assertThat(Durations.format(Durations.parse(text))).isEqualTo(text);
  }
}
