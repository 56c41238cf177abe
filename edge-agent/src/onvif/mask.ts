/**
 * Keeping camera credentials out of logs, errors, heartbeats and the centre.
 *
 * - `SecretUrl` carries a URL with credentials; every way of printing it (String(), template literals, JSON,
 *   console.log/util.inspect) yields the masked form. Only `reveal()` gives the real one, for the recorder's ffmpeg.
 * - `maskUri` masks one URI; `maskCredentials` masks every URI in a text (e.g. ffmpeg's stderr, which prints the input
 *   URL with its credentials) and any known secret values.
 */
import { inspect } from 'node:util';

const MASK = '***';
/** Query parameters some cameras use for credentials (e.g. `?user=admin&password=…` on snapshot URIs). */
const SECRET_PARAM = /^(user(name)?|pass(word|wd)?|pwd|token|auth|key|secret|sig(nature)?|credentials?)$/i;

/** The URI with any user:password and secret-looking query parameters replaced by `***`. Never throws. */
export function maskUri(uri: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return maskCredentials(uri);
  }
  if (u.username || u.password) {
    u.username = MASK;
    u.password = u.password ? MASK : '';
  }
  for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, MASK);
  // URLSearchParams re-encodes '*'; keep the mask readable.
  return u.toString().replace(/%2A%2A%2A/g, MASK);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Masks credentials in free text: the userinfo of every `scheme://user:pass@host`, secret-looking query parameters,
 * and each given secret (as is and percent-encoded).
 */
export function maskCredentials(text: string, secrets: ReadonlyArray<string | undefined | null> = []): string {
  let out = text
    // Greedy up to the last '@' before the path, so a raw '@' inside a password is covered too.
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*(?:@[^\s/?#@]*)*@/gi, `$1${MASK}@`)
    .replace(/([?&;](?:user(?:name)?|pass(?:word|wd)?|pwd|token|auth|key|secret|sig(?:nature)?|credentials?)=)[^&\s#"'<]*/gi, `$1${MASK}`);
  for (const s of secrets) {
    if (!s) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.replace(new RegExp(escapeRe(form), 'g'), MASK);
  }
  return out;
}

/** A URL with credentials in it. Prints masked; `reveal()` is the only way to the real string. */
export class SecretUrl {
  readonly #value: string;
  readonly masked: string;

  constructor(value: string) {
    this.#value = value;
    this.masked = maskUri(value);
  }

  /** The URL with credentials: hand it to ffmpeg, never to a logger or the network. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return this.masked;
  }

  toJSON(): string {
    return this.masked;
  }

  [inspect.custom](): string {
    return `SecretUrl(${this.masked})`;
  }
}

/** Puts username/password into an rtsp:// or rtsps:// URI (percent-encoded; ffmpeg decodes them). */
export function withCredentials(uri: string, username: string | undefined, password: string | undefined): SecretUrl {
  const u = new URL(uri);
  // Whatever the device embedded is replaced by the configured credentials.
  u.username = '';
  u.password = '';
  if (username) {
    u.username = encodeURIComponent(username);
    if (password) u.password = encodeURIComponent(password);
  }
  return new SecretUrl(u.toString());
}

/** The URI without its userinfo (what the device gave, minus any credentials it embedded). */
export function stripUserinfo(uri: string): string {
  try {
    const u = new URL(uri);
    if (!u.username && !u.password) return uri;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return maskCredentials(uri);
  }
}
