package dev.changesync.engine.sync;

import static java.util.Objects.requireNonNull;

import dev.changesync.engine.db.DbTime;
import dev.changesync.engine.github.CredentialRateLimit;
import dev.changesync.engine.github.GitHub;
import dev.changesync.engine.github.RateLimit;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * The GitHub rate limit of each credential as a shared budget: every worker writes what its
 * client last saw to {@code github_credential_rate_limit}, and work picking ({@link WorkPicker})
 * skips a repository whose credential — recorded on its sync state after each pass — is used up
 * ({@code remaining} 0 and the reset ahead, or a secondary limit ahead) until then. So one worker
 * that used a budget up keeps every worker from claiming leases only to fail on it, and a budget
 * used up holds back only the repositories read with that credential.
 *
 * <p>An observation replaces the stored one when it is of a later window (later reset), or of the
 * same window with fewer requests left; a secondary limit is kept until the later of the two.
 * "Now" ({@code updated_at}) is {@link DbTime}'s. Thread-safe.
 */
public final class CredentialBudgets {

  static final String EXHAUSTED =
      """
      exists (select 1 from github_credential_rate_limit b
               where b.credential = s.github_credential
                 and ((b.remaining <= 0 and b.reset_at > %1$s) or b.secondary_until > %1$s))
      """
          .formatted(DbTime.NOW);

  private static final String UPSERT =
      """
      insert into github_credential_rate_limit as b
             (credential, remaining, request_limit, reset_at, secondary_until, updated_at)
      values (:credential, :remaining, :limit, :reset_at, :secondary_until, %1$s)
      on conflict (credential) do update
         set remaining = case when excluded.reset_at > b.reset_at
                                   or (excluded.reset_at = b.reset_at
                                       and excluded.remaining < b.remaining)
                              then excluded.remaining else b.remaining end,
             request_limit = case when excluded.reset_at >= b.reset_at
                                  then excluded.request_limit else b.request_limit end,
             reset_at = greatest(b.reset_at, excluded.reset_at),
             secondary_until = greatest(b.secondary_until, excluded.secondary_until),
             updated_at = excluded.updated_at
      """
          .formatted(DbTime.NOW);

  private final Jdbi jdbi;
  private final DbTime time;
  private final Map<String, CredentialRateLimit> written = new ConcurrentHashMap<>();

  public CredentialBudgets(Jdbi jdbi, DbTime time) {
    this.jdbi = requireNonNull(jdbi, "jdbi");
    this.time = requireNonNull(time, "time");
  }

  /** Writes what {@code github} saw of each credential since the last call, when it changed. */
  public void record(GitHub github) {
    List<CredentialRateLimit> seen = github.credentialRateLimits();
    List<CredentialRateLimit> changed =
        seen.stream().filter(c -> !c.equals(written.get(c.credential()))).toList();
    if (changed.isEmpty()) {
      return;
    }
    jdbi.useHandle(h -> changed.forEach(c -> record(h, c)));
    changed.forEach(c -> written.put(c.credential(), c));
  }

  /** Merges one observation into the shared budget. */
  public void record(Handle h, CredentialRateLimit observed) {
    RateLimit limit = observed.rateLimit();
    time.bind(
            h.createUpdate(UPSERT)
                .bind("credential", observed.credential())
                .bind("remaining", limit.remaining())
                .bind("limit", limit.limit())
                .bindByType("reset_at", utc(limit.resetAt()), OffsetDateTime.class)
                .bindByType(
                    "secondary_until",
                    observed.secondaryUntil().map(CredentialBudgets::utc).orElse(null),
                    OffsetDateTime.class))
        .execute();
  }

  /**
   * Records the credential {@code github} reads the repository under on its sync state, when the
   * client knows it; does nothing otherwise.
   */
  static void recordCredential(Handle h, long repositoryId, GitHub github) {
    Optional<Map<String, Object>> name =
        h.createQuery("select owner, name from repository where id = :id")
            .bind("id", repositoryId)
            .mapToMap()
            .findOne();
    if (name.isEmpty()) {
      return;
    }
    Optional<String> credential =
        github.credential((String) name.get().get("owner"), (String) name.get().get("name"));
    if (credential.isEmpty()) {
      return;
    }
    h.createUpdate(
            """
            update repository_sync_state set github_credential = :credential
             where repository_id = :id and github_credential is distinct from :credential
            """)
        .bind("credential", credential.get())
        .bind("id", repositoryId)
        .execute();
  }

  private static OffsetDateTime utc(java.time.Instant instant) {
    return OffsetDateTime.ofInstant(DbTime.truncate(instant), ZoneOffset.UTC);
  }
}
