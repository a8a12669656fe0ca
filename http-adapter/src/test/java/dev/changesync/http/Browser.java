package dev.changesync.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.function.Function;
import java.util.stream.Stream;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A headless Chromium driven through chromedriver — Debian's {@code /usr/bin/chromium} and {@code
 * /usr/bin/chromedriver} unless {@code -Dchangesync.chromium} / {@code -Dchangesync.chromedriver}
 * say otherwise — on a fresh profile directory that {@link #close()} deletes. Waits are explicit
 * conditions, never fixed sleeps.
 */
final class Browser implements AutoCloseable {

  static final Duration WAIT = Duration.ofSeconds(30);

  private final Path profile;
  private final ChromeDriverService service;
  private final ChromeDriver driver;

  Browser(int width, int height) {
    Path chromium = Path.of(System.getProperty("changesync.chromium", "/usr/bin/chromium"));
    Path chromedriver =
        Path.of(System.getProperty("changesync.chromedriver", "/usr/bin/chromedriver"));
    assertThat(Files.isExecutable(chromium) && Files.isExecutable(chromedriver))
        .as(
            "the browser test needs %s and %s: apt-get install -y chromium chromium-driver"
                + " (bash .ci/run does), or -Dchangesync.chromium / -Dchangesync.chromedriver",
            chromium, chromedriver)
        .isTrue();
    try {
      profile = Files.createTempDirectory("changesync-chromium-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--user-data-dir=" + profile,
        "--window-size=" + width + "," + height);
    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(chromedriver.toFile())
            .usingAnyFreePort()
            .build();
    try {
      driver = new ChromeDriver(service, options);
    } catch (RuntimeException e) {
      service.stop();
      deleteProfile();
      throw e;
    }
  }

  WebDriver driver() {
    return driver;
  }

  void open(String url) {
    driver.get(url);
  }

  /** Waits until {@code condition} gives a value other than null or false; rows redrawn meanwhile are retried. */
  <T> T until(String what, Function<WebDriver, T> condition) {
    return new WebDriverWait(driver, WAIT)
        .withMessage(what)
        .ignoring(StaleElementReferenceException.class)
        .ignoring(NoSuchElementException.class)
        .until(condition);
  }

  WebElement find(String css) {
    return driver.findElement(By.cssSelector(css));
  }

  boolean shown(String css) {
    return !driver.findElements(By.cssSelector(css)).isEmpty() && find(css).isDisplayed();
  }

  Object script(String script, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(script, args);
  }

  void resize(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  /** A PNG of the whole page at {@code width}: the window is made as tall as the page first. */
  void screenshot(Path file, int width) {
    resize(width, 900);
    long height = ((Number) script("return document.documentElement.scrollHeight")).longValue();
    resize(width, (int) Math.min(height + 20, 4000));
    script("window.scrollTo(0, 0)");
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      service.stop();
      deleteProfile();
    }
  }

  private void deleteProfile() {
    try (Stream<Path> paths = Files.walk(profile)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("deleting the browser profile " + profile, e);
    }
  }
}
