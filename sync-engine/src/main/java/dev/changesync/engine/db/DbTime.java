package dev.changesync.engine.db;

import java.time.Instant;
import java.time.InstantSource;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.SqlStatement;

/**
 * Who decides "now" in SQL: the database clock in production, an injected clock in tests.
 *
 * <p>SQL refers to now as {@link #NOW} — {@code coalesce(cast(:now as timestamptz), now())} — and
 * every statement using it is bound with {@link #bind}. With database time the parameter is null
 * and PostgreSQL's {@code now()} (the transaction's start) decides, so every worker agrees on the
 * time whatever its own clock says.
 */
public final class DbTime {

  /** The SQL expression for "now"; bind the statement with {@link #bind}. */
  public static final String NOW = "coalesce(cast(:now as timestamptz), now())";

  private final InstantSource clock; // null: database time

  private DbTime(InstantSource clock) {
    this.clock = clock;
  }

  /** The database decides. */
  public static DbTime database() {
    return new DbTime(null);
  }

  /** {@code clock} decides (tests). */
  public static DbTime injected(InstantSource clock) {
    return new DbTime(java.util.Objects.requireNonNull(clock, "clock"));
  }

  /** The injected clock, or empty on database time. */
  public Optional<InstantSource> clock() {
    return Optional.ofNullable(clock);
  }

  /** Binds {@code :now}: the injected instant, or null for database time. */
  public <S extends SqlStatement<S>> S bind(S statement) {
    return statement.bindByType("now", boundNow(), OffsetDateTime.class);
  }

  /** The value of {@code :now}: the injected instant, or null for database time. */
  public OffsetDateTime boundNow() {
    return clock == null
        ? null
        : OffsetDateTime.ofInstant(truncate(clock.instant()), ZoneOffset.UTC);
  }

  /** "Now" as this time authority sees it, read through {@code handle} on database time. */
  public Instant now(Handle handle) {
    if (clock != null) {
      return truncate(clock.instant());
    }
    return handle.createQuery("select now()").mapTo(OffsetDateTime.class).one().toInstant();
  }

  /** Truncates to microseconds, the precision of PostgreSQL timestamps. */
  public static Instant truncate(Instant instant) {
    return instant.truncatedTo(ChronoUnit.MICROS);
  }
}
