package dev.changesync.engine.service;

import java.time.Instant;

/**
 * A lease released by hand: whose it was. The release bumped the token, so that owner — if it is
 * still running — is fenced off: its next heartbeat or guarded write fails.
 */
public record ReleasedLease(
    String resource,
    String lane,
    String previousOwnerId,
    long previousToken,
    Instant claimedAt,
    Instant heartbeatAt,
    Instant expiresAt,
    String releasedBy) {}
