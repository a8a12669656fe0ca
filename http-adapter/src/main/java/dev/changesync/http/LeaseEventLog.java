package dev.changesync.http;

import dev.changesync.lease.Lease;
import dev.changesync.lease.LeaseListener;
import dev.changesync.lease.LossReason;
import dev.changesync.lease.RecoveryReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per lease claim (INFO), reclaim and loss (WARN), manual release and recovery pass
 * that freed something (INFO), on logger {@code dev.changesync.lease.events}. Releases and heartbeats
 * are DEBUG: they are the normal end of every pass.
 */
final class LeaseEventLog implements LeaseListener {

  static final String LOGGER = "dev.changesync.lease.events";

  private static final Logger log = LoggerFactory.getLogger(LOGGER);

  @Override
  public void claimed(Lease lease) {
    log.info(
        "lease claimed: {} {} by {} token {}",
        lease.key().resource(),
        lease.key().lane(),
        lease.owner(),
        lease.token());
  }

  @Override
  public void reclaimed(Lease lease, Lease previous) {
    log.warn(
        "lease reclaimed: {} {} by {} token {}, taken over from {} token {} (last heartbeat {})",
        lease.key().resource(),
        lease.key().lane(),
        lease.owner(),
        lease.token(),
        previous.owner(),
        previous.token(),
        previous.heartbeatAt());
  }

  @Override
  public void lost(Lease lease, LossReason reason) {
    log.warn(
        "lease lost: {} {} by {} token {} ({})",
        lease.key().resource(),
        lease.key().lane(),
        lease.owner(),
        lease.token(),
        reason.name().toLowerCase(java.util.Locale.ROOT));
  }

  @Override
  public void released(Lease lease) {
    log.debug(
        "lease released: {} {} by {} token {}",
        lease.key().resource(),
        lease.key().lane(),
        lease.owner(),
        lease.token());
  }

  @Override
  public void manuallyReleased(Lease lease, String actor) {
    log.info(
        "lease released by hand: {} {} held by {} token {}, released by {}",
        lease.key().resource(),
        lease.key().lane(),
        lease.owner(),
        lease.token(),
        actor);
  }

  @Override
  public void recovered(RecoveryReport report) {
    if (report.total() > 0) {
      log.info(
          "recovery by {} freed {} lease(s): {}",
          report.recoveredBy(),
          report.total(),
          report.countsByLane());
    }
  }
}
