package dev.changesync.engine.service;

import dev.changesync.engine.repo.RepoName;

/**
 * Parses what adapters receive as text (path parameters, CLI arguments) into service inputs, or
 * throws {@link BadInputException} saying what is wrong — before anything reaches SQL or GitHub.
 */
public final class Inputs {

  /** Default number of lease events listed. */
  public static final int DEFAULT_EVENT_LIMIT = 100;

  /** Most lease events listed at once. */
  public static final int MAX_EVENT_LIMIT = 1000;

  private Inputs() {}

  /** {@code owner} and {@code name} as a repository name (SPEC §3 "Names"). */
  public static RepoName repoName(String owner, String name) {
    try {
      return RepoName.of(owner == null ? "" : owner, name == null ? "" : name);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage(), e);
    }
  }

  /** {@code OWNER/REPO} as a repository name. */
  public static RepoName repoName(String fullName) {
    try {
      return RepoName.parse(fullName == null ? "" : fullName);
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage(), e);
    }
  }

  /** A pull request number: a positive whole number. */
  public static int pullNumber(String text) {
    if (text != null && text.matches("[0-9]{1,10}")) {
      long value = Long.parseLong(text);
      if (value >= 1 && value <= Integer.MAX_VALUE) {
        return (int) value;
      }
    }
    throw new BadInputException("invalid pull request number '" + printable(text) + "'");
  }

  /** A pull request number given as a number. */
  public static int pullNumber(long number) {
    if (number < 1 || number > Integer.MAX_VALUE) {
      throw new BadInputException("invalid pull request number " + number);
    }
    return (int) number;
  }

  /** A lease event limit: 1–{@value #MAX_EVENT_LIMIT}; null or blank means the default. */
  public static int eventLimit(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT_EVENT_LIMIT;
    }
    try {
      return eventLimit(Integer.parseInt(text.strip()));
    } catch (NumberFormatException e) {
      throw new BadInputException(
          "invalid limit '" + printable(text) + "': a whole number from 1 to " + MAX_EVENT_LIMIT);
    }
  }

  /** A lease event limit: 1–{@value #MAX_EVENT_LIMIT}. */
  public static int eventLimit(int limit) {
    if (limit < 1 || limit > MAX_EVENT_LIMIT) {
      throw new BadInputException("invalid limit " + limit + ": from 1 to " + MAX_EVENT_LIMIT);
    }
    return limit;
  }

  static String printable(String s) {
    if (s == null) {
      return "";
    }
    String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
