/**
 * The centre's evidence signing key (Ed25519). Generated once, on first use, into a key file outside the database
 * (so database dumps never carry it), mode 0600; every process that signs reads the same file. The public key and
 * its fingerprint (SHA-256 of the DER SubjectPublicKeyInfo, the same bytes `openssl pkey -pubin -outform DER` prints)
 * are what HQ hands a recipient out of band.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export type SigningKey = {
  /** PEM of the public key (SPKI). */
  publicKeyPem: string;
  /** Lower-case hex SHA-256 of the DER SPKI. */
  fingerprint: string;
  /** Detached Ed25519 signature (64 bytes) over `data`. */
  sign(data: Buffer): Buffer;
  verify(data: Buffer, signature: Buffer): boolean;
};

export interface SigningKeyStore {
  /** The key, created on first use. */
  get(): Promise<SigningKey>;
}

export function fingerprintOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

function fromPrivate(priv: KeyObject): SigningKey {
  const pub = createPublicKey(priv);
  return {
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: fingerprintOf(pub),
    sign: (data) => sign(null, data, priv),
    verify: (data, sig) => verify(null, data, pub, sig),
  };
}

/**
 * A key kept in `file` (PEM, PKCS#8). Created with O_EXCL and 0600, so two processes starting at once cannot both
 * write one: the loser reads the winner's. A key file readable by group or others is refused.
 */
export function fileSigningKey(file: string): SigningKeyStore {
  let cached: Promise<SigningKey> | undefined;
  async function load(): Promise<SigningKey> {
    try {
      const st = await stat(file);
      if ((st.mode & 0o077) !== 0) throw new Error(`signing key ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
      return fromPrivate(createPrivateKey(await readFile(file, 'utf8')));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      const h = await open(file, 'wx', 0o600);
      try {
        await h.writeFile(pem);
        await h.sync();
      } finally {
        await h.close();
      }
      await chmod(file, 0o600);
      return fromPrivate(privateKey);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // Another process created it first; wait until it is written.
      for (let i = 0; i < 50; i++) {
        const text = await readFile(file, 'utf8');
        if (text.includes('END PRIVATE KEY')) return fromPrivate(createPrivateKey(text));
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`signing key ${file} is being written by another process and did not complete`);
    }
  }
  return {
    get() {
      cached ??= load().catch((e) => {
        cached = undefined;
        throw e;
      });
      return cached;
    },
  };
}
