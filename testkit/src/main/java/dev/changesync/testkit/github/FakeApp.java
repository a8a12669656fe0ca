package dev.changesync.testkit.github;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.util.Base64;

/**
 * A GitHub App registered on {@link FakeGitHub}, with a fresh RSA key pair and one installation.
 * Give a client {@link #privateKeyPem()} (PKCS#1, the format GitHub hands out) or {@link
 * #privateKeyPkcs8Pem()}; it signs a JWT with it and exchanges that at {@code POST
 * /app/installations/{installationId}/access_tokens} for an installation token.
 */
public final class FakeApp {

  private final String appId;
  private final long installationId;
  private final KeyPair keyPair;

  /**
   * A new app with a fresh 2048-bit RSA key, registered with no fake yet: hand it to {@link
   * FakeGitHub#registerApp(FakeApp)} of each fake that should know it.
   */
  public static FakeApp generate(String appId, long installationId) {
    return new FakeApp(appId, installationId);
  }

  FakeApp(String appId, long installationId) {
    this.appId = appId;
    this.installationId = installationId;
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      this.keyPair = generator.generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public String appId() {
    return appId;
  }

  public long installationId() {
    return installationId;
  }

  PublicKey publicKey() {
    return keyPair.getPublic();
  }

  /** The private key as {@code -----BEGIN RSA PRIVATE KEY-----} (PKCS#1), as GitHub issues it. */
  public String privateKeyPem() {
    RSAPrivateCrtKey k = (RSAPrivateCrtKey) keyPair.getPrivate();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (BigInteger i :
        new BigInteger[] {
          BigInteger.ZERO,
          k.getModulus(),
          k.getPublicExponent(),
          k.getPrivateExponent(),
          k.getPrimeP(),
          k.getPrimeQ(),
          k.getPrimeExponentP(),
          k.getPrimeExponentQ(),
          k.getCrtCoefficient()
        }) {
      byte[] value = i.toByteArray();
      writeTagAndLength(body, 0x02, value.length);
      body.writeBytes(value);
    }
    ByteArrayOutputStream sequence = new ByteArrayOutputStream();
    writeTagAndLength(sequence, 0x30, body.size());
    sequence.writeBytes(body.toByteArray());
    return pem("RSA PRIVATE KEY", sequence.toByteArray());
  }

  /** The private key as {@code -----BEGIN PRIVATE KEY-----} (PKCS#8). */
  public String privateKeyPkcs8Pem() {
    return pem("PRIVATE KEY", keyPair.getPrivate().getEncoded());
  }

  private static void writeTagAndLength(ByteArrayOutputStream out, int tag, int length) {
    out.write(tag);
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length & 0xff);
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  @Override
  public String toString() {
    return "FakeApp[appId=" + appId + ", installationId=" + installationId + "]";
  }
}
