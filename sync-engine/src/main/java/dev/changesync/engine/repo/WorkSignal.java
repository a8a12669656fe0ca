package dev.changesync.engine.repo;

import org.jdbi.v3.core.Handle;

/**
 * The notification that work of a lane may have become claimable: a fetch requested, a webhook
 * hint recorded, a pass ended, a lease released by hand or recovered. Sent with {@code
 * pg_notify} on {@link #CHANNEL}, it is delivered to every listening worker when the sending
 * transaction commits (and not at all if it rolls back); workers listen on their liveness
 * connection and wake their idle loops instead of waiting out the poll interval. The payload is
 * the lane's name. A hint only: workers still poll.
 */
public final class WorkSignal {

  /** The channel workers listen on. */
  public static final String CHANNEL = "changesync_work";

  private WorkSignal() {}

  /** Sends the signal for {@code lane} in {@code h}'s transaction. */
  public static void send(Handle h, String lane) {
    h.createQuery("select pg_notify(:channel, :lane)")
        .bind("channel", CHANNEL)
        .bind("lane", lane)
        .mapTo(String.class)
        .findOne();
  }
}
