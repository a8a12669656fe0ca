package dev.changesync.engine.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the hunk headers of a unified diff patch as GitHub sends it for one file: {@code @@
 * -oldStart[,oldCount] +newStart[,newCount] @@ section}. A count left out is 1, as in every
 * unified diff.
 *
 * <p>Tolerant by design: a patch is data from the outside world. Lines that are not hunk headers
 * (context, additions, deletions, {@code \ No newline at end of file}, garbage) are skipped; a
 * header whose numbers do not fit is skipped; several headers on one line each count, and the
 * section is the text after the last of them. A missing or empty patch has no hunks. Parsing never
 * throws.
 */
public final class PatchParser {

  private static final Pattern HEADER =
      Pattern.compile("@@ -(\\d{1,10})(?:,(\\d{1,10}))? \\+(\\d{1,10})(?:,(\\d{1,10}))? @@");

  private PatchParser() {}

  /**
   * One hunk header.
   *
   * @param section the text after the closing {@code @@} (usually the enclosing function), or
   *     empty
   */
  public record Hunk(
      int oldStart, int oldCount, int newStart, int newCount, Optional<String> section) {}

  /** The hunks of {@code patch}, in order; none for a null or empty patch. */
  public static List<Hunk> parse(String patch) {
    List<Hunk> hunks = new ArrayList<>();
    if (patch == null || patch.isEmpty()) {
      return hunks;
    }
    int lineStart = 0;
    int length = patch.length();
    while (lineStart < length) {
      int lineEnd = patch.indexOf('\n', lineStart);
      if (lineEnd < 0) {
        lineEnd = length;
      }
      if (patch.startsWith("@@", lineStart)) {
        String line = patch.substring(lineStart, lineEnd);
        if (line.endsWith("\r")) {
          line = line.substring(0, line.length() - 1);
        }
        parseHeaderLine(line, hunks);
      }
      lineStart = lineEnd + 1;
    }
    return hunks;
  }

  /** Parses the headers at the start of {@code line}, one after another. */
  private static void parseHeaderLine(String line, List<Hunk> into) {
    Matcher m = HEADER.matcher(line);
    int at = 0;
    List<int[]> found = new ArrayList<>();
    while (m.find(at) && m.start() == at) {
      int[] numbers = numbers(m);
      if (numbers != null) {
        found.add(numbers);
      }
      at = m.end();
      // A further header may follow after blanks: "@@ -1 +1 @@ @@ -9,2 +9,3 @@ f()".
      int next = at;
      while (next < line.length() && line.charAt(next) == ' ') {
        next++;
      }
      if (line.startsWith("@@ -", next)) {
        at = next;
      } else {
        break;
      }
    }
    if (found.isEmpty()) {
      return;
    }
    String rest = line.substring(Math.min(at, line.length())).strip();
    for (int i = 0; i < found.size(); i++) {
      int[] n = found.get(i);
      Optional<String> section =
          i == found.size() - 1 && !rest.isEmpty() ? Optional.of(rest) : Optional.empty();
      into.add(new Hunk(n[0], n[1], n[2], n[3], section));
    }
  }

  private static int[] numbers(Matcher m) {
    long oldStart = Long.parseLong(m.group(1));
    long oldCount = m.group(2) == null ? 1 : Long.parseLong(m.group(2));
    long newStart = Long.parseLong(m.group(3));
    long newCount = m.group(4) == null ? 1 : Long.parseLong(m.group(4));
    if (oldStart > Integer.MAX_VALUE
        || oldCount > Integer.MAX_VALUE
        || newStart > Integer.MAX_VALUE
        || newCount > Integer.MAX_VALUE) {
      return null;
    }
    return new int[] {(int) oldStart, (int) oldCount, (int) newStart, (int) newCount};
  }
}
