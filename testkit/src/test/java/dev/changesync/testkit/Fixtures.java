package dev.changesync.testkit;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/** Template initializers for the testkit's own tests. */
final class Fixtures {

  static final AtomicInteger markerTemplateBuilds = new AtomicInteger();

  private Fixtures() {}

  /** Leaves a marker row that every clone of the template must show. */
  static void createMarker(DataSource dataSource) throws SQLException {
    markerTemplateBuilds.incrementAndGet();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "create table template_marker (id bigint generated always as identity primary key, note"
              + " text not null)");
      s.execute("insert into template_marker (note) values ('from the template')");
    }
  }
}
