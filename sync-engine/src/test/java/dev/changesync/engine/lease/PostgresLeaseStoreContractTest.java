package dev.changesync.engine.lease;

import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LeaseStore;
import dev.changesync.lease.testing.LeaseStoreContract;
import dev.changesync.lease.testing.MutableClock;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The very contract suite the in-memory store passes, fuzz and model tests included, on
 * PostgreSQL. The database runs in a time zone far from UTC (+13:45 / +12:45): a session time zone
 * must change nothing.
 */
class PostgresLeaseStoreContractTest extends LeaseStoreContract<Handle> {

  @RegisterExtension
  static final PostgresDatabase db =
      PostgresDatabase.migratedWith(Migrations::migrate).withTimeZone("Pacific/Chatham");

  @Override
  protected LeaseStore<Handle> createStore(MutableClock clock, LeaseListener listener) {
    Jdbi jdbi = Jdbi.create(db.dataSource());
    jdbi.useHandle(h -> h.execute("delete from lease; delete from lease_event"));
    return PostgresLeaseStore.builder(db.dataSource()).clock(clock).listener(listener).build();
  }

  @Override
  protected int modelSeeds() {
    return 120;
  }

  @Override
  protected int fuzzIterationsPerThread() {
    return 300;
  }
}
