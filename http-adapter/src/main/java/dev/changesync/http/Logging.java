package dev.changesync.http;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import dev.changesync.engine.config.ChangesyncConfig.LogFormat;
import java.net.URL;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * Sets up the server's logging: text lines or one JSON object per line (logback's {@code
 * JsonEncoder}) on standard output, INFO and up, libraries at WARN.
 *
 * <p>Leaves logging alone when the process was given its own logback configuration ({@code
 * -Dlogback.configurationFile=...}) or logs through another SLF4J backend.
 */
final class Logging {

  private Logging() {}

  /** Configures logback for {@code format}; returns false when logging was left alone. */
  static boolean configure(LogFormat format) {
    if (System.getProperty("logback.configurationFile") != null) {
      return false;
    }
    ILoggerFactory factory = LoggerFactory.getILoggerFactory();
    if (!(factory instanceof LoggerContext context)) {
      return false;
    }
    String resource = format == LogFormat.JSON ? "logback-json.xml" : "logback-text.xml";
    URL config = Logging.class.getResource(resource);
    if (config == null) {
      throw new IllegalStateException("missing logging configuration " + resource);
    }
    context.reset();
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(config);
    } catch (JoranException e) {
      throw new IllegalStateException("bad logging configuration " + resource, e);
    }
    return true;
  }
}
