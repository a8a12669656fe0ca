package dev.changesync.cli;

import dev.changesync.engine.service.Inputs;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code changesync leases [--stale]}, {@code leases release}, {@code leases events}. */
@Command(
    name = "leases",
    description = {
      "Every held or stale lease, one row per lease: resource, repository, lane, owner, fencing"
          + " token, state, heartbeat age and time to expiry, judged by the clock that decides"
          + " (the database's)."
    },
    subcommands = {LeasesCommand.Release.class, LeasesCommand.Events.class})
final class LeasesCommand extends CliCommand {

  @Option(names = "--stale", description = "Only the stale leases (reclaimable by anyone).")
  boolean staleOnly;

  @Override
  public Integer call() {
    try (Backend backend = backend()) {
      return print(backend.leases(staleOnly), list -> Formats.leases(list, staleOnly));
    }
  }

  @Command(
      name = "release",
      description = {
        "Release a lease by hand, whoever holds it. Admin.",
        "The token moves on, so the holder — if it is still running — is fenced off: its next"
            + " heartbeat or guarded write fails. Recorded as a manually_released event."
      })
  static final class Release extends CliCommand {
    @Parameters(
        index = "0",
        paramLabel = "RESOURCE",
        description = "repo:42 as `changesync leases` shows it, or the repository's OWNER/REPO")
    String resource;

    @Parameters(index = "1", paramLabel = "LANE", description = "fetch, refresh or backfill")
    String lane;

    /** Who the event log names: {@code cli:<user>@<host>}, in both modes. */
    static String actor() {
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException | SecurityException e) {
        host = "localhost";
      }
      String actor = "cli:" + System.getProperty("user.name", "unknown") + "@" + host;
      return actor.length() > 200 ? actor.substring(0, 200) : actor;
    }

    @Override
    public Integer call() {
      try (Backend backend = backend()) {
        return print(
            backend.release(resource, lane, actor()), r -> Formats.released(r, now()));
      }
    }
  }

  @Command(
      name = "events",
      description =
          "The lease history, newest first: claims, reclaims (with the previous owner), releases,"
              + " losses, manual releases and recoveries.")
  static final class Events extends CliCommand {
    @Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "RESOURCE",
        description = "Only this resource's events: repo:42, or the repository's OWNER/REPO.")
    String resource;

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "" + Inputs.DEFAULT_EVENT_LIMIT,
        converter = Converters.EventLimit.class,
        description = "How many events, 1-" + Inputs.MAX_EVENT_LIMIT + " (default ${DEFAULT-VALUE}).")
    int limit;

    @Override
    public Integer call() {
      try (Backend backend = backend()) {
        return print(
            backend.events(Optional.ofNullable(resource), limit),
            events -> Formats.events(events, now()));
      }
    }
  }
}
