package dev.changesync.engine.sync;

import dev.changesync.engine.github.Conditional;
import dev.changesync.engine.github.GhFile;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.KnownETags;
import dev.changesync.engine.repo.RepoName;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/** Lists the files of one PR for a snapshot, page by page, stopping when the pass must stop. */
final class PullFiles {

  private PullFiles() {}

  /**
   * The files of PR {@code number}, at most {@link GitHub#MAX_FILES}, conditional on {@code
   * known}: {@link Conditional.Unchanged} when GitHub confirmed every page of the stored listing.
   * The list of one PR is kept in memory (GitHub caps it) because its snapshot is written in one
   * transaction.
   */
  static Conditional<List<GhFile>> list(
      GitHub github, Pass pass, RepoName name, int number, KnownETags known) {
    List<GhFile> files = new ArrayList<>();
    AtomicReference<RuntimeException> stoppedBy = new AtomicReference<>();
    Conditional<GitHub.ListingStats> listing =
        github.pullFiles(
            name.owner(),
            name.name(),
            number,
            known,
            page -> {
              try {
                pass.checkpoint();
              } catch (RuntimeException e) {
                stoppedBy.set(e);
                return false;
              }
              files.addAll(page);
              return files.size() < GitHub.MAX_FILES;
            });
    if (stoppedBy.get() != null) {
      throw stoppedBy.get();
    }
    if (listing instanceof Conditional.Unchanged) {
      return new Conditional.Unchanged<>(listing.validators());
    }
    return new Conditional.Changed<>(
        files.size() > GitHub.MAX_FILES
            ? new ArrayList<>(files.subList(0, GitHub.MAX_FILES))
            : files,
        listing.validators());
  }
}
