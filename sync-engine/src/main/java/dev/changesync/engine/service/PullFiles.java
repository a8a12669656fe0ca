package dev.changesync.engine.service;

import java.util.List;
import java.util.Optional;

/**
 * The files of a pull request's snapshot, in GitHub's order, each with the hunks parsed from its
 * patch.
 *
 * @param headSha head of the snapshot the files belong to
 * @param filesTruncated GitHub listed fewer files than the pull request changed
 */
public record PullFiles(
    long repositoryId,
    String fullName,
    int number,
    String headSha,
    String baseSha,
    boolean filesTruncated,
    int changedFiles,
    List<File> files) {

  public PullFiles {
    files = List.copyOf(files);
  }

  /**
   * One changed file.
   *
   * @param previousPath the old path of a renamed or copied file
   * @param status GitHub's status: {@code added}, {@code removed}, {@code modified}, {@code
   *     renamed}, ...
   * @param patch empty when GitHub sent none (binary or very large files), which is normal
   */
  public record File(
      String path,
      Optional<String> previousPath,
      String status,
      int additions,
      int deletions,
      int changes,
      Optional<String> patch,
      List<Hunk> hunks) {
    public File {
      hunks = List.copyOf(hunks);
    }
  }

  /** A hunk header of the patch: {@code @@ -oldStart,oldCount +newStart,newCount @@}. */
  public record Hunk(int oldStart, int oldCount, int newStart, int newCount) {}
}
