package dev.changesync.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** {@code changesync --version}: the build's version, from a resource the build fills in. */
final class VersionProvider implements IVersionProvider {

  static final String RESOURCE = "version.properties";

  @Override
  public String[] getVersion() {
    return new String[] {
      "changesync " + version(),
      "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
    };
  }

  /** The project version this CLI was built as, or {@code unknown}. */
  static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
