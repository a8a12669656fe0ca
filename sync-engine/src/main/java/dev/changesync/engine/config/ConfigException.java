package dev.changesync.engine.config;

import java.util.List;

/**
 * The configuration is unusable. Lists every problem found, not just the first; each problem names
 * the variable (or flag) and the bad value — never the value of a secret.
 */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(message(problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  /** One line per problem, each starting with the variable or flag it is about. */
  public List<String> problems() {
    return problems;
  }

  private static String message(List<String> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a ConfigException needs at least one problem");
    }
    if (problems.size() == 1) {
      return problems.get(0);
    }
    return "invalid configuration ("
        + problems.size()
        + " problems):\n  "
        + String.join("\n  ", problems);
  }
}
