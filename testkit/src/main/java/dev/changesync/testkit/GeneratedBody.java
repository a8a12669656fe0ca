package dev.changesync.testkit;

import java.io.InputStream;
import java.util.Arrays;

/**
 * A request body of any length made up as it is read, so a test can send many large bodies at once
 * without holding them: {@code length} copies of one byte value.
 */
public final class GeneratedBody extends InputStream {

  private final long length;
  private final byte fill;
  private long position;

  private GeneratedBody(long length, byte fill) {
    if (length < 0) {
      throw new IllegalArgumentException("length must not be negative: " + length);
    }
    this.length = length;
    this.fill = fill;
  }

  /** {@code length} bytes of {@code ' '}. */
  public static GeneratedBody spaces(long length) {
    return new GeneratedBody(length, (byte) ' ');
  }

  /** Bytes left to read. */
  public long remaining() {
    return length - position;
  }

  @Override
  public int read() {
    if (position >= length) {
      return -1;
    }
    position++;
    return fill & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (len == 0) {
      return 0;
    }
    if (position >= length) {
      return -1;
    }
    int n = (int) Math.min(len, length - position);
    Arrays.fill(b, off, off + n, fill);
    position += n;
    return n;
  }
}
