package dev.changesync.engine.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Unpacks the PostgreSQL binaries shipped in the jar (a {@code .txz}) into {@code
 * root/pg-<digest>}, once per build of them: a folder that exists is complete (it is unpacked
 * next to it and moved into place).
 */
final class PostgresBinaries {

  private PostgresBinaries() {}

  /** The folder holding {@code bin/}, {@code lib/} and {@code share/}. */
  static Path unpack(Path root) {
    try {
      byte[] archive;
      String digest;
      try (InputStream in = EmbeddedDatabase.binaryArchive();
          DigestInputStream digesting = new DigestInputStream(in, sha256())) {
        archive = digesting.readAllBytes();
        digest = HexFormat.of().formatHex(digesting.getMessageDigest().digest(), 0, 8);
      }
      Path target = root.resolve("pg-" + digest);
      if (Files.isDirectory(target.resolve("bin"))) {
        return target;
      }
      Files.createDirectories(root);
      Path partial = Files.createTempDirectory(root, "unpacking-");
      try {
        extract(archive, partial);
        try {
          Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
          if (!Files.isDirectory(target.resolve("bin"))) {
            throw e;
          }
          // Another process unpacked the same build meanwhile.
        }
      } finally {
        EmbeddedDatabase.deleteTree(partial);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot unpack the embedded PostgreSQL binaries into " + root + ": " + e.getMessage(), e);
    }
  }

  private static void extract(byte[] archive, Path into) throws IOException {
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(
            new XZInputStream(new java.io.ByteArrayInputStream(archive)))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path path = into.resolve(entry.getName()).normalize();
        if (!path.startsWith(into)) {
          throw new IOException("archive entry outside its folder: " + entry.getName());
        }
        if (entry.isDirectory()) {
          Files.createDirectories(path);
          continue;
        }
        Files.createDirectories(path.getParent());
        if (entry.isSymbolicLink()) {
          Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
        } else if (entry.isLink()) {
          Files.createLink(path, into.resolve(entry.getLinkName()).normalize());
        } else if (entry.isFile()) {
          Files.copy(tar, path);
          boolean executable =
              (entry.getMode() & 0100) != 0
                  || entry.getName().startsWith("bin/")
                  || entry.getName().startsWith("./bin/");
          Files.setPosixFilePermissions(
              path,
              executable
                  ? Set.of(
                      PosixFilePermission.OWNER_READ,
                      PosixFilePermission.OWNER_WRITE,
                      PosixFilePermission.OWNER_EXECUTE,
                      PosixFilePermission.GROUP_READ,
                      PosixFilePermission.GROUP_EXECUTE,
                      PosixFilePermission.OTHERS_READ,
                      PosixFilePermission.OTHERS_EXECUTE)
                  : Set.of(
                      PosixFilePermission.OWNER_READ,
                      PosixFilePermission.OWNER_WRITE,
                      PosixFilePermission.GROUP_READ,
                      PosixFilePermission.OTHERS_READ));
        }
      }
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
