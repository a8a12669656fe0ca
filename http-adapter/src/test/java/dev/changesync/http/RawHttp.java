package dev.changesync.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Requests no well-behaved client would send — an over-long URI, oversized headers, a malformed
 * chunked body — written byte for byte on a socket, and the server's answer as it came.
 */
final class RawHttp {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;

  RawHttp(URI base) {
    this.base = base;
  }

  /** What came back: status, headers (names lower-cased) and body (de-chunked). */
  record Response(int status, Map<String, String> headers, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }
  }

  /** Sends {@code request} as is and reads the answer until the server closes or goes quiet. */
  Response send(String request) {
    try (Socket socket = new Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      return parse(readAll(socket.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
        if (complete(out.toString(StandardCharsets.ISO_8859_1))) {
          break;
        }
      }
    } catch (SocketTimeoutException | java.net.SocketException e) {
      // The server went quiet or reset after answering: what arrived is the answer.
    }
    return out.toByteArray();
  }

  /** True once a whole response (by its Content-Length, or a chunked body's last chunk) is in. */
  private static boolean complete(String raw) {
    int end = raw.indexOf("\r\n\r\n");
    if (end < 0) {
      return false;
    }
    String head = raw.substring(0, end).toLowerCase(Locale.ROOT);
    String body = raw.substring(end + 4);
    java.util.regex.Matcher length =
        java.util.regex.Pattern.compile("\r\ncontent-length: *(\\d+)").matcher(head);
    if (length.find()) {
      return body.length() >= Integer.parseInt(length.group(1));
    }
    return head.contains("transfer-encoding: chunked") && body.endsWith("0\r\n\r\n");
  }

  private static Response parse(byte[] bytes) {
    String raw = new String(bytes, StandardCharsets.UTF_8);
    int end = raw.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new IllegalStateException("no complete response head: " + raw);
    }
    String[] lines = raw.substring(0, end).split("\r\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(
          lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
          lines[i].substring(colon + 1).strip());
    }
    String body = raw.substring(end + 4);
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = dechunk(body);
    }
    return new Response(status, headers, body);
  }

  private static String dechunk(String chunked) {
    StringBuilder out = new StringBuilder();
    int at = 0;
    while (true) {
      int lineEnd = chunked.indexOf("\r\n", at);
      int size = Integer.parseInt(chunked.substring(at, lineEnd).split(";")[0].strip(), 16);
      if (size == 0) {
        return out.toString();
      }
      out.append(chunked, lineEnd + 2, lineEnd + 2 + size);
      at = lineEnd + 2 + size + 2;
    }
  }
}
