package dev.changesync.engine.github;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The outcome of a GET made conditional on {@link KnownETags}.
 *
 * <ul>
 *   <li>{@link Changed}: GitHub's data, and the validators to store <em>with</em> it (in the
 *       transaction that stores the data, or after it committed — never before);
 *   <li>{@link Unchanged}: GitHub answered 304 to the stored {@code ETag} (for a listing: to every
 *       page of the stored listing), so the data stored with it is still what GitHub shows. There
 *       is no body: nothing is to be written.
 * </ul>
 */
public sealed interface Conditional<T> {

  /** The validators of the responses this outcome rests on. */
  List<Validator> validators();

  /** GitHub's data, changed (or not known) since what was stored. */
  record Changed<T>(T value, List<Validator> validators) implements Conditional<T> {
    public Changed {
      requireNonNull(value, "value");
      validators = List.copyOf(validators);
    }
  }

  /** GitHub confirmed the stored validators: the stored data is current. */
  record Unchanged<T>(List<Validator> validators) implements Conditional<T> {
    public Unchanged {
      validators = List.copyOf(validators);
    }
  }
}
