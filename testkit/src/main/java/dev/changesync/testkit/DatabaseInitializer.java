package dev.changesync.testkit;

import java.io.Serializable;
import javax.sql.DataSource;

/**
 * Prepares a template database once per JVM; every test database is then a clone of it. Typically
 * {@code Migrations::migrate}.
 *
 * <p>It is {@link Serializable} only so that {@link PostgresDatabase#migratedWith} can tell which
 * method a method reference points at, and give every {@code Migrations::migrate} in the JVM the
 * same template (each method-reference expression is otherwise a distinct object of a distinct
 * class). Nothing is ever serialised.
 */
@FunctionalInterface
public interface DatabaseInitializer extends Serializable {

  /** Brings the empty database behind {@code dataSource} into the state every clone starts in. */
  void initialize(DataSource dataSource) throws Exception;
}
