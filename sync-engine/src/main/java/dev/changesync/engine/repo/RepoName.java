package dev.changesync.engine.repo;

import static java.util.Objects.requireNonNull;

import java.util.regex.Pattern;

/**
 * An {@code owner/repo} name, validated before it reaches SQL or GitHub: owners are 1–39
 * characters of {@code [A-Za-z0-9_-]}; repository names 1–100 characters of {@code
 * [A-Za-z0-9._-]}, other than {@code .} and {@code ..}. Names are matched case-insensitively and
 * kept as given.
 */
public record RepoName(String owner, String name) {

  private static final Pattern OWNER = Pattern.compile("[A-Za-z0-9_-]{1,39}");
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,100}");

  public RepoName {
    requireNonNull(owner, "owner");
    requireNonNull(name, "name");
    if (!OWNER.matcher(owner).matches()) {
      throw new IllegalArgumentException(
          "invalid owner '" + printable(owner) + "': 1-39 characters of A-Z a-z 0-9 _ -");
    }
    if (!NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException(
          "invalid repository name '"
              + printable(name)
              + "': 1-100 characters of A-Z a-z 0-9 . _ -, not '.' or '..'");
    }
  }

  public static RepoName of(String owner, String name) {
    return new RepoName(owner, name);
  }

  /** Parses {@code owner/repo}. */
  public static RepoName parse(String fullName) {
    requireNonNull(fullName, "fullName");
    int slash = fullName.indexOf('/');
    if (slash < 0 || slash != fullName.lastIndexOf('/')) {
      throw new IllegalArgumentException(
          "expected OWNER/REPO, got '" + printable(fullName) + "'");
    }
    return new RepoName(fullName.substring(0, slash), fullName.substring(slash + 1));
  }

  public String fullName() {
    return owner + "/" + name;
  }

  /** True when both name the same repository (names are case-insensitive). */
  public boolean sameAs(RepoName other) {
    return owner.equalsIgnoreCase(other.owner) && name.equalsIgnoreCase(other.name);
  }

  @Override
  public String toString() {
    return fullName();
  }

  private static String printable(String s) {
    String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
    return cut.replaceAll("\\p{Cntrl}", "?");
  }
}
