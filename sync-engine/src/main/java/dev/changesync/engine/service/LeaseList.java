package dev.changesync.engine.service;

import dev.changesync.lease.LeaseState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Every owned lease — HELD or STALE — with its state judged at {@code now} (database time), so that
 * ages and "expires in" can be shown against the same clock that decides.
 */
public record LeaseList(Instant now, List<Entry> leases) {

  public LeaseList {
    leases = List.copyOf(leases);
  }

  /**
   * One lease.
   *
   * @param repository the repository's name for a {@code repo:<id>} resource, when it still exists
   * @param staleAt when the lease stops being HELD without another heartbeat
   * @param leaseFor the TTL the holder declared
   * @param transitions how many times the lease changed hands
   * @param holderClockSkew the holder's clock minus the database clock at its last heartbeat
   */
  public record Entry(
      String resource,
      String lane,
      Optional<String> repository,
      LeaseState state,
      String ownerId,
      long token,
      Instant claimedAt,
      Instant heartbeatAt,
      Instant expiresAt,
      Instant staleAt,
      Duration leaseFor,
      Duration heartbeatEvery,
      Duration staleAfter,
      long transitions,
      Optional<Duration> holderClockSkew) {}
}
