package dev.changesync.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The {@code changesync-bom} module (issue 16): it has no parent, so this checks what inheritance
 * would otherwise guarantee — its version is the build's, and it manages every artifact an
 * embedding service can use, each at {@code ${project.version}}, and nothing else.
 */
class BomTest {

  private static final Path ROOT = Path.of("..");

  /** Modules that are not published for embedders. */
  private static final List<String> UNPUBLISHED = List.of("benchmarks", "changesync-bom");

  private static Document read(Path pom) throws Exception {
    assertThat(pom).exists();
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(Files.newInputStream(pom));
  }

  private static String child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().strip();
      }
    }
    return null;
  }

  @Test
  void theBomManagesEveryPublishedModuleAtTheBuildsVersion() throws Exception {
    Element root = read(ROOT.resolve("pom.xml")).getDocumentElement();
    Element bom = read(ROOT.resolve("changesync-bom/pom.xml")).getDocumentElement();

    assertThat(child(bom, "version")).isEqualTo(child(root, "version"));
    assertThat(child(bom, "groupId")).isEqualTo(child(root, "groupId"));
    assertThat(child(bom, "parent")).as("no parent: nothing inherited leaks to importers").isNull();
    // Maven Central's required metadata: the parent's enforcer checks every other module; the BOM
    // inherits nothing, so it carries the same itself.
    for (String field : List.of("url", "licenses", "developers", "scm")) {
      assertThat(child(bom, field)).as(field).isNotBlank().isEqualTo(child(root, field));
    }
    assertThat(child(bom, "name")).isNotBlank();
    assertThat(child(bom, "description")).isNotBlank();

    List<String> published = new ArrayList<>();
    NodeList modules = root.getElementsByTagName("module");
    for (int i = 0; i < modules.getLength(); i++) {
      String module = modules.item(i).getTextContent().strip();
      if (!UNPUBLISHED.contains(module)) {
        Element pom = read(ROOT.resolve(module).resolve("pom.xml")).getDocumentElement();
        published.add(child(pom, "artifactId"));
      }
    }
    List<String> managed = new ArrayList<>();
    NodeList dependencies = bom.getElementsByTagName("dependency");
    for (int i = 0; i < dependencies.getLength(); i++) {
      Element d = (Element) dependencies.item(i);
      assertThat(child(d, "groupId")).isEqualTo(child(root, "groupId"));
      assertThat(child(d, "version")).isEqualTo("${project.version}");
      managed.add(child(d, "artifactId"));
    }
    assertThat(managed).containsExactlyInAnyOrderElementsOf(published);
  }
}
