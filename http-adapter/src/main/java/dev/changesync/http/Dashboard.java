package dev.changesync.http;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.NotFoundResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The operator dashboard: one HTML page at {@code /} and its scripts and style sheet at {@code
 * /dashboard/{file}}, read from this jar's resources ({@code dev/changesync/http/dashboard/}) once,
 * at start-up. Nothing comes from anywhere else: no CDN, no external font.
 *
 * <p>The page holds no data: its scripts read the same read routes as any client (so a configured
 * read token applies to them, not to the page) and send the admin token, which the operator types
 * into the page and which stays in the tab's {@code sessionStorage}, as {@code Authorization:
 * Bearer} — never in a URL or cookie, so no other site can make the browser act. The {@code
 * Content-Security-Policy} lets the page load and talk to this server only.
 */
final class Dashboard {

  static final String PAGE = "/";
  static final String ASSETS = "/dashboard/";

  private static final String RESOURCES = "dashboard/";

  /** Every file served, with its content type; anything else under {@link #ASSETS} is a 404. */
  private static final Map<String, String> FILES =
      Map.of(
          "index.html", "text/html; charset=utf-8",
          "dashboard.css", "text/css; charset=utf-8",
          "api.js", "text/javascript; charset=utf-8",
          "format.js", "text/javascript; charset=utf-8",
          "views.js", "text/javascript; charset=utf-8",
          "actions.js", "text/javascript; charset=utf-8",
          "app.js", "text/javascript; charset=utf-8");

  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

  private final Map<String, byte[]> contents;

  Dashboard() {
    Map<String, byte[]> read = new java.util.HashMap<>();
    for (String file : FILES.keySet()) {
      read.put(file, resource(file));
    }
    this.contents = Map.copyOf(read);
  }

  void register(RoutesConfig routes) {
    routes.get(PAGE, ctx -> serve(ctx, "index.html"));
    routes.get(ASSETS + "{file}", ctx -> serve(ctx, ctx.pathParam("file")));
  }

  private void serve(Context ctx, String file) {
    byte[] body = contents.get(file);
    if (body == null) {
      throw new NotFoundResponse("no dashboard file " + file);
    }
    ctx.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("Referrer-Policy", "no-referrer");
    ctx.header("X-Frame-Options", "DENY");
    // Small files, and a new build must show at once: the browser revalidates every time.
    ctx.header("Cache-Control", "no-cache");
    ctx.contentType(FILES.get(file)).result(body);
  }

  private static byte[] resource(String file) {
    try (InputStream in = Dashboard.class.getResourceAsStream(RESOURCES + file)) {
      if (in == null) {
        throw new IllegalStateException("dashboard resource missing from the jar: " + file);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("reading dashboard resource " + file, e);
    }
  }
}
