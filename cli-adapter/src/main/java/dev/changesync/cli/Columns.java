package dev.changesync.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A table of one row per item under upper-case headers, columns two spaces apart, each as wide as
 * its widest cell; an empty cell prints as {@code -}. The last column is not padded.
 */
final class Columns {

  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  Columns(String... headers) {
    this.headers = List.of(headers);
  }

  Columns row(String... cells) {
    if (cells.length != headers.size()) {
      throw new IllegalArgumentException(
          "a row of " + cells.length + " cells under " + headers.size() + " headers");
    }
    rows.add(
        Arrays.stream(cells).map(c -> c == null || c.isEmpty() ? Times.NONE : c).toList());
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  String render() {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    StringBuilder out = new StringBuilder();
    line(out, headers, widths);
    rows.forEach(row -> line(out, row, widths));
    return out.toString();
  }

  private static void line(StringBuilder out, List<String> cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        line.append("  ");
      }
      String cell = cells.get(i);
      line.append(cell);
      if (i < cells.size() - 1) {
        line.append(" ".repeat(widths[i] - cell.length()));
      }
    }
    out.append(line.toString().stripTrailing()).append('\n');
  }
}
