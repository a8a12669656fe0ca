package dev.changesync.lease;

/**
 * Updates that land together with a release, in the same atomic step, only if the lease is still
 * the releaser's (for example "fetch finished at", "last error").
 *
 * @param <W> the store's write context
 */
@FunctionalInterface
public interface Completion<W> {

  void apply(W writes) throws Exception;

  /** No updates: a bare release. */
  static <W> Completion<W> none() {
    return writes -> {};
  }
}
