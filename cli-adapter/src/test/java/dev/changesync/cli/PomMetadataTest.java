package dev.changesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The parent POM's enforcer rules refuse a build whose POM lacks what Maven Central requires: this
 * runs the parent's {@code validate} (offline, non-recursive) on a copy with one field removed.
 */
class PomMetadataTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path dir;

  private record Run(int status, String output) {}

  private Run validate(String pom) throws Exception {
    Files.writeString(dir.resolve("pom.xml"), pom);
    File log = dir.resolve("maven.log").toFile();
    Process p =
        new ProcessBuilder(ROOT.resolve("mvnw").toString(), "-o", "-q", "-N", "validate")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(log)
            .start();
    assertThat(p.waitFor(3, TimeUnit.MINUTES)).as("maven finished").isTrue();
    return new Run(p.exitValue(), Files.readString(log.toPath(), StandardCharsets.UTF_8));
  }

  private static String parentPom() throws Exception {
    return Files.readString(ROOT.resolve("pom.xml"));
  }

  @Test
  void theParentAsItIsPasses() throws Exception {
    Run run = validate(parentPom());
    assertThat(run.status()).as(run.output()).isZero();
  }

  @ParameterizedTest
  @ValueSource(strings = {"url", "licenses", "developers", "scm"})
  void aMissingFieldFailsTheBuild(String field) throws Exception {
    String pom = parentPom();
    String without = pom.replaceFirst("(?s)\\n  <" + field + "[ >].*?</" + field + ">", "");
    assertThat(without).isNotEqualTo(pom);

    Run run = validate(without);

    assertThat(run.status()).as(run.output()).isNotZero();
    assertThat(run.output()).contains("RequireProperty").contains("project." + field);
  }

  @Test
  void aBlankDescriptionFailsTheBuild() throws Exception {
    String pom = parentPom().replaceFirst("<description>[^<]*</description>", "<description/>");

    Run run = validate(pom);

    assertThat(run.status()).as(run.output()).isNotZero();
    assertThat(run.output()).contains("needs a description");
  }
}
