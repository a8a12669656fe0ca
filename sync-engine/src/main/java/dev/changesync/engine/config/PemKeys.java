package dev.changesync.engine.config;

import java.io.ByteArrayOutputStream;
import java.security.KeyFactory;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads RSA private keys from PEM: PKCS#1 ({@code BEGIN RSA PRIVATE KEY}, what GitHub hands out
 * for an App) and PKCS#8 ({@code BEGIN PRIVATE KEY}). Messages never include key material. It lives
 * with the configuration because a bad key file stops start-up naming its setting.
 */
public final class PemKeys {

  private static final Pattern BLOCK =
      Pattern.compile(
          "-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----",
          Pattern.DOTALL);

  /** DER of AlgorithmIdentifier { rsaEncryption, NULL }. */
  private static final byte[] RSA_ALGORITHM = {
    0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01,
    0x01, 0x05, 0x00
  };

  private PemKeys() {}

  public static PrivateKey privateKey(String pem) {
    if (pem == null || pem.isBlank()) {
      throw new IllegalArgumentException("the private key PEM is empty");
    }
    Matcher m = BLOCK.matcher(pem);
    if (!m.find()) {
      throw new IllegalArgumentException(
          "no PEM private key found (expected -----BEGIN RSA PRIVATE KEY----- or -----BEGIN"
              + " PRIVATE KEY-----)");
    }
    String type = m.group(1);
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(m.group(2));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the " + type + " PEM block is not valid base64");
    }
    byte[] pkcs8;
    switch (type) {
      case "RSA PRIVATE KEY":
        pkcs8 = wrapPkcs1(der);
        break;
      case "PRIVATE KEY":
        pkcs8 = der;
        break;
      case "ENCRYPTED PRIVATE KEY":
        throw new IllegalArgumentException(
            "the private key is encrypted; give the unencrypted key GitHub issued");
      default:
        throw new IllegalArgumentException(
            "unsupported PEM block '" + type + "' (expected RSA PRIVATE KEY or PRIVATE KEY)");
    }
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (InvalidKeySpecException e) {
      throw new IllegalArgumentException("the " + type + " PEM block is not an RSA private key");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no RSA support", e);
    }
  }

  /** PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { the PKCS#1 key } }. */
  private static byte[] wrapPkcs1(byte[] pkcs1) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(new byte[] {0x02, 0x01, 0x00});
    body.writeBytes(RSA_ALGORITHM);
    body.write(0x04);
    writeLength(body, pkcs1.length);
    body.writeBytes(pkcs1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x30);
    writeLength(out, body.size());
    out.writeBytes(body.toByteArray());
    return out.toByteArray();
  }

  private static void writeLength(ByteArrayOutputStream out, int length) {
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length & 0xff);
    } else {
      out.write(0x83);
      out.write(length >> 16);
      out.write((length >> 8) & 0xff);
      out.write(length & 0xff);
    }
  }
}
