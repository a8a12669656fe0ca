package dev.changesync.engine.lease;

import dev.changesync.lease.ClaimResult;
import dev.changesync.lease.LeaseHolder;
import dev.changesync.lease.LeasePolicy;
import dev.changesync.lease.OwnerId;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * The holder's verbs of the PostgreSQL lease store as the engine's lanes and work picking see
 * them: {@link LeaseHolder}'s claim, heartbeat, release and guarded writes on a JDBI {@link
 * Handle}, and claim-next over a candidate query. Implemented by {@link PostgresLeaseStore}.
 */
public interface WorkLeases extends LeaseHolder<Handle> {

  /**
   * Claims the first reclaimable lease of {@code lane} among {@code candidates}, in their order,
   * skipping rows a concurrent claimer holds locked; empty when nothing is claimable.
   */
  Optional<ClaimResult.Granted> claimNext(
      String lane, OwnerId owner, LeasePolicy policy, Candidates candidates);

  /**
   * Claims up to {@code limit} reclaimable leases of {@code lane} among {@code candidates} in one
   * statement, the first ones in their order; each is a claim of its own (token, event, listener).
   */
  List<ClaimResult.Granted> claimNext(
      String lane, OwnerId owner, LeasePolicy policy, Candidates candidates, int limit);
}
