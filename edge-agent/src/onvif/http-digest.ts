/**
 * HTTP Digest authentication (RFC 7616), client side, as ONVIF cameras ask for it: `401` with one or more
 * `WWW-Authenticate: Digest …` challenges (MD5 and/or SHA-256, qop="auth" or none). Pure functions plus a small
 * session that reuses a nonce with a rising nonce count until the camera says it is stale.
 */
import { createHash, randomBytes } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';

export type DigestChallenge = {
  realm: string;
  nonce: string;
  opaque: string | null;
  algorithm: DigestAlgorithm;
  /** 'auth' when the server offered it; null for the RFC 2069 form without qop. */
  qop: 'auth' | null;
  stale: boolean;
};

const HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256', 'MD5-sess': 'md5', 'SHA-256-sess': 'sha256' };
const STRENGTH: Record<DigestAlgorithm, number> = { MD5: 1, 'MD5-sess': 1, 'SHA-256': 2, 'SHA-256-sess': 2 };

/** Parameters of one `Digest k=v, k="v"` header value; null when its scheme is not Digest. */
export function parseDigestHeader(value: string): Record<string, string> | null {
  const m = /^\s*Digest\s+/i.exec(value);
  if (!m) return null;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/g;
  const rest = value.slice(m[0].length);
  let x: RegExpExecArray | null;
  while ((x = re.exec(rest))) out[x[1]!.toLowerCase()] = x[2] !== undefined ? x[2].replace(/\\(.)/g, '$1') : (x[3] ?? '');
  return out;
}

/**
 * Splits WWW-Authenticate header values into one string per challenge. A server may send several headers, and
 * Node's `headers` joins them with ", ", so both forms are split before each scheme name.
 */
export function splitChallenges(values: string | string[] | undefined): string[] {
  const list = values === undefined ? [] : Array.isArray(values) ? values : [values];
  return list.flatMap((v) => v.split(/,\s*(?=(?:Digest|Basic|Bearer|Negotiate|NTLM)\s)/i)).map((s) => s.trim()).filter(Boolean);
}

/** The challenges we can answer, strongest first (SHA-256 before MD5); unknown algorithms and auth-int-only dropped. */
export function usableChallenges(values: string | string[] | undefined): DigestChallenge[] {
  const out: DigestChallenge[] = [];
  for (const v of splitChallenges(values)) {
    const p = parseDigestHeader(v);
    if (!p || p.realm === undefined || !p.nonce) continue;
    const alg = (['MD5', 'SHA-256', 'MD5-sess', 'SHA-256-sess'] as const).find((a) => a.toLowerCase() === (p.algorithm ?? 'MD5').toLowerCase());
    if (!alg) continue;
    let qop: 'auth' | null = null;
    if (p.qop !== undefined) {
      if (!p.qop.split(',').map((q) => q.trim().toLowerCase()).includes('auth')) continue;
      qop = 'auth';
    }
    out.push({ realm: p.realm, nonce: p.nonce, opaque: p.opaque ?? null, algorithm: alg, qop, stale: (p.stale ?? '').toLowerCase() === 'true' });
  }
  return out.sort((a, b) => STRENGTH[b.algorithm] - STRENGTH[a.algorithm]);
}

/** The schemes named in WWW-Authenticate (e.g. ['Basic']), for error messages. */
export const challengeSchemes = (values: string | string[] | undefined): string[] => splitChallenges(values).map((c) => c.split(/\s/)[0]!);

/** RFC 8187 value encoding: UTF-8, percent-encoded except attr-char. */
const encodeRfc8187 = (s: string) => encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;

/** The Authorization header value answering `c` for one request. */
export function digestAuthorization(
  c: DigestChallenge,
  req: { method: string; uri: string; username: string; password: string; nc: number; cnonce?: string },
): string {
  const h = (s: string) => createHash(HASH[c.algorithm]).update(s, 'utf8').digest('hex');
  const cnonce = req.cnonce ?? randomBytes(8).toString('hex');
  const nc = req.nc.toString(16).padStart(8, '0');
  let ha1 = h(`${req.username}:${c.realm}:${req.password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = h(`${req.method}:${req.uri}`);
  const response = c.qop ? h(`${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${c.nonce}:${ha2}`);
  // A username that is not plain ASCII goes as RFC 7616 `username*` (RFC 8187 UTF-8 percent-encoding).
  const user = /^[\x20-\x7e]*$/.test(req.username) ? `username=${quote(req.username)}` : `username*=UTF-8''${encodeRfc8187(req.username)}`;
  const parts = [user, `realm=${quote(c.realm)}`, `nonce=${quote(c.nonce)}`, `uri=${quote(req.uri)}`, `algorithm=${c.algorithm}`];
  if (c.qop) parts.push('qop=auth', `nc=${nc}`, `cnonce=${quote(cnonce)}`);
  parts.push(`response=${quote(response)}`);
  if (c.opaque !== null) parts.push(`opaque=${quote(c.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

/** One camera's Digest state: the last challenge and its nonce count, so later requests need no extra 401. */
export class DigestSession {
  #challenge: DigestChallenge | null = null;
  #nc = 0;

  constructor(
    private readonly username: string,
    private readonly password: string,
  ) {}

  get active(): boolean {
    return this.#challenge !== null;
  }

  /** Remembers the strongest usable challenge of a 401; false when there was none we can answer. */
  accept(values: string | string[] | undefined): boolean {
    const c = usableChallenges(values)[0];
    if (!c) return false;
    this.#challenge = c;
    this.#nc = 0;
    return true;
  }

  /** The Authorization header for the next request, or null before any challenge. */
  authorization(method: string, uri: string): string | null {
    if (!this.#challenge) return null;
    this.#nc += 1;
    return digestAuthorization(this.#challenge, { method, uri, username: this.username, password: this.password, nc: this.#nc });
  }
}
