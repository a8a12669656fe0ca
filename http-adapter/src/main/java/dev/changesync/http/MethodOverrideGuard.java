package dev.changesync.http;

import dev.changesync.engine.service.BadInputException;
import io.javalin.http.Context;
import java.util.List;

/**
 * Refuses requests that carry a method-override header. Javalin routes on {@code
 * X-HTTP-Method-Override} when it is present ({@code Context.method()} prefers it to the request
 * line), so a {@code GET} — which browsers send cross-site without a preflight — could reach an
 * admin {@code POST} route. No client of this API needs an override: a request that sends one gets
 * a 400, whatever route it names. The sibling headers other frameworks honour are refused alike.
 */
final class MethodOverrideGuard {

  static final List<String> HEADERS =
      List.of("X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override");

  private MethodOverrideGuard() {}

  /** A before-handler: throws {@link BadInputException} (400) when an override header is sent. */
  static void check(Context ctx) {
    for (String name : HEADERS) {
      if (ctx.req().getHeader(name) != null) {
        throw new BadInputException(
            name + " is not supported: send the request with its real method");
      }
    }
  }
}
