package dev.changesync.engine.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads a secret from a file ({@code CHANGESYNC_*_FILE}, as Docker and Kubernetes secrets mount
 * them): the content as UTF-8 with one trailing newline removed — what {@code echo token > file}
 * writes.
 */
final class SecretFile {

  /** Longest secret file read: a token or password is far shorter. */
  static final int MAX_BYTES = 64 * 1024;

  private SecretFile() {}

  /**
   * The secret in the file at {@code path}.
   *
   * @throws IllegalArgumentException saying why it cannot be used (never showing the content)
   */
  static String read(String path) {
    Path file;
    try {
      file = Path.of(path);
    } catch (InvalidPathException e) {
      throw new IllegalArgumentException("'" + Durations.printable(path) + "' is not a path");
    }
    String shown = "'" + Durations.printable(path) + "'";
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException("cannot read " + shown + " (a directory)");
    }
    byte[] bytes;
    try (InputStream in = Files.newInputStream(file)) {
      bytes = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("cannot read " + shown + " (no such file)");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException("cannot read " + shown + " (permission denied)");
    } catch (IOException e) {
      String why = Durations.printable(String.valueOf(e.getMessage()));
      throw new IllegalArgumentException("cannot read " + shown + " (" + why + ")");
    }
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException(
          shown + " is longer than " + MAX_BYTES + " bytes: not a secret file");
    }
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(shown + " is not UTF-8 text");
    }
    if (text.endsWith("\r\n")) {
      text = text.substring(0, text.length() - 2);
    } else if (text.endsWith("\n")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isEmpty()) {
      throw new IllegalArgumentException(shown + " is empty");
    }
    return text;
  }
}
