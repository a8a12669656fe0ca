package dev.changesync.testkit.github;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

/** Deterministic, realistic-looking changed files and unified-diff patches. */
final class FileGenerator {

  private enum Kind {
    ADDED,
    MODIFIED,
    REMOVED,
    RENAMED_PURE,
    RENAMED_EDITED,
    BINARY,
    LARGE
  }

  private static final String[] MODULES = {"core", "api", "web", "storage", "auth", "billing"};
  private static final String[] WORDS = {
    "value", "count", "index", "buffer", "result", "request", "handler", "config", "entry", "node"
  };
  private static final String[] SECTIONS = {
    "", " public class Service {", " def handle(self, request):", " func (s *Server) Run() error {",
    " export function render(props) {", ""
  };

  private FileGenerator() {}

  static List<FakeFile> generate(long seed, PrSpec spec) {
    Random random = new Random(seed);
    List<Kind> kinds = new ArrayList<>(spec.files());
    for (int i = 0; i < spec.binaryFiles(); i++) {
      kinds.add(Kind.BINARY);
    }
    for (int i = 0; i < spec.renamedFiles(); i++) {
      kinds.add(i % 2 == 0 ? Kind.RENAMED_EDITED : Kind.RENAMED_PURE);
    }
    for (int i = 0; i < spec.largeFiles(); i++) {
      kinds.add(Kind.LARGE);
    }
    while (kinds.size() < spec.files()) {
      int r = random.nextInt(100);
      kinds.add(r < 20 ? Kind.ADDED : r < 28 ? Kind.REMOVED : Kind.MODIFIED);
    }
    Collections.shuffle(kinds, random);
    List<FakeFile> files = new ArrayList<>(kinds.size());
    for (int i = 0; i < kinds.size(); i++) {
      files.add(file(kinds.get(i), i, random, spec.maxHunksPerFile(), seed));
    }
    files.sort(Comparator.comparing(FakeFile::filename));
    return files;
  }

  private static FakeFile file(Kind kind, int index, Random random, int maxHunks, long seed) {
    String module = MODULES[random.nextInt(MODULES.length)];
    String sha = sha1("blob:" + seed + ":" + index);
    switch (kind) {
      case BINARY:
        {
          String name = "assets/" + module + "/image-" + index + (index % 2 == 0 ? ".png" : ".jar");
          return new FakeFile(
              name, null, random.nextBoolean() ? "added" : "modified", 0, 0, 0, sha, null, true,
              List.of());
        }
      case LARGE:
        {
          int additions = 2_000 + random.nextInt(5_000);
          int deletions = random.nextInt(3_000);
          return new FakeFile(
              "generated/" + module + "/schema-" + index + ".json",
              null,
              "modified",
              additions,
              deletions,
              additions + deletions,
              sha,
              null,
              false,
              List.of());
        }
      case RENAMED_PURE:
        return new FakeFile(
            textPath(module, index, random),
            "old/" + textPath(module, index, random),
            "renamed",
            0,
            0,
            0,
            sha,
            null,
            false,
            List.of());
      case ADDED:
        {
          int lines = 1 + random.nextInt(30);
          StringBuilder patch = new StringBuilder("@@ -0,0 +1");
          patch.append(lines == 1 ? "" : "," + lines).append(" @@");
          for (int i = 0; i < lines; i++) {
            patch.append("\n+").append(codeLine(random));
          }
          if (random.nextInt(5) == 0) {
            patch.append("\n\\ No newline at end of file");
          }
          return new FakeFile(
              textPath(module, index, random), null, "added", lines, 0, lines, sha,
              patch.toString(), false, List.of(new FakeFile.Hunk(0, 0, 1, lines)));
        }
      case REMOVED:
        {
          int lines = 1 + random.nextInt(25);
          StringBuilder patch = new StringBuilder("@@ -1").append(lines == 1 ? "" : "," + lines);
          patch.append(" +0,0 @@");
          for (int i = 0; i < lines; i++) {
            patch.append("\n-").append(codeLine(random));
          }
          return new FakeFile(
              textPath(module, index, random), null, "removed", 0, lines, lines, sha,
              patch.toString(), false, List.of(new FakeFile.Hunk(1, lines, 0, 0)));
        }
      case MODIFIED:
      case RENAMED_EDITED:
      default:
        {
          boolean renamed = kind == Kind.RENAMED_EDITED;
          int hunkCount = renamed ? 1 : 1 + random.nextInt(maxHunks);
          return modified(
              textPath(module, index, random),
              renamed ? "old/" + textPath(module, index, random) : null,
              renamed ? "renamed" : "modified",
              hunkCount,
              random,
              sha);
        }
    }
  }

  private static FakeFile modified(
      String path, String previous, String status, int hunkCount, Random random, String sha) {
    StringBuilder patch = new StringBuilder();
    List<FakeFile.Hunk> hunks = new ArrayList<>();
    int additions = 0;
    int deletions = 0;
    int oldLine = 1 + random.nextInt(40);
    int offset = 0;
    for (int h = 0; h < hunkCount; h++) {
      int removed = random.nextInt(4);
      int added = random.nextInt(5);
      if (removed + added == 0) {
        added = 1;
      }
      int before = 3;
      int after = 3;
      int oldCount = before + removed + after;
      int newCount = before + added + after;
      int newLine = oldLine + offset;
      if (patch.length() > 0) {
        patch.append('\n');
      }
      patch
          .append("@@ -")
          .append(oldLine)
          .append(',')
          .append(oldCount)
          .append(" +")
          .append(newLine)
          .append(',')
          .append(newCount)
          .append(" @@")
          .append(SECTIONS[random.nextInt(SECTIONS.length)]);
      for (int i = 0; i < before; i++) {
        patch.append("\n ").append(codeLine(random));
      }
      for (int i = 0; i < removed; i++) {
        patch.append("\n-").append(codeLine(random));
      }
      for (int i = 0; i < added; i++) {
        patch.append("\n+").append(codeLine(random));
      }
      for (int i = 0; i < after; i++) {
        patch.append("\n ").append(codeLine(random));
      }
      hunks.add(new FakeFile.Hunk(oldLine, oldCount, newLine, newCount));
      additions += added;
      deletions += removed;
      offset += added - removed;
      oldLine += oldCount + 5 + random.nextInt(60);
    }
    return new FakeFile(
        path, previous, status, additions, deletions, additions + deletions, sha, patch.toString(),
        false, hunks);
  }

  private static String textPath(String module, int index, Random random) {
    switch (random.nextInt(5)) {
      case 0:
        return "src/main/java/com/acme/" + module + "/Component" + index + ".java";
      case 1:
        return "web/src/" + module + "/view-" + index + ".ts";
      case 2:
        return "docs/" + module + "/page-" + index + ".md";
      case 3:
        return "scripts/" + module + "/task_" + index + ".py";
      default:
        return "deploy/" + module + "/values-" + index + ".yml";
    }
  }

  private static String codeLine(Random random) {
    String a = WORDS[random.nextInt(WORDS.length)];
    String b = WORDS[random.nextInt(WORDS.length)];
    switch (random.nextInt(4)) {
      case 0:
        return "    int " + a + " = compute(" + b + ", " + random.nextInt(100) + ");";
      case 1:
        return "    if (" + a + " == null) { return " + b + "; }";
      case 2:
        return "    // " + a + " before " + b;
      default:
        return "    " + a + ".update(" + b + ");";
    }
  }

  static String sha1(String input) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-1");
      return HexFormat.of().formatHex(digest.digest(input.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
