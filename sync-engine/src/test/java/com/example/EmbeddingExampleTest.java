package com.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changesync.engine.github.GitHubAuth;
import dev.changesync.engine.github.GitHubSettings;
import dev.changesync.engine.repo.RepoName;
import dev.changesync.engine.service.RepositoryStatus;
import dev.changesync.testkit.PostgresDatabase;
import dev.changesync.testkit.github.FakeGitHub;
import dev.changesync.testkit.github.PrSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's embedding example: {@link EmbeddingExample} is the README's snippet verbatim, so it
 * compiles with the build; here it runs against an empty test database (it migrates it itself) and
 * the fake GitHub, and the README is checked to still show exactly this file.
 */
class EmbeddingExampleTest {

  @RegisterExtension static final PostgresDatabase db = PostgresDatabase.empty();

  private static final Path README = Path.of("..", "README.md");
  private static final Path EXAMPLE =
      Path.of("src", "test", "java", "com", "example", "EmbeddingExample.java");

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void theExampleSyncsARepository() throws Exception {
    try (FakeGitHub fake = FakeGitHub.start()) {
      fake.createRepo("octocat", "Hello-World").openPrs(12, PrSpec.files(3));
      GitHubSettings github =
          GitHubSettings.builder(GitHubAuth.token(FakeGitHub.DEFAULT_TOKEN))
              .baseUrl(fake.baseUri())
              .build();

      RepositoryStatus status =
          EmbeddingExample.sync(db.jdbcUrl(), github, RepoName.parse("octocat/Hello-World"));

      assertThat(status.fullName()).isEqualTo("octocat/Hello-World");
      assertThat(status.openPrTotal()).isEqualTo(12);
      assertThat(status.openPrCurrent()).isEqualTo(12);
    }
  }

  @Test
  void theReadmeShowsTheExampleVerbatim() throws IOException {
    String readme = Files.readString(README, StandardCharsets.UTF_8);
    Matcher embedding =
        Pattern.compile("(?ms)^## Embedding$.*?^```java\\n(.*?)^```$").matcher(readme);
    assertThat(embedding.find()).as("README.md has an Embedding section with a java block").isTrue();

    assertThat(embedding.group(1)).isEqualTo(Files.readString(EXAMPLE, StandardCharsets.UTF_8));
  }
}
