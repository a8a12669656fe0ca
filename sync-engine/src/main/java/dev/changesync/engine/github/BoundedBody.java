package dev.changesync.engine.github;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body read into memory up to a limit: a declared {@code Content-Length} over it fails
 * before a byte is read, and a body that grows past it (chunked, or lying about its length) fails
 * as soon as it does, the rest never read. Either way {@code HttpClient.send} throws an {@code
 * IOException} caused by a {@link TooLarge}.
 */
final class BoundedBody {

  /** The body was over the limit. */
  static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge(String message) {
      super(message);
    }
  }

  private BoundedBody() {}

  /** A handler reading at most {@code maxBytes} bytes of body. */
  static HttpResponse.BodyHandler<byte[]> upTo(long maxBytes) {
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
    }
    return info -> {
      OptionalLong declared = info.headers().firstValueAsLong("content-length");
      if (declared.isPresent() && declared.getAsLong() > maxBytes) {
        return refused(
            new TooLarge(
                "the response declares "
                    + declared.getAsLong()
                    + " bytes, over the limit of "
                    + maxBytes));
      }
      return new Subscriber(maxBytes);
    };
  }

  private static HttpResponse.BodySubscriber<byte[]> refused(TooLarge e) {
    CompletableFuture<byte[]> failed = CompletableFuture.failedFuture(e);
    return new HttpResponse.BodySubscriber<>() {
      @Override
      public CompletionStage<byte[]> getBody() {
        return failed;
      }

      @Override
      public void onSubscribe(Flow.Subscription subscription) {
        subscription.cancel(); // the connection is closed, the body never read
      }

      @Override
      public void onNext(List<ByteBuffer> item) {}

      @Override
      public void onError(Throwable throwable) {}

      @Override
      public void onComplete() {}
    };
  }

  /** Collects the body; cancels and fails once it passes the limit. */
  private static final class Subscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final long maxBytes;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private Flow.Subscription subscription; // the flow calls one method at a time
    private long received;

    Subscriber(long maxBytes) {
      this.maxBytes = maxBytes;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      this.subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer buffer : buffers) {
        received += buffer.remaining();
        if (received > maxBytes) {
          subscription.cancel();
          result.completeExceptionally(
              new TooLarge("the response body is over the limit of " + maxBytes + " bytes"));
          return;
        }
        byte[] chunk = new byte[buffer.remaining()];
        buffer.get(chunk);
        bytes.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable throwable) {
      result.completeExceptionally(throwable);
    }

    @Override
    public void onComplete() {
      result.complete(bytes.toByteArray());
    }
  }
}
