package dev.changesync.http;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.changesync.engine.config.ChangesyncConfig;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.BackfillMode;
import dev.changesync.engine.service.LeaseEvent;
import dev.changesync.engine.service.LeaseList;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.migrations.Migrations;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.PrSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The dashboard in a real headless Chromium against a real server on a free port, syncing from the
 * fake GitHub: progress reaches 100 %, a fetch lease shows its owner and token, a wrong admin
 * token is refused and changes nothing, the right one releases the lease by hand (the token goes
 * up, the history shows the manual release), and the page says the server is unreachable while it
 * is stopped and carries on when it returns on the same port. Writes {@code target/dashboard.png}
 * (the copy in {@code docs/} is one of these).
 */
class DashboardBrowserIT {

  @RegisterExtension
  static final PostgresDatabase db = PostgresDatabase.migratedWith(Migrations::migrate);

  private static final String ADMIN = "browser-admin-token";
  private static final RepoName WIDGETS = RepoName.of("acme", "widgets");
  private static final RepoName GADGETS = RepoName.of("acme", "gadgets");
  private static final RepoName RETIRED = RepoName.of("acme", "retired");
  /** Held up this long, a fetch pass keeps its lease while the page is used (under the 30 s timeout). */
  private static final Duration SLOW_GITHUB = Duration.ofSeconds(25);
  private static final Path SCREENSHOTS =
      Path.of(System.getProperty("changesync.screenshots", "target"));

  private FakeGitHub fake;
  private ChangesyncServer server;
  private Browser browser;

  @AfterEach
  void tearDown() {
    try {
      if (browser != null) {
        browser.close();
      }
    } finally {
      if (server != null) {
        server.close();
      }
      if (fake != null) {
        fake.close();
      }
    }
  }

  private ChangesyncServer start(int port) {
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_HTTP_PORT", Integer.toString(port));
    env.put("CHANGESYNC_WORKER_NAME", "dashboard-browser");
    env.put("CHANGESYNC_ADMIN_TOKEN", ADMIN);
    env.put("CHANGESYNC_LEASE_TTL", "6s"); // heartbeat every 1 s: a released holder notices at once
    env.put("CHANGESYNC_SHUTDOWN_GRACE", "2s");
    return ChangesyncServer.start(ChangesyncConfig.from(env));
  }

  @Test
  void anOperatorWatchesTheSyncReleasesALeaseByHandAndRidesOutAServerRestart() {
    fake = FakeGitHub.start();
    fake.createRepo("acme", "widgets").openPrs(3, PrSpec.files(3));
    fake.createRepo("acme", "gadgets").openPrs(2, PrSpec.files(2));
    fake.createRepo("acme", "retired").openPrs(1);
    fake.failPath("/repos/acme/retired/pulls", 422); // its fetch fails: the row shows the error
    server = start(0);
    int port = server.port();
    server.changesync().admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 5);
    server.changesync().admin().configureBackfill(GADGETS, BackfillMode.OPEN_ONLY, 1);
    server.changesync().admin().configureBackfill(RETIRED, BackfillMode.OPEN_ONLY, 0);
    long widgetsId = status(WIDGETS).repositoryId();
    String fetchLease = "repo:" + widgetsId + "/fetch";

    browser = new Browser(1280, 1000);
    browser.open(server.baseUri() + "/");

    // Progress reaches 100 % by itself, without a reload.
    for (String repo : List.of("acme/widgets", "acme/gadgets")) {
      browser.until(
          repo + " at 100 %",
          d -> "100".equals(browser.find(row(repo) + " progress").getDomAttribute("data-percent")));
    }
    assertThat(browser.find(row("acme/widgets")).getText()).contains("3 / 3 (100 %)");
    browser.until("the retired repository's error", d -> browser.find(row("acme/retired") + " .error-text").isDisplayed());
    assertThat(browser.shown("#track-form")).as("no admin action without a token").isFalse();

