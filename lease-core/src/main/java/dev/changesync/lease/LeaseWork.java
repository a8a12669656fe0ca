package dev.changesync.lease;

/**
 * A unit of work run under a lease by a {@link LeaseRunner}.
 *
 * @param <W> the store's write context, for completion updates
 */
@FunctionalInterface
public interface LeaseWork<W> {

  /**
   * Does the work. Check {@code cancellation} between units of work and stop when it is set; make
   * every write through the store's guarded writes with {@code lease}, so a write after the lease
   * was lost cannot land.
   *
   * @return the updates to land with the release (for example "finished at")
   */
  Completion<W> run(Lease lease, Cancellation cancellation) throws Exception;

  /**
   * The updates to land with the release when {@link #run} failed or was cancelled (for example
   * "last error"). By default none.
   */
  default Completion<W> onFailure(Throwable cause) {
    return Completion.none();
  }
}
