package dev.changesync.engine.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.sync.PatchParser.Hunk;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PatchParserTest {

  private static Hunk hunk(int oldStart, int oldCount, int newStart, int newCount) {
    return new Hunk(oldStart, oldCount, newStart, newCount, Optional.empty());
  }

  private static Hunk hunk(int oldStart, int oldCount, int newStart, int newCount, String section) {
    return new Hunk(oldStart, oldCount, newStart, newCount, Optional.of(section));
  }

  @Test
  void parsesEveryHunkHeaderWithItsSection() {
    String patch =
        """
        @@ -1,3 +1,4 @@ package dev.example;
         import java.util.List;
        +import java.util.Map;
        \s
         class A {
        @@ -40,7 +41,9 @@ class A {
           void run() {
        -    old();
        +    first();
        +    second();
        +    third();
           }
        """;
    assertThat(PatchParser.parse(patch))
        .containsExactly(hunk(1, 3, 1, 4, "package dev.example;"), hunk(40, 7, 41, 9, "class A {"));
  }

  @Test
  void countsLeftOutAreOne() {
    assertThat(PatchParser.parse("@@ -5 +5 @@\n-a\n+b"))
        .containsExactly(hunk(5, 1, 5, 1));
    assertThat(PatchParser.parse("@@ -5,0 +6 @@\n+b")).containsExactly(hunk(5, 0, 6, 1));
  }

  @Test
  void newAndDeletedFilesStartAtZero() {
    assertThat(PatchParser.parse("@@ -0,0 +1,2 @@\n+a\n+b")).containsExactly(hunk(0, 0, 1, 2));
    assertThat(PatchParser.parse("@@ -1,2 +0,0 @@\n-a\n-b")).containsExactly(hunk(1, 2, 0, 0));
  }

  @Test
  void twoHunkHeadersOnOneLineAreTwoHunks() {
    assertThat(PatchParser.parse("@@ -1,2 +1,2 @@ @@ -10,3 +10,4 @@ void f()\n a\n+b"))
        .containsExactly(hunk(1, 2, 1, 2), hunk(10, 3, 10, 4, "void f()"));
    assertThat(PatchParser.parse("@@ -1 +1 @@@@ -7,2 +7,2 @@"))
        .containsExactly(hunk(1, 1, 1, 1), hunk(7, 2, 7, 2));
  }

  @Test
  void noNewlineMarkersAndCarriageReturnsAreHarmless() {
    String patch = "@@ -1,2 +1,2 @@ top\r\n-a\r\n\\ No newline at end of file\r\n+b\r\n\\ No newline at end of file";
    assertThat(PatchParser.parse(patch)).containsExactly(hunk(1, 2, 1, 2, "top"));
  }

  @Test
  void missingEmptyAndGarbagePatchesHaveNoHunks() {
    assertThat(PatchParser.parse(null)).isEmpty();
    assertThat(PatchParser.parse("")).isEmpty();
    assertThat(PatchParser.parse("Binary files differ")).isEmpty();
    assertThat(PatchParser.parse("@@ garbage @@\n@@ -x,1 +1 @@\n@@ -1,2\n+++ b/file\n")).isEmpty();
  }

  @Test
  void headersOnlyCountAtTheStartOfALine() {
    String patch = "@@ -1,2 +1,3 @@\n+text mentioning @@ -9,9 +9,9 @@ inline\n a\n";
    assertThat(PatchParser.parse(patch)).containsExactly(hunk(1, 2, 1, 3));
  }

  @Test
  void numbersTooLargeForAnIntSkipTheHeaderButNotTheRest() {
    String patch = "@@ -99999999999,1 +1 @@\n a\n@@ -3,1 +3,1 @@\n b";
    assertThat(PatchParser.parse(patch)).containsExactly(hunk(3, 1, 3, 1));
  }

  @Test
  void goodHunksSurviveAmongGarbage() {
    List<Hunk> hunks =
        PatchParser.parse("\u0000\u0001garbage\n@@ -2,2 +2,2 @@ x\n\n\n@@ broken\n@@ -9 +9,2 @@");
    assertThat(hunks).containsExactly(hunk(2, 2, 2, 2, "x"), hunk(9, 1, 9, 2));
  }
}
