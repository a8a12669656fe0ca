package dev.changesync.testkit.github;

import java.util.List;
import java.util.Optional;

/**
 * A changed file of a fake pull request, as {@code GET .../pulls/{n}/files} serves it.
 *
 * @param filename the path after the change
 * @param previousFilename the path before a rename, else null
 * @param status {@code added}, {@code modified}, {@code removed} or {@code renamed}
 * @param sha the blob SHA
 * @param patch the unified diff hunks, or null for binary files, pure renames and files too large
 *     to diff (as on GitHub)
 * @param binary true for a binary file
 * @param hunks the hunk headers of {@code patch}, in order (empty without a patch)
 */
public record FakeFile(
    String filename,
    String previousFilename,
    String status,
    int additions,
    int deletions,
    int changes,
    String sha,
    String patch,
    boolean binary,
    List<Hunk> hunks) {

  public FakeFile {
    hunks = List.copyOf(hunks);
  }

  public Optional<String> patchIfAny() {
    return Optional.ofNullable(patch);
  }

  /** One {@code @@ -oldStart,oldCount +newStart,newCount @@} header. */
  public record Hunk(int oldStart, int oldCount, int newStart, int newCount) {}
}
