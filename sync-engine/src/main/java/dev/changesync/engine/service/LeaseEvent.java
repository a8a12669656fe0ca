package dev.changesync.engine.service;

import java.time.Instant;
import java.util.Optional;

/**
 * One entry of the lease audit log.
 *
 * @param kind {@code claimed}, {@code reclaimed}, {@code released}, {@code lost}, {@code
 *     manually_released} or {@code recovered}
 * @param previousOwnerId for a reclaim, manual release or recovery: whose lease it was
 */
public record LeaseEvent(
    long id,
    Instant at,
    String resource,
    String lane,
    String kind,
    Optional<String> ownerId,
    Optional<Long> token,
    Optional<String> previousOwnerId,
    Optional<Long> previousToken,
    Optional<String> detail) {}
