package dev.changesync.lease;

import static java.util.Objects.requireNonNull;

/** How a unit of work under a lease ended. {@code released} tells whether the release landed. */
public sealed interface RunOutcome {

  boolean released();

  /** The work returned normally. */
  record Completed(boolean released) implements RunOutcome {}

  /** The work threw {@code cause} while its lease was still trusted. */
  record Failed(Throwable cause, boolean released) implements RunOutcome {
    public Failed {
      requireNonNull(cause, "cause");
    }
  }

  /** The lease was lost or could no longer be trusted, and the work was cancelled. */
  record Lost(LossReason reason, String detail, boolean released) implements RunOutcome {
    public Lost {
      requireNonNull(reason, "reason");
      requireNonNull(detail, "detail");
    }
  }
}