    // A wrong admin token: a clear message, and nothing changes.
    Optional<Instant> requestedBefore = status(WIDGETS).lastRequestedFetchAt();
    enterToken("not-the-admin-token");
    browser.find(row("acme/widgets") + " button[data-action=open]").click();
    browser.until("the detail view", d -> browser.shown("#detail-fetch"));
    assertThat(browser.find("#detail-fields").getText()).contains("open_pr_current", "last_webhook_at");
    browser.until("the open pulls", d -> d.findElements(By.cssSelector("#pulls-table tbody tr.freshness-current")).size() == 3);
    browser.find("#detail-fetch").click();
    String refused = browser.until("the refusal", d -> textIfShown("#message.error"));
    assertThat(refused).contains("admin token was refused", "nothing changed");
    assertThat(status(WIDGETS).lastRequestedFetchAt()).isEqualTo(requestedBefore);
    assertThat(browser.shown("#token-form")).as("asked for the token again").isTrue();
    assertThat(browser.shown("#detail-fetch")).isFalse();

    // The right token: fetch now, and the fetch lease appears with its owner and token.
    fake.latency(SLOW_GITHUB);
    enterToken(ADMIN);
    browser.until("admin actions", d -> browser.shown("#detail-fetch"));
    browser.find("#detail-fetch").click();
    browser.until("the fetch request", d -> message("Fetch of acme/widgets requested"));
    WebElement lease = browser.until("the fetch lease", d -> browser.find(leaseRow(fetchLease)));
    LeaseList.Entry held = heldLease(widgetsId);
    String owner = server.changesync().owner().toString();
    assertThat(held.ownerId()).isEqualTo(owner);
    browser.until("owner and token", d -> browser.find(leaseRow(fetchLease) + " .owner").getText().equals(owner)
        && browser.find(leaseRow(fetchLease) + " .token").getText().equals(Long.toString(held.token())));
    assertThat(lease.getText()).contains("HELD", "fetch", "acme/widgets");

    // Release it by hand: the confirm step names holder and token.
    browser.find(leaseRow(fetchLease) + " button[data-action=release]").click();
    browser.until("the confirm step", d -> browser.shown("#confirm"));
    assertThat(browser.find("#confirm-text").getText())
        .contains(owner, "token " + held.token(), "acme/widgets");
    browser.find("#confirm-ok").click();
    String released = browser.until("the release", d -> message("Released the fetch lease"));
    assertThat(released).contains("acme/widgets", owner, "token " + held.token());
    browser.until(
        "the token going up",
        d -> Long.parseLong(browser.find(leaseRow(fetchLease) + " .token").getText()) > held.token());
    String manual =
        browser.until(
            "the manual release in the history",
            d -> d.findElements(By.cssSelector("#history-table tr.event-manually-released")).stream()
                .map(WebElement::getText)
                .filter(t -> t.contains("repo:" + widgetsId))
                .findFirst()
                .orElse(null));
    assertThat(manual).contains("manual release", owner, "token " + held.token());
    assertThat(server.changesync().leases().events(Optional.of("repo:" + widgetsId), 50))
        .extracting(LeaseEvent::kind)
        .contains("manually_released");

    browser.screenshot(SCREENSHOTS.resolve("dashboard.png"), 1280);
    phoneWidthHasNoSidewaysScrolling();
    filtersSurviveUpdates(widgetsId);

