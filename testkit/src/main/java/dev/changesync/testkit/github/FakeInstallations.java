package dev.changesync.testkit.github;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/** The GitHub App installation endpoints' lookups and JSON, for {@link FakeGitHub}. */
final class FakeInstallations {

  static final Pattern INSTALLATION_OF_REPO =
      Pattern.compile("^/repos/([^/]+)/([^/]+)/installation/?$");

  private FakeInstallations() {}

  /** The installation of {@code app} that sees {@code owner/name}, or null. */
  static FakeInstallation of(
      Collection<FakeInstallation> all, FakeApp app, String owner, String name) {
    for (FakeInstallation i : all) {
      if (i.app().appId().equals(app.appId()) && i.sees(owner, name)) {
        return i;
      }
    }
    return null;
  }

  /** {@code app}'s installations, by id. */
  static List<FakeInstallation> ofApp(Collection<FakeInstallation> all, FakeApp app) {
    List<FakeInstallation> out = new ArrayList<>();
    for (FakeInstallation i : all) {
      if (i.app().appId().equals(app.appId())) {
        out.add(i);
      }
    }
    out.sort(Comparator.comparingLong(FakeInstallation::id));
    return out;
  }

  /** An installation as GitHub shows it. */
  static ObjectNode json(ObjectMapper json, FakeInstallation i, String baseUrl) {
    ObjectNode n = json.createObjectNode();
    n.put("id", i.id());
    ObjectNode account = n.putObject("account");
    account.put("login", i.account());
    account.put("id", Math.abs((long) i.account().toLowerCase(java.util.Locale.ROOT).hashCode()));
    account.put("type", "Organization");
    n.put("repository_selection", "all");
    n.put("access_tokens_url", baseUrl + "/app/installations/" + i.id() + "/access_tokens");
    n.put("repositories_url", baseUrl + "/installation/repositories");
    n.put("app_id", i.app().appId());
    n.put("target_type", "Organization");
    ObjectNode permissions = n.putObject("permissions");
    permissions.put("contents", "read");
    permissions.put("metadata", "read");
    permissions.put("pull_requests", "read");
    n.putArray("events").add("pull_request").add("installation_repositories");
    return n;
  }
}
