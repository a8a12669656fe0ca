package dev.changesync.cli;

import dev.changesync.engine.config.Durations;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.BadInputException;
import dev.changesync.engine.service.Inputs;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Arguments parsed by the engine's own rules ({@link Inputs}), so that the CLI rejects exactly
 * what the API rejects with a 400 — as a usage error, before anything is contacted.
 */
final class Converters {

  private Converters() {}

  /** {@code OWNER/REPO}. */
  static final class Repo implements ITypeConverter<RepoName> {
    @Override
    public RepoName convert(String value) {
      try {
        return Inputs.repoName(value);
      } catch (BadInputException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** A pull request number. */
  static final class PullNumber implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Inputs.pullNumber(value);
      } catch (BadInputException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** A lease event limit, 1–1000. */
  static final class EventLimit implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Inputs.eventLimit(value);
      } catch (BadInputException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code off} or {@code open_only}. */
  static final class Mode implements ITypeConverter<BackfillMode> {
    @Override
    public BackfillMode convert(String value) {
      try {
        return BackfillMode.parse(value);
      } catch (BadInputException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** The backfill modes, for help and shell completion. */
  static final class Modes implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(BackfillMode.values()).map(BackfillMode::value).iterator();
    }
  }

  /** A positive duration: {@code 500ms}, {@code 2s}, {@code PT1M}. */
  static final class PositiveDuration implements ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      Duration d;
      try {
        d = Durations.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
      if (d.isZero() || d.isNegative()) {
        throw new TypeConversionException("'" + value + "' must be longer than zero");
      }
      return d;
    }
  }
}