    // The server goes away: the page says so; it comes back on the same port: the page carries on.
    fake.latency(Duration.ZERO);
    server.close();
    server = null;
    String down = browser.until("the unreachable banner", d -> textIfShown("#banner"));
    assertThat(down.toLowerCase(Locale.ROOT)).contains("server unreachable");
    assertThat(browser.find("#connection").getText()).isEqualTo("unreachable");
    server = start(port);
    browser.until("live again", d -> !browser.shown("#banner") && browser.find("#connection").getText().equals("live"));
    assertThat(browser.find(row("acme/widgets")).isDisplayed()).isTrue();
  }

  @Test
  void withAReadTokenAndNoAdminTokenThePageAsksForTheReadTokenAndOffersNoAction() {
    fake = FakeGitHub.start();
    fake.createRepo("acme", "widgets").openPrs(1);
    Map<String, String> env = ReadRoutesTest.env(db, fake);
    env.put("CHANGESYNC_ROLE", "http");
    env.put("CHANGESYNC_READ_TOKEN", "browser-read-token");
    server = ChangesyncServer.start(ChangesyncConfig.from(env));
    server.changesync().admin().configureBackfill(WIDGETS, BackfillMode.OPEN_ONLY, 0);

    browser = new Browser(1280, 1000);
    browser.open(server.baseUri() + "/");
    String asked = browser.until("the token request", d -> textIfShown("#banner"));
    assertThat(asked).contains("needs a token to read");
    assertThat(browser.find("#token-label").getText()).isEqualTo("Read or admin token");

    browser.find("#token-input").sendKeys("browser-read-token");
    browser.find("#token-submit").click();
    browser.until("the data", d -> browser.shown(row("acme/widgets")));
    assertThat(browser.shown("#banner")).isFalse();
    assertThat(browser.shown("#admin-off")).as("says why there are no actions").isTrue();
    assertThat(browser.shown("#token-form")).isFalse();
    assertThat(browser.driver().findElements(By.cssSelector(".admin-only")))
        .isNotEmpty()
        .noneMatch(WebElement::isDisplayed);
  }

  private void enterToken(String token) {
    if (browser.shown("#token-forget")) {
      browser.find("#token-forget").click();
    }
    browser.until("the token form", d -> browser.shown("#token-input"));
    browser.find("#token-input").sendKeys(token);
    browser.find("#token-submit").click();
    browser.until("admin actions on", d -> browser.shown("#admin-on"));
    // Kept for the tab only, and never put in the address or a cookie.
    assertThat(browser.script("return sessionStorage.getItem('changesync.token')")).isEqualTo(token);
    assertThat(browser.driver().getCurrentUrl()).doesNotContain(token);
    assertThat(browser.driver().manage().getCookies()).isEmpty();
  }

  private void phoneWidthHasNoSidewaysScrolling() {
    browser.resize(390, 844);
    browser.until("the phone layout", d -> browser.find("#lease-table thead").isDisplayed() == false);
    long scrollWidth = ((Number) browser.script("return document.documentElement.scrollWidth")).longValue();
    long viewport = ((Number) browser.script("return document.documentElement.clientWidth")).longValue();
    assertThat(scrollWidth).as("page width at 390 px").isLessThanOrEqualTo(viewport);
    browser.screenshot(SCREENSHOTS.resolve("dashboard-phone.png"), 390);
    browser.resize(1280, 1000);
  }

  private void filtersSurviveUpdates(long widgetsId) {
    browser.find("#repo-filter").sendKeys("gadg");
    browser.find("#history-filter").sendKeys("repo:" + widgetsId);
    String updated = browser.find("#updated").getText();
    browser.until("another update", d -> !browser.find("#updated").getText().equals(updated));
    assertThat(browser.find("#repo-filter").getDomProperty("value")).isEqualTo("gadg");
    List<WebElement> repos = browser.driver().findElements(By.cssSelector("#repo-table tbody tr"));
    assertThat(repos).extracting(WebElement::getText).singleElement().asString().contains("acme/gadgets");
    assertThat(browser.driver().findElements(By.cssSelector("#history-table tbody tr")))
        .isNotEmpty()
        .allSatisfy(r -> assertThat(r.getText()).contains("repo:" + widgetsId));
    browser.find("#repo-filter").clear();
    browser.find("#history-filter").clear();
  }

  /** The success message, once it says {@code start}. */
  private String message(String start) {
    String text = textIfShown("#message.ok");
    return text != null && text.startsWith(start) ? text : null;
  }

  private String textIfShown(String css) {
    return browser.shown(css) ? browser.find(css).getText() : null;
  }

  private static String row(String fullName) {
    return "#repo-table tr[data-key=\"" + fullName + "\"]";
  }

  private static String leaseRow(String key) {
    return "#lease-table tr[data-key=\"" + key + "\"]";
  }

  private RepositoryStatus status(RepoName name) {
    return server.changesync().status().repositoryStatus(name);
  }

  private LeaseList.Entry heldLease(long repositoryId) {
    return await()
        .atMost(30, SECONDS)
        .pollInterval(50, MILLISECONDS)
        .until(
            () ->
                server.changesync().leases().leases(false).leases().stream()
                    .filter(l -> l.resource().equals("repo:" + repositoryId) && l.lane().equals("fetch"))
                    .findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }
}
