package dev.changesync.engine.db;

import java.nio.file.Path;

/**
 * Another process (or another instance in this JVM) runs the embedded PostgreSQL of this data
 * directory. Two servers on one cluster would damage it, so the second one refuses to start.
 */
public final class DataDirectoryInUseException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private final transient Path dataDir;

  DataDirectoryInUseException(Path dataDir, String holder) {
    super(
        "the data directory "
            + dataDir
            + " is in use by another changesync process"
            + (holder.isEmpty() ? "" : " (" + holder + ")")
            + ": stop that process, point this one at it (CHANGESYNC_DATABASE_URL), or give this"
            + " one its own CHANGESYNC_DATA_DIR (--data-dir)");
    this.dataDir = dataDir;
  }

  /** The directory that is in use. */
  public Path dataDir() {
    return dataDir;
  }
}
