package dev.changesync.engine.service;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalLong;
import javax.crypto.Mac;

/**
 * A webhook body read from its stream in one pass: every byte goes through the HMAC-SHA256 as it
 * arrives, and is kept — in blocks of at most {@value #BLOCK_BYTES} bytes, allocated only as bytes
 * arrive — only as far as the request's {@link WebhookBudget.Reservation} covers. So memory is
 * bounded by the budget, not by how many bodies arrive at once, and a body whose signature does not
 * match is dropped at the end of its stream, before anything parses it.
 *
 * <p>A declared {@code Content-Length} is reserved whole before the first byte is read; a body
 * without one (chunked) grows its reservation block by block. Either way, a reservation the budget
 * cannot cover is an {@link OverloadedException}, a body over {@value WebhookIntake#MAX_BODY_BYTES}
 * bytes a {@link PayloadTooLargeException}, a signature that does not match an {@link
 * UnauthorizedException}. Closing gives the reservation back; every failure closes it first.
 */
final class VerifiedBody implements AutoCloseable {

  static final int BLOCK_BYTES = 64 * 1024;

  /** What an overloaded intake asks the sender to wait. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(5);

  private final List<byte[]> blocks;
  private final long length;
  private final WebhookBudget.Reservation reservation;

  private VerifiedBody(List<byte[]> blocks, long length, WebhookBudget.Reservation reservation) {
    this.blocks = blocks;
    this.length = length;
    this.reservation = reservation;
  }

  /**
   * Reads {@code in} to its end and checks it against {@code presented}.
   *
   * @param declaredLength the request's {@code Content-Length}, when it has one (at most {@value
   *     WebhookIntake#MAX_BODY_BYTES}: the caller has checked)
   * @param mac an HMAC-SHA256, initialised with the webhook secret
   * @param presented the signature the sender presented (32 bytes)
   */
  static VerifiedBody read(
      InputStream in,
      OptionalLong declaredLength,
      Mac mac,
      byte[] presented,
      WebhookBudget budget) {
    long declared = declaredLength.orElse(-1);
    WebhookBudget.Reservation reservation =
        budget.tryReserve(Math.max(0, declared)).orElseThrow(VerifiedBody::overloaded);
    try {
      List<byte[]> blocks = new ArrayList<>();
      long length = readInto(in, declared, mac, blocks, reservation);
      if (!MessageDigest.isEqual(mac.doFinal(), presented)) {
        throw new UnauthorizedException(WebhookIntake.SIGNATURE_HEADER + " does not match the body");
      }
      return new VerifiedBody(blocks, length, reservation);
    } catch (RuntimeException | Error e) {
      reservation.close();
      throw e;
    }
  }

  private static long readInto(
      InputStream in,
      long declared,
      Mac mac,
      List<byte[]> blocks,
      WebhookBudget.Reservation reservation) {
    long total = 0;
    long allocated = 0;
    byte[] block = null;
    int filled = 0;
    try {
      while (true) {
        if (block == null || filled == block.length) {
          long room = declared >= 0 ? declared - total : WebhookIntake.MAX_BODY_BYTES - total;
          if (room <= 0) {
            // At the declared length or the limit: the stream must end here.
            if (in.read() < 0) {
              return total;
            }
            throw declared >= 0
                ? new BadInputException("webhook body is longer than its Content-Length")
                : WebhookIntake.tooLarge();
          }
          int size = (int) Math.min(BLOCK_BYTES, room);
          if (!reservation.tryGrowTo(allocated + size)) {
            throw overloaded();
          }
          block = new byte[size];
          blocks.add(block);
          allocated += size;
          filled = 0;
        }
        int n = in.read(block, filled, block.length - filled);
        if (n < 0) {
          if (declared >= 0 && total < declared) {
            throw new BadInputException(
                "webhook body ended after " + total + " of its " + declared + " bytes");
          }
          // Trim the last block to what it holds.
          if (filled < block.length) {
            blocks.set(blocks.size() - 1, java.util.Arrays.copyOf(block, filled));
          }
          return total;
        }
        mac.update(block, filled, n);
        filled += n;
        total += n;
      }
    } catch (IOException e) {
      throw new BadInputException("webhook body could not be read: " + e.getMessage(), e);
    }
  }

  private static OverloadedException overloaded() {
    return new OverloadedException(
        "too many webhook bodies in flight: try again in " + RETRY_AFTER.toSeconds() + " s",
        RETRY_AFTER);
  }

  long length() {
    return length;
  }

  /** The body's bytes, exactly as received. */
  InputStream stream() {
    List<InputStream> parts = new ArrayList<>(blocks.size());
    for (byte[] b : blocks) {
      parts.add(new ByteArrayInputStream(b));
    }
    return new SequenceInputStream(Collections.enumeration(parts));
  }

  /** Drops the bytes and gives the reservation back. */
  @Override
  public void close() {
    blocks.clear();
    reservation.close();
  }
}
