package dev.changesync.engine.db;

import java.nio.file.Path;

/**
 * A child JVM for {@link EmbeddedDatabaseTest}: starts the embedded database on the folder given
 * as its argument, prints {@code URL <jdbc url>} (or {@code REFUSED <message>}), and waits to be
 * killed; a line {@code stop} on standard input closes it and exits.
 */
public final class EmbeddedDatabaseProcess {

  private EmbeddedDatabaseProcess() {}

  public static void main(String[] args) throws Exception {
    EmbeddedDatabase db;
    try {
      db = EmbeddedDatabase.start(Path.of(args[0]));
    } catch (DataDirectoryInUseException e) {
      System.out.println("REFUSED " + e.getMessage());
      System.out.flush();
      return;
    }
    System.out.println("URL " + db.jdbcUrl());
    System.out.flush();
    java.io.BufferedReader in =
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
    String line;
    while ((line = in.readLine()) != null) {
      if (line.equals("stop")) {
        db.close();
        System.out.println("STOPPED");
        System.out.flush();
        return;
      }
    }
  }
}
