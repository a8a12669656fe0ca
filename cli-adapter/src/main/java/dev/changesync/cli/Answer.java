package dev.changesync.cli;

import static java.util.Objects.requireNonNull;

/**
 * What a command got back: the value, for human output, and the API's JSON of it, for {@code
 * --json} — the server's body as received, or the same record serialized with {@link
 * dev.changesync.engine.service.ApiJson}, which is how the server writes it.
 */
record Answer<T>(T value, String json) {

  Answer {
    requireNonNull(value, "value");
    requireNonNull(json, "json");
  }
}
