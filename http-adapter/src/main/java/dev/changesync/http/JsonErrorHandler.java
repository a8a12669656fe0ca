package dev.changesync.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.http.HttpException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's errors — the ones it answers before a request reaches Javalin (414 URI too long, 431
 * headers too large, 400 for a request line, header or body it cannot parse) — as the API's {@code
 * {"message": "..."}}, for every method and whatever the {@code Accept} header asks: never Jetty's
 * HTML page, never a stack trace.
 */
final class JsonErrorHandler extends ErrorHandler {

  private static final ObjectMapper JSON = new ObjectMapper();

  JsonErrorHandler() {
    setShowStacks(false);
    setShowCauses(false);
  }

  @Override
  public boolean errorPageForMethod(String method) {
    return true; // Jetty's default writes no body for PUT, DELETE, ...: callers get JSON whatever
  }

  @Override
  protected void generateResponse(
      Request request,
      Response response,
      int code,
      String message,
      Throwable cause,
      Callback callback) {
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.write(true, ByteBuffer.wrap(body(code, message)), callback);
  }

  /**
   * The status and reason of the Jetty failure behind {@code failure} (such as a malformed chunked
   * body met while a handler reads), if there is one: a client error, not a server one.
   */
  static Optional<HttpException> httpFailure(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof HttpException e && HttpStatus.isClientError(e.getCode())) {
        return Optional.of(e);
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Optional.empty();
  }

  /** {@code {"message": "<reason phrase>[: <Jetty's detail>]"}}. */
  static String message(int code, String detail) {
    String reason = Optional.ofNullable(HttpStatus.getMessage(code)).orElse("error " + code);
    // Jetty falls back to the cause's toString(): that names classes, not the request's fault.
    if (detail == null
        || detail.isBlank()
        || detail.equalsIgnoreCase(reason)
        || detail.contains("Exception")
        || detail.contains("\n")) {
      return reason;
    }
    String cut = detail.length() > 200 ? detail.substring(0, 200) + "…" : detail;
    return reason + ": " + cut.replaceAll("\\p{Cntrl}", "?");
  }

  private static byte[] body(int code, String detail) {
    try {
      return JSON.writeValueAsBytes(Map.of("message", message(code, detail)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a one-field map always serialises", e);
    }
  }
}
