package dev.changesync.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * An aligned "Label: value" table. Every value starts in the same column, across blank-line
 * separated groups and indented sub-labels; an empty value prints as {@code -}.
 */
final class Labels {

  private record Line(String label, String value) {}

  private final List<Line> lines = new ArrayList<>(); // a null line is a blank line

  /** Adds {@code label: value}. */
  Labels add(String label, String value) {
    lines.add(new Line(label, value == null || value.isEmpty() ? Times.NONE : value));
    return this;
  }

  /** Adds {@code   label: value}, indented under the line before. */
  Labels sub(String label, String value) {
    return add("  " + label, value);
  }

  /** Adds a blank line between groups. */
  Labels gap() {
    lines.add(null);
    return this;
  }

  String render() {
    int width = 0;
    for (Line line : lines) {
      if (line != null) {
        width = Math.max(width, line.label().length() + 1);
      }
    }
    StringBuilder out = new StringBuilder();
    for (Line line : lines) {
      if (line == null) {
        out.append('\n');
        continue;
      }
      String label = line.label() + ":";
      out.append(label).append(" ".repeat(width - label.length() + 1)).append(line.value());
      out.append('\n');
    }
    return out.toString();
  }
}
