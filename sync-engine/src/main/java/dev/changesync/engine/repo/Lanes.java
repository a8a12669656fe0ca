package dev.changesync.engine.repo;

import dev.changesync.lease.LeaseKey;
import java.util.List;

/**
 * The lanes of work on a repository and how their leases are named: resource {@code repo:<id>}
 * (changesync's own repository id), lane {@code fetch}, {@code refresh} or {@code backfill}.
 */
public final class Lanes {

  public static final String FETCH = "fetch";
  public static final String REFRESH = "refresh";
  public static final String BACKFILL = "backfill";
  public static final List<String> ALL = List.of(FETCH, REFRESH, BACKFILL);

  private static final String PREFIX = "repo:";

  private Lanes() {}

  /** The lease resource of a repository. */
  public static String resource(long repositoryId) {
    return PREFIX + repositoryId;
  }

  /** SQL for the lease resource of a repository whose id is the expression {@code idSql}. */
  public static String resourceSql(String idSql) {
    return "'" + PREFIX + "' || " + idSql;
  }

  public static LeaseKey key(long repositoryId, String lane) {
    return LeaseKey.of(resource(repositoryId), lane);
  }

  /** The repository id of a {@code repo:<id>} resource. */
  public static long repositoryId(String resource) {
    if (!resource.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not a repository resource: " + resource);
    }
    try {
      return Long.parseLong(resource.substring(PREFIX.length()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a repository resource: " + resource, e);
    }
  }
}
