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

  /**
   * No updates: a bare release. Always the same instance, so stores can recognise it and release
   * in a single statement.
   */
  @SuppressWarnings("unchecked")
  static <W> Completion<W> none() {
    return (Completion<W>) Nothing.NONE;
  }

  /** Holder of the shared no-op completion. */
  final class Nothing {
    static final Completion<Object> NONE = writes -> {};

    private Nothing() {}
  }
}
