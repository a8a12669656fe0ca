package dev.changesync.testkit.github;

import java.time.Instant;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A GitHub App installed on one account of {@link FakeGitHub} ({@link
 * FakeGitHub#install(FakeApp, String, long)}). Its installation tokens see the account's
 * repositories — all of them but those {@linkplain #removeRepository removed} from the installation
 * — and nothing else: a repository of another account answers 404 to them, as on GitHub. It has
 * its own rate-limit budget ({@link FakeGitHub#DEFAULT_RATE_LIMIT} an hour unless set).
 */
public final class FakeInstallation {

  private final FakeGitHub fake;
  private final FakeApp app;
  private final String account;
  private final long id;
  private final FakeBudget budget = new FakeBudget(FakeGitHub.DEFAULT_RATE_LIMIT);
  private final Set<String> removed = new HashSet<>(); // lower-case names; guarded by fake.lock

  FakeInstallation(FakeGitHub fake, FakeApp app, String account, long id) {
    this.fake = fake;
    this.app = app;
    this.account = account;
    this.id = id;
  }

  public long id() {
    return id;
  }

  public String account() {
    return account;
  }

  public FakeApp app() {
    return app;
  }

  /** Takes {@code repo} out of the installation: its tokens then get 404 for it. */
  public void removeRepository(FakeRepo repo) {
    synchronized (fake.lock) {
      removed.add(repo.name().toLowerCase(Locale.ROOT));
    }
  }

  /** Puts a repository {@linkplain #removeRepository removed} back. */
  public void addRepository(FakeRepo repo) {
    synchronized (fake.lock) {
      removed.remove(repo.name().toLowerCase(Locale.ROOT));
    }
  }

  /** Uses up this installation's rate limit until its current window resets. */
  public void exhaustRateLimit() {
    synchronized (fake.lock) {
      budget.exhaust(fake.now());
    }
  }

  /** Sets this installation's window: {@code limit}, {@code remainingNow} left, reset at. */
  public void setRateLimit(int limit, int remainingNow, Instant reset) {
    synchronized (fake.lock) {
      budget.set(limit, remainingNow, reset);
    }
  }

  public int rateLimitRemaining() {
    synchronized (fake.lock) {
      return budget.remaining(fake.now());
    }
  }

  public Instant rateLimitResetAt() {
    synchronized (fake.lock) {
      return budget.resetAt(fake.now());
    }
  }

  // Guarded by fake.lock.

  FakeBudget budget() {
    return budget;
  }

  /** Whether its tokens may read {@code owner/name}. */
  boolean sees(String owner, String name) {
    return owner.equalsIgnoreCase(account) && !removed.contains(name.toLowerCase(Locale.ROOT));
  }

  @Override
  public String toString() {
    return "FakeInstallation[" + id + " of app " + app.appId() + " on " + account + "]";
  }
}
