package dev.changesync.engine.lease;

import static java.util.Objects.requireNonNull;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.jdbi.v3.core.ConnectionException;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.ColonPrefixSqlParser;
import org.jdbi.v3.core.statement.ParsedSql;
import org.jdbi.v3.core.statement.SqlParser;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

/**
 * The lease store's hot path — claim, heartbeat, bare release — on plain JDBC. Each of those is one
 * statement on a pooled connection, and JDBI's per-statement machinery (a handle, a configuration
 * copy, argument factories) costs the client more CPU than the statement itself; with client and
 * database on the same machine that is throughput lost. The SQL keeps JDBI's {@code :name}
 * parameters, parsed once by JDBI's own parser, and failures surface as the same JDBI exceptions
 * the rest of changesync handles.
 */
final class Jdbc {

  private static final SqlParser PARSER = new ColonPrefixSqlParser();

  private final DataSource dataSource;

  Jdbc(DataSource dataSource) {
    this.dataSource = requireNonNull(dataSource, "dataSource");
  }

  /** A statement with named parameters, in JDBC's positional form. */
  record Statement(String sql, List<String> names) {

    /** Parses {@code namedSql}; repeated calls with the same text hit the parser's cache. */
    static Statement of(String namedSql) {
      ParsedSql parsed = PARSER.parse(namedSql, null);
      return new Statement(parsed.getSql(), parsed.getParameters().getParameterNames());
    }
  }

  /** A null of a given SQL type, for parameters whose type PostgreSQL cannot infer. */
  enum Null {
    BIGINT(Types.BIGINT),
    TIMESTAMPTZ(Types.TIMESTAMP_WITH_TIMEZONE);

    private final int type;

    Null(int type) {
      this.type = type;
    }
  }

  /** An array parameter: {@code values} as a PostgreSQL array of {@code elementType}. */
  record Array(String elementType, Object[] values) {}

  /** Parameter values by name; a null value must be given as a {@link Null}. */
  static final class Params {
    private final Map<String, Object> values = new HashMap<>(32);

    Params put(String name, Object value) {
      values.put(name, requireNonNull(value, name));
      return this;
    }

    Params put(String name, Object value, Null ifNull) {
      values.put(name, value == null ? ifNull : value);
      return this;
    }

    void bind(PreparedStatement ps, List<String> names) throws SQLException {
      for (int i = 0; i < names.size(); i++) {
        String name = names.get(i);
        Object value = values.get(name);
        int index = i + 1;
        if (value == null) {
          throw new IllegalArgumentException("no value for parameter :" + name);
        } else if (value instanceof Null n) {
          ps.setNull(index, n.type);
        } else if (value instanceof Array a) {
          ps.setArray(index, ps.getConnection().createArrayOf(a.elementType(), a.values()));
        } else if (value instanceof String s) {
          ps.setString(index, s);
        } else if (value instanceof Long l) {
          ps.setLong(index, l);
        } else if (value instanceof Boolean b) {
          ps.setBoolean(index, b);
        } else if (value instanceof OffsetDateTime t) {
          ps.setObject(index, t);
        } else {
          ps.setObject(index, value);
        }
      }
    }
  }

  /** Reads a statement's result set. */
  @FunctionalInterface
  private interface Reader<T> {
    T read(ResultSet rs) throws SQLException;
  }

  /** Runs {@code statement} in its own transaction and maps every row. */
  <T> List<T> queryAll(Statement statement, Params params, RowMapper<T> mapper) {
    return query(
        statement,
        params,
        rs -> {
          List<T> rows = new ArrayList<>();
          while (rs.next()) {
            rows.add(mapper.map(rs, null));
          }
          return rows;
        });
  }

  /** Runs {@code statement} in its own transaction and maps its first row, if any. */
  <T> Optional<T> queryFirst(Statement statement, Params params, RowMapper<T> mapper) {
    return query(
        statement,
        params,
        rs -> rs.next() ? Optional.of(mapper.map(rs, null)) : Optional.empty());
  }

  private <T> T query(Statement statement, Params params, Reader<T> reader) {
    Connection connection;
    try {
      connection = dataSource.getConnection();
    } catch (SQLException e) {
      throw new ConnectionException(e);
    }
    try (connection;
        PreparedStatement ps = connection.prepareStatement(statement.sql())) {
      if (!connection.getAutoCommit()) {
        connection.setAutoCommit(true);
      }
      params.bind(ps, statement.names());
      try (ResultSet rs = ps.executeQuery()) {
        return reader.read(rs);
      }
    } catch (SQLException e) {
      throw new UnableToExecuteStatementException(e, null);
    }
  }
}
