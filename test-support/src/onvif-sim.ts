/**
 * A simulated ONVIF camera for tests and the demo, with no dependencies (node:http + node:dgram).
 *
 * - SOAP 1.2 over HTTP: GetSystemDateAndTime, GetCapabilities, GetServices (these three without credentials, the
 *   ONVIF PRE_AUTH class), GetDeviceInformation, GetScopes, GetVideoSources, GetProfiles, GetProfile, GetStreamUri,
 *   GetSnapshotUri. Any other action gets a SOAP fault `ter:ActionNotSupported`.
 * - Authentication (`auth`): WS-UsernameToken PasswordDigest (`base64(sha1(nonce + created + password))`, checked
 *   against the camera's own clock, which can be skewed with `clockOffsetMs`; a Created outside the window or a nonce
 *   seen before is refused with HTTP 400 + SOAP fault `ter:NotAuthorized`, as real cameras answer), HTTP Digest
 *   (RFC 7616, MD5 and/or SHA-256, qop=auth; refused with 401 + a fresh `WWW-Authenticate: Digest` challenge, as the
 *   ONVIF Core spec says), either of the two, or both.
 * - The snapshot URI (GetSnapshotUri) serves a JPEG of the profile's size, made once with ffmpeg, behind HTTP Digest
 *   (a GET cannot carry WS-Security; real cameras protect it with Digest).
 * - WS-Discovery responder (UDP 3702, group 239.255.255.250): answers a Probe for NetworkVideoTransmitter / Device
 *   with a unicast ProbeMatches that carries RelatesTo, XAddrs and name/hardware/location scopes.
 *
 * Joining a multicast group sends IGMP on the interface the route picks, so only turn `discovery` on inside a network
 * namespace of your own (see docs/onvif.md); on this machine's host network it would leave by eth0.
 *
 * Run as a CLI (`node --import tsx test-support/src/onvif-sim.ts --help`) to serve one or more cameras; it prints one
 * JSON line per camera.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

export type SimProfile = {
  token: string;
  name: string;
  width: number;
  height: number;
  encoding?: 'H264' | 'H265' | 'JPEG';
  fps?: number;
  bitrateKbps?: number;
  /** What GetStreamUri answers for this profile (real cameras answer without credentials). */
  rtspUri: string;
};

/**
 * How a camera with credentials wants requests authenticated:
 * - `ws-security`: WS-UsernameToken in the SOAP header; an Authorization header is ignored.
 * - `digest`: HTTP Digest; the SOAP security header is ignored.
 * - `either`: a valid one of the two (a request with neither gets the 401 Digest challenge).
 * - `both`: HTTP Digest and WS-UsernameToken together.
 */
export type SimAuthMode = 'ws-security' | 'digest' | 'either' | 'both';
export type SimDigestAlgorithm = 'MD5' | 'SHA-256';
/** The ONVIF Core spec's PRE_AUTH actions that the simulator implements. */
export const PRE_AUTH_ACTIONS: readonly string[] = ['GetSystemDateAndTime', 'GetCapabilities', 'GetServices'];

export type OnvifSimOptions = {
  /** Address the HTTP server binds to; default 127.0.0.1. */
  host?: string;
  /** HTTP port; 0 (default) picks a free one. */
  port?: number;
  /** Host written into XAddrs and snapshot URIs; default the bind host (127.0.0.1 when bound to 0.0.0.0). */
  advertiseHost?: string;
  maker?: string;
  model?: string;
  firmware?: string;
  serial?: string;
  hardwareId?: string;
  /** Friendly name announced in the discovery scopes. */
  name?: string;
  location?: string;
  /** Required credentials; null makes an open camera that ignores the security header. */
  credentials?: { username: string; password: string } | null;
  /** How requests must be authenticated when `credentials` is set (default `ws-security`). */
  auth?: SimAuthMode;
  /** Digest algorithms offered, one WWW-Authenticate header each, in this order (default ['MD5']). */
  digestAlgorithms?: SimDigestAlgorithm[];
  digestRealm?: string;
  /** How long a Digest nonce stays good; a correct answer to an older one gets 401 with stale=true. Default 5 min. */
  digestNonceTtlMs?: number;
  /** Actions answered without credentials (default PRE_AUTH_ACTIONS; [] makes a camera that wants auth for all). */
  preAuthActions?: string[];
  /** Actions this camera answers with ter:ActionNotSupported (e.g. ['GetCapabilities'] for a GetServices-only camera). */
  unsupportedActions?: string[];
  /** Default main 1920x1080 + sub 640x360 with `rtspUris`. */
  profiles?: SimProfile[];
  rtspUris?: { main?: string; sub?: string };
  /** How far Created may be from the camera's clock, either way. Default 5 minutes. */
  createdWindowMs?: number;
  /** The camera's clock minus the real clock (a camera whose clock drifted). */
  clockOffsetMs?: number;
  /** Delay before every HTTP answer (to test client timeouts). */
  responseDelayMs?: number;
  /** WS-Discovery responder; off by default. Only inside a network namespace of your own. */
  discovery?: boolean | { port?: number; group?: string; interfaceAddress?: string };
  /** Endpoint reference address, default a fresh urn:uuid. */
  urn?: string;
};

export type AuthOutcome =
  | 'none-needed'
  | 'ok'
  | 'missing'
  | 'unknown-user'
  | 'not-digest'
  | 'bad-digest'
  | 'stale-created'
  | 'replayed-nonce'
  | 'malformed'
  // HTTP Digest only:
  | 'unknown-nonce'
  | 'stale-nonce'
  | 'replayed-nc';

export type SimRequestLog = {
  /** HTTP method: POST for SOAP, GET for the snapshot. */
  method: string;
  path: string;
  action: string | null;
  /** The outcome that decided: 'ok' when every required method passed, else the first failure. */
  auth: AuthOutcome;
  /** Outcome of each method that was looked at (null: not looked at). */
  wsse: AuthOutcome | null;
  digest: AuthOutcome | null;
  status: number;
  /** True when the request had a Created element with attributes (node-onvif puts an xmlns on it). */
  createdHadAttributes: boolean;
};

export type OnvifSimHandle = {
  host: string;
  port: number;
  xaddr: string;
  urn: string;
  serial: string;
  profiles: SimProfile[];
  /** Port of the discovery responder, null when discovery is off. */
  discoveryPort: number | null;
  /** Every SOAP request seen, oldest first. */
  requests: SimRequestLog[];
  close(): Promise<void>;
};

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsd: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
} as const;

const PASSWORD_DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const MAX_BODY_BYTES = 64 * 1024;

// ---------------------------------------------------------------------------------------------------------------
// Small XML helpers (enough for SOAP requests from ONVIF clients; not a general parser).

export const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

const xmlUnescape = (s: string) =>
  s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d: string) => String.fromCodePoint(parseInt(d, 10)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

const stripComments = (xml: string) => xml.replace(/<!--[\s\S]*?-->/g, '');

/** First element with this local name (any prefix): its attribute text and unescaped inner text. */
function element(xml: string, localName: string): { attrs: string; inner: string } | null {
  const re = new RegExp(`<(?:[A-Za-z_][\\w.-]*:)?${localName}((?:\\s[^>]*?)?)(?:/>|>([\\s\\S]*?)</(?:[A-Za-z_][\\w.-]*:)?${localName}\\s*>)`);
  const m = re.exec(xml);
  if (!m) return null;
  return { attrs: m[1] ?? '', inner: m[2] ?? '' };
}

const text = (xml: string, localName: string): string | null => {
  const e = element(xml, localName);
  return e ? xmlUnescape(e.inner.trim()) : null;
};

const attr = (attrs: string, name: string): string | null => {
  const m = new RegExp(`(?:^|\\s)(?:[\\w.-]+:)?${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(attrs);
  return m ? xmlUnescape(m[1] ?? m[2] ?? '') : null;
};

/** Local name of the first element inside the SOAP Body, or null when there is no Body. */
function bodyAction(xml: string): string | null {
  const open = /<(?:[A-Za-z_][\w.-]*:)?Body(?:\s[^>]*)?>/.exec(xml);
  if (!open) return null;
  const rest = xml.slice(open.index + open[0].length);
  const first = /^\s*<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)/.exec(rest);
  return first?.[1] ?? null;
}

// ---------------------------------------------------------------------------------------------------------------
// WS-UsernameToken

/** Builds a WS-Security header with a PasswordDigest, as a client would (tests use it to craft requests). */
export function usernameTokenHeader(opts: { username: string; password: string; created?: string; nonce?: Buffer; createdAttributes?: string }): string {
  const nonce = opts.nonce ?? Buffer.from(randomUUID().replace(/-/g, ''), 'hex');
  const created = opts.created ?? new Date().toISOString();
  const digest = passwordDigest(nonce, created, opts.password);
  const createdAttrs = opts.createdAttributes ?? ' xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"';
  return (
    `<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
    `<UsernameToken><Username>${xmlEscape(opts.username)}</Username>` +
    `<Password Type="${PASSWORD_DIGEST_TYPE}">${digest}</Password>` +
    `<Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</Nonce>` +
    `<Created${createdAttrs}>${created}</Created></UsernameToken></Security>`
  );
}

/** A complete SOAP 1.2 request envelope (for tests). */
export function soapRequest(bodyXml: string, security?: Parameters<typeof usernameTokenHeader>[0]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.env}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tt="${NS.tt}">` +
    `<s:Header>${security ? usernameTokenHeader(security) : ''}</s:Header><s:Body>${bodyXml}</s:Body></s:Envelope>`
  );
}

export const passwordDigest = (nonce: Buffer, created: string, password: string) =>
  createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')])).digest('base64');

/** ISO 8601 as WS-Security writes it; anything else (or no zone) is refused. */
const parseCreated = (s: string): number | null => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
};

class NonceCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly ttlMs: number) {}
  /** True when the nonce is new (and remembers it). */
  add(nonce: string, now: number): boolean {
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + this.ttlMs);
    return true;
  }
}

function checkUsernameToken(
  xml: string,
  creds: { username: string; password: string },
  cameraNow: number,
  windowMs: number,
  nonces: NonceCache,
): { outcome: AuthOutcome; createdHadAttributes: boolean } {
  const token = element(xml, 'UsernameToken');
  if (!token) return { outcome: 'missing', createdHadAttributes: false };
  const username = text(token.inner, 'Username');
  const pw = element(token.inner, 'Password');
  const nonceB64 = text(token.inner, 'Nonce');
  const createdEl = element(token.inner, 'Created');
  const createdHadAttributes = !!createdEl && createdEl.attrs.trim().length > 0;
  if (username === null || !pw || nonceB64 === null || !createdEl) return { outcome: 'malformed', createdHadAttributes };
  const type = attr(pw.attrs, 'Type');
  if (type !== null && !type.endsWith('#PasswordDigest')) return { outcome: 'not-digest', createdHadAttributes };
  if (username !== creds.username) return { outcome: 'unknown-user', createdHadAttributes };
  const created = xmlUnescape(createdEl.inner.trim());
  const createdMs = parseCreated(created);
  if (createdMs === null) return { outcome: 'malformed', createdHadAttributes };
  const nonce = Buffer.from(nonceB64, 'base64');
  if (nonce.length === 0) return { outcome: 'malformed', createdHadAttributes };
  const expected = Buffer.from(passwordDigest(nonce, created, creds.password), 'base64');
  const given = Buffer.from(xmlUnescape(pw.inner.trim()), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { outcome: 'bad-digest', createdHadAttributes };
  if (Math.abs(cameraNow - createdMs) > windowMs) return { outcome: 'stale-created', createdHadAttributes };
  if (!nonces.add(nonceB64, cameraNow)) return { outcome: 'replayed-nonce', createdHadAttributes };
  return { outcome: 'ok', createdHadAttributes };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP Digest (RFC 7616), as a camera checks it

const DIGEST_HASH: Record<SimDigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };

/** The parameters of a `Digest …` header (Authorization or WWW-Authenticate); null when the scheme is not Digest. */
export function parseDigestParams(header: string): Record<string, string> | null {
  const m = /^\s*Digest\s+/i.exec(header);
  if (!m) return null;
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/g;
  const rest = header.slice(m[0].length);
  let x: RegExpExecArray | null;
  while ((x = re.exec(rest))) out[x[1]!.toLowerCase()] = x[2] !== undefined ? x[2].replace(/\\(.)/g, '$1') : (x[3] ?? '');
  return out;
}

const hashHex = (alg: SimDigestAlgorithm, s: string) => createHash(DIGEST_HASH[alg]).update(s, 'utf8').digest('hex');

/** The `response` a client must send (qop=auth). Exported so tests can build Authorization headers by hand. */
export function digestResponse(p: { algorithm: SimDigestAlgorithm; username: string; realm: string; password: string; method: string; uri: string; nonce: string; nc: string; cnonce: string }): string {
  const ha1 = hashHex(p.algorithm, `${p.username}:${p.realm}:${p.password}`);
  const ha2 = hashHex(p.algorithm, `${p.method}:${p.uri}`);
  return hashHex(p.algorithm, `${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:auth:${ha2}`);
}

class DigestNonces {
  private readonly live = new Map<string, { expires: number; lastNc: number }>();
  constructor(private readonly ttlMs: number) {}
  issue(now: number): string {
    for (const [k, v] of this.live) if (v.expires + this.ttlMs <= now) this.live.delete(k);
    const nonce = randomBytes(16).toString('hex');
    this.live.set(nonce, { expires: now + this.ttlMs, lastNc: 0 });
    return nonce;
  }
  get(nonce: string) {
    return this.live.get(nonce);
  }
}

function checkDigest(
  header: string | undefined,
  req: { method: string; uri: string },
  creds: { username: string; password: string },
  realm: string,
  algorithms: SimDigestAlgorithm[],
  nonces: DigestNonces,
  now: number,
): AuthOutcome {
  if (!header) return 'missing';
  const p = parseDigestParams(header);
  if (!p) return 'not-digest';
  const { nonce, uri, response, nc, cnonce } = p;
  // RFC 7616: a username that is not ASCII comes as username*=UTF-8''percent-encoded.
  let username = p.username;
  if (username === undefined && p['username*'] !== undefined) {
    const m = /^UTF-8''(.*)$/i.exec(p['username*']);
    try {
      username = m ? decodeURIComponent(m[1]!) : undefined;
    } catch {
      username = undefined;
    }
  }
  if (username === undefined || nonce === undefined || uri === undefined || response === undefined || nc === undefined || cnonce === undefined) return 'malformed';
  if (p.realm !== realm || p.qop !== 'auth' || !/^[0-9a-fA-F]{8}$/.test(nc) || uri !== req.uri) return 'malformed';
  const algorithm = algorithms.find((a) => a.toLowerCase() === (p.algorithm ?? 'MD5').toLowerCase());
  if (!algorithm) return 'malformed';
  const state = nonces.get(nonce);
  if (!state) return 'unknown-nonce';
  if (username !== creds.username) return 'unknown-user';
  const expected = Buffer.from(digestResponse({ algorithm, username, realm, password: creds.password, method: req.method, uri, nonce, nc, cnonce }), 'utf8');
  const given = Buffer.from(response.toLowerCase(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad-digest';
  if (state.expires <= now) return 'stale-nonce';
  const n = parseInt(nc, 16);
  if (n <= state.lastNc) return 'replayed-nc';
  state.lastNc = n;
  return 'ok';
}

// ---------------------------------------------------------------------------------------------------------------
// SOAP answers

const envelope = (body: string, extraNs = '') =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${NS.env}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tt="${NS.tt}" xmlns:ter="${NS.ter}"${extraNs}><env:Body>${body}</env:Body></env:Envelope>\n`;

const fault = (code: 'env:Sender' | 'env:Receiver', subcode: string, reason: string) =>
  envelope(
    `<env:Fault><env:Code><env:Value>${code}</env:Value><env:Subcode><env:Value>${subcode}</env:Value></env:Subcode></env:Code>` +
      `<env:Reason><env:Text xml:lang="en">${xmlEscape(reason)}</env:Text></env:Reason></env:Fault>`,
  );

export const defaultProfiles = (rtsp: { main?: string; sub?: string } = {}): SimProfile[] => [
  { token: 'Profile_1', name: 'mainStream', width: 1920, height: 1080, encoding: 'H264', fps: 25, bitrateKbps: 4096, rtspUri: rtsp.main ?? 'rtsp://127.0.0.1:8554/cam1/main' },
  { token: 'Profile_2', name: 'subStream', width: 640, height: 360, encoding: 'H264', fps: 15, bitrateKbps: 512, rtspUri: rtsp.sub ?? 'rtsp://127.0.0.1:8554/cam1/sub' },
];

type Device = {
  maker: string;
  model: string;
  firmware: string;
  serial: string;
  hardwareId: string;
  name: string;
  location: string;
  profiles: SimProfile[];
};

const scopesOf = (d: Device) => [
  'onvif://www.onvif.org/type/video_encoder',
  'onvif://www.onvif.org/Profile/Streaming',
  `onvif://www.onvif.org/name/${encodeURIComponent(d.name)}`,
  `onvif://www.onvif.org/hardware/${encodeURIComponent(d.model)}`,
  `onvif://www.onvif.org/location/${encodeURIComponent(d.location)}`,
];

function dateTimeXml(ms: number): string {
  const d = new Date(ms);
  const part = (prefix: string) =>
    `<tt:${prefix}><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
    `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:${prefix}>`;
  return (
    `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
    `<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>${part('UTCDateTime')}${part('LocalDateTime')}</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
  );
}

function profileXml(p: SimProfile, tag = 'trt:Profiles'): string {
  return (
    `<${tag} token="${xmlEscape(p.token)}" fixed="true"><tt:Name>${xmlEscape(p.name)}</tt:Name>` +
    `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig_1</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>` +
    `<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="VideoEncoder_${xmlEscape(p.token)}"><tt:Name>VideoEncoder_${xmlEscape(p.token)}</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:Encoding>${p.encoding ?? 'H264'}</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
    `<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps ?? 25}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval>` +
    `<tt:BitrateLimit>${p.bitrateKbps ?? 2048}</tt:BitrateLimit></tt:RateControl><tt:H264><tt:GovLength>${(p.fps ?? 25) * 2}</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>` +
    `<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>` +
    `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></${tag}>`
  );
}

const mediaUri = (uri: string) =>
  `<trt:MediaUri><tt:Uri>${xmlEscape(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>`;

type Answer = { status: number; body: string };

function answer(action: string, xml: string, d: Device, base: string, cameraNow: number): Answer | null {
  const ok = (body: string): Answer => ({ status: 200, body: envelope(body) });
  const device = `${base}/onvif/device_service`;
  const media = `${base}/onvif/media_service`;
  const findProfile = () => {
    const token = text(xml, 'ProfileToken');
    return d.profiles.find((p) => p.token === token) ?? null;
  };
  const noProfile: Answer = { status: 400, body: fault('env:Sender', 'ter:InvalidArgVal', 'No such profile (ter:NoProfile)') };
  switch (action) {
    case 'GetSystemDateAndTime':
      return ok(dateTimeXml(cameraNow));
    case 'GetCapabilities':
      return ok(
        `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
          `<tt:Device><tt:XAddr>${device}</tt:XAddr><tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>false</tt:DiscoveryBye>` +
          `<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup><tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>` +
          `<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tt:SupportedVersions></tt:System></tt:Device>` +
          `<tt:Media><tt:XAddr>${media}</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>` +
          `<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
          `</tds:Capabilities></tds:GetCapabilitiesResponse>`,
      );
    case 'GetServices': {
      const svc = (ns: string, xaddr: string) =>
        `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${xaddr}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tds:Version></tds:Service>`;
      return ok(`<tds:GetServicesResponse>${svc(NS.tds, device)}${svc(NS.trt, media)}</tds:GetServicesResponse>`);
    }
    case 'GetDeviceInformation':
      return ok(
        `<tds:GetDeviceInformationResponse><tds:Manufacturer>${xmlEscape(d.maker)}</tds:Manufacturer><tds:Model>${xmlEscape(d.model)}</tds:Model>` +
          `<tds:FirmwareVersion>${xmlEscape(d.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${xmlEscape(d.serial)}</tds:SerialNumber>` +
          `<tds:HardwareId>${xmlEscape(d.hardwareId)}</tds:HardwareId></tds:GetDeviceInformationResponse>`,
      );
    case 'GetScopes':
      return ok(
        `<tds:GetScopesResponse>${scopesOf(d)
          .map((s) => `<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>${xmlEscape(s)}</tt:ScopeItem></tds:Scopes>`)
          .join('')}</tds:GetScopesResponse>`,
      );
    case 'GetVideoSources':
      return ok(
        `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>25</tt:Framerate>` +
          `<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`,
      );
    case 'GetProfiles':
      return ok(`<trt:GetProfilesResponse>${d.profiles.map((p) => profileXml(p)).join('')}</trt:GetProfilesResponse>`);
    case 'GetProfile': {
      const p = findProfile();
      return p ? ok(`<trt:GetProfileResponse>${profileXml(p, 'trt:Profile')}</trt:GetProfileResponse>`) : noProfile;
    }
    case 'GetStreamUri': {
      const p = findProfile();
      return p ? ok(`<trt:GetStreamUriResponse>${mediaUri(p.rtspUri)}</trt:GetStreamUriResponse>`) : noProfile;
    }
    case 'GetSnapshotUri': {
      const p = findProfile();
      return p ? ok(`<trt:GetSnapshotUriResponse>${mediaUri(`${base}/onvif/snapshot?profile=${encodeURIComponent(p.token)}`)}</trt:GetSnapshotUriResponse>`) : noProfile;
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// WS-Discovery

/** Does a Probe's Types/Scopes filter select this device? Empty filters select everything. */
function probeMatches(xml: string, scopes: string[]): boolean {
  const types = (text(xml, 'Types') ?? '').split(/\s+/).filter(Boolean).map((t) => t.split(':').pop());
  if (types.length > 0 && !types.some((t) => t === 'NetworkVideoTransmitter' || t === 'Device')) return false;
  const wanted = (text(xml, 'Scopes') ?? '').split(/\s+/).filter(Boolean);
  return wanted.every((w) => scopes.some((s) => s === w || s.startsWith(w.endsWith('/') ? w : `${w}/`)));
}

function probeMatchesXml(relatesTo: string, urn: string, xaddr: string, scopes: string[]): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope xmlns:env="${NS.env}" xmlns:wsa="${NS.wsa}" xmlns:wsd="${NS.wsd}" xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">` +
    `<env:Header><wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID><wsa:RelatesTo>${xmlEscape(relatesTo)}</wsa:RelatesTo>` +
    `<wsa:To env:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
    `<wsa:Action env:mustUnderstand="true">${NS.wsd}/ProbeMatches</wsa:Action></env:Header>` +
    `<env:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>${xmlEscape(urn)}</wsa:Address></wsa:EndpointReference>` +
    `<wsd:Types>dn:NetworkVideoTransmitter tds:Device</wsd:Types><wsd:Scopes>${scopes.map(xmlEscape).join(' ')}</wsd:Scopes>` +
    `<wsd:XAddrs>${xmlEscape(xaddr)}</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches></env:Body></env:Envelope>\n`
  );
}

async function startDiscovery(
  cfg: { port?: number; group?: string; interfaceAddress?: string },
  urn: string,
  xaddr: string,
  scopes: string[],
): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  socket.on('message', (msg: Buffer, from: RemoteInfo) => {
    const xml = stripComments(msg.toString('utf8'));
    const action = text(xml, 'Action') ?? '';
    if (bodyAction(xml) !== 'Probe' && !action.endsWith('/Probe')) return;
    if (!probeMatches(xml, scopes)) return;
    const messageId = text(xml, 'MessageID');
    if (!messageId) return;
    const reply = Buffer.from(probeMatchesXml(messageId, urn, xaddr, scopes), 'utf8');
    socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ port: cfg.port ?? WS_DISCOVERY_PORT, address: '0.0.0.0', exclusive: false }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.addMembership(cfg.group ?? WS_DISCOVERY_GROUP, cfg.interfaceAddress);
  socket.on('error', () => undefined);
  return { socket, port: socket.address().port };
}

/** One JPEG frame of ffmpeg's test pattern at this size (TZ=UTC, as every ffmpeg run here). */
function makeJpeg(width: number, height: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=1`, '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1'], {
      env: { ...process.env, TZ: 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (c: Buffer) => out.push(c));
    ff.stderr.on('data', (c: Buffer) => (err += c.toString()));
    ff.on('error', reject);
    ff.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exited ${code}: ${err.trim()}`))));
  });
}

// ---------------------------------------------------------------------------------------------------------------

export async function startOnvifSim(opts: OnvifSimOptions = {}): Promise<OnvifSimHandle> {
  const host = opts.host ?? '127.0.0.1';
  const creds = opts.credentials === undefined ? { username: 'admin', password: 'admin' } : opts.credentials;
  const windowMs = opts.createdWindowMs ?? 5 * 60_000;
  const urn = opts.urn ?? `urn:uuid:${randomUUID()}`;
  const d: Device = {
    maker: opts.maker ?? 'Mamoru Sim',
    model: opts.model ?? 'MS-1080',
    firmware: opts.firmware ?? '1.0.0',
    serial: opts.serial ?? `SIM${randomUUID().slice(0, 8).toUpperCase()}`,
    hardwareId: opts.hardwareId ?? 'MS-HW-1',
    name: opts.name ?? 'Mamoru Sim Camera',
    location: opts.location ?? 'store',
    profiles: opts.profiles ?? defaultProfiles(opts.rtspUris),
  };
  const nonces = new NonceCache(2 * windowMs + 60_000);
  const mode: SimAuthMode = opts.auth ?? 'ws-security';
  const algorithms: SimDigestAlgorithm[] = opts.digestAlgorithms && opts.digestAlgorithms.length > 0 ? opts.digestAlgorithms : ['MD5'];
  const realm = opts.digestRealm ?? 'Mamoru Sim';
  const digestNonces = new DigestNonces(opts.digestNonceTtlMs ?? 5 * 60_000);
  const preAuth = new Set(opts.preAuthActions ?? PRE_AUTH_ACTIONS);
  const requests: SimRequestLog[] = [];
  const cameraNow = () => Date.now() + (opts.clockOffsetMs ?? 0);
  const delayed = new Set<NodeJS.Timeout>();
  const jpegs = new Map<string, Promise<Buffer>>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, body: string | Buffer, type = 'application/soap+xml; charset=utf-8', headers: Record<string, string | string[]> = {}) => {
      const go = () => {
        if (res.destroyed) return;
        res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (opts.responseDelayMs) {
        const t = setTimeout(() => {
          delayed.delete(t);
          go();
        }, opts.responseDelayMs);
        delayed.add(t);
      } else go();
    };
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const log = (action: string | null, status: number, a: { auth?: AuthOutcome; wsse?: AuthOutcome | null; digest?: AuthOutcome | null; createdHadAttributes?: boolean } = {}) =>
      requests.push({ method, path, action, auth: a.auth ?? 'none-needed', wsse: a.wsse ?? null, digest: a.digest ?? null, status, createdHadAttributes: a.createdHadAttributes ?? false });
    /** 401 with one fresh challenge per offered algorithm (`stale` when the client only needs a new nonce). */
    const challenge = (stale: boolean) => {
      const nonce = digestNonces.issue(Date.now());
      const values = algorithms.map((a) => `Digest realm="${realm}", qop="auth", algorithm=${a}, nonce="${nonce}", opaque="${createHash('md5').update(realm).digest('hex')}"${stale ? ', stale=true' : ''}`);
      send(401, '401 Unauthorized\n', 'text/plain; charset=utf-8', { 'www-authenticate': values });
    };
    const digestOutcome = () => (creds ? checkDigest(req.headers.authorization, { method, uri: req.url ?? '/' }, creds, realm, algorithms, digestNonces, Date.now()) : 'none-needed');

    if (method === 'GET' && path === '/onvif/snapshot') {
      req.resume();
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('profile');
      const p = d.profiles.find((x) => x.token === token);
      const digest = creds ? digestOutcome() : null;
      if (digest !== null && digest !== 'ok') {
        log(null, 401, { auth: digest, digest });
        return challenge(digest === 'stale-nonce');
      }
      if (!p) {
        log(null, 404, { auth: digest ?? 'none-needed', digest });
        return send(404, 'no such profile\n', 'text/plain');
      }
      const size = `${p.width}x${p.height}`;
      let jpeg = jpegs.get(size);
      if (!jpeg) {
        jpeg = makeJpeg(p.width, p.height);
        jpegs.set(size, jpeg);
        jpeg.catch(() => jpegs.delete(size));
      }
      jpeg.then(
        (buf) => {
          log(null, 200, { auth: digest ?? 'none-needed', digest });
          send(200, buf, 'image/jpeg');
        },
        (e: unknown) => {
          log(null, 500, { auth: digest ?? 'none-needed', digest });
          send(500, `snapshot failed: ${(e as Error).message}\n`, 'text/plain');
        },
      );
      return;
    }
    if (method !== 'POST') {
      log(null, 405);
      send(405, 'method not allowed\n', 'text/plain');
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooBig) {
        log(null, 413);
        send(413, fault('env:Sender', 'ter:InvalidArgs', 'Request too large'));
        return;
      }
      const xml = stripComments(Buffer.concat(chunks).toString('utf8'));
      const action = bodyAction(xml);
      if (!action) {
        log(null, 400);
        send(400, fault('env:Sender', 'ter:WellFormed', 'Not a SOAP envelope'));
        return;
      }
      const base = `http://${req.headers.host ?? `${advertise}:${port}`}`;
      const known = opts.unsupportedActions?.includes(action) ? null : answer(action, xml, d, base, cameraNow());
      if (!known) {
        log(action, 400);
        send(400, fault('env:Receiver', 'ter:ActionNotSupported', 'Optional Action Not Implemented'));
        return;
      }
      if (!creds || preAuth.has(action)) {
        log(action, known.status);
        send(known.status, known.body);
        return;
      }
      const notAuthorized = () => send(400, fault('env:Sender', 'ter:NotAuthorized', 'Sender not Authorized'));
      const wsseCheck = () => checkUsernameToken(xml, creds, cameraNow(), windowMs, nonces);
      let wsse: AuthOutcome | null = null;
      let digest: AuthOutcome | null = null;
      let createdHadAttributes = false;
      let auth: AuthOutcome = 'ok';
      if (mode === 'ws-security') {
        ({ outcome: wsse, createdHadAttributes } = wsseCheck());
        auth = wsse;
        if (wsse !== 'ok') return (log(action, 400, { auth, wsse, createdHadAttributes }), notAuthorized());
      } else if (mode === 'digest' || mode === 'both') {
        digest = digestOutcome();
        auth = digest;
        if (digest !== 'ok') return (log(action, 401, { auth, digest }), challenge(digest === 'stale-nonce'));
        if (mode === 'both') {
          ({ outcome: wsse, createdHadAttributes } = wsseCheck());
          auth = wsse;
          if (wsse !== 'ok') return (log(action, 400, { auth, wsse, digest, createdHadAttributes }), notAuthorized());
        }
      } else {
        // either: a valid Digest, else a valid UsernameToken; a request with neither is asked for Digest.
        digest = req.headers.authorization ? digestOutcome() : 'missing';
        if (digest !== 'ok') {
          ({ outcome: wsse, createdHadAttributes } = wsseCheck());
          auth = wsse;
          if (wsse === 'missing') {
            auth = digest;
            return (log(action, 401, { auth, digest, wsse }), challenge(digest === 'stale-nonce'));
          }
          if (wsse !== 'ok') return (log(action, 400, { auth, wsse, digest, createdHadAttributes }), notAuthorized());
        }
      }
      log(action, known.status, { auth: 'ok', wsse, digest, createdHadAttributes });
      send(known.status, known.body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const advertise = opts.advertiseHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const hostPart = advertise.includes(':') ? `[${advertise}]` : advertise;
  const xaddr = `http://${hostPart}:${port}/onvif/device_service`;

  let discovery: { socket: Socket; port: number } | null = null;
  if (opts.discovery) {
    const cfg = typeof opts.discovery === 'object' ? opts.discovery : {};
    try {
      discovery = await startDiscovery(cfg, urn, xaddr, scopesOf(d));
    } catch (e) {
      server.close();
      throw e;
    }
  }

  return {
    host: advertise,
    port,
    xaddr,
    urn,
    serial: d.serial,
    profiles: d.profiles,
    discoveryPort: discovery?.port ?? null,
    requests,
    async close() {
      if (discovery) await new Promise<void>((r) => discovery!.socket.close(() => r()));
      for (const t of delayed) clearTimeout(t);
      delayed.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI: one or more cameras for the demo.

const USAGE = `usage: onvif-sim [options]   (every option also reads ONVIF_SIM_<NAME>, e.g. ONVIF_SIM_PORT)
  --count N            cameras to start (default 1)
  --host H             bind address (default 127.0.0.1)
  --port P             HTTP port of camera 1; camera n uses P+n-1; 0 = a free port each (default 0)
  --advertise-host H   host written into XAddrs (default the bind host)
  --username U         required username (default admin)
  --password P         required password (default admin); --open for no auth
  --open               no authentication
  --auth MODE          ws-security (default) | digest | either | both: how requests must be authenticated
  --digest-algorithms L  comma-separated, offered in this order: MD5 (default), SHA-256
  --rtsp-main URI      main-profile stream URI; {n} is replaced by the camera number (default rtsp://127.0.0.1:8554/cam{n}/main)
  --rtsp-sub URI       sub-profile stream URI (default rtsp://127.0.0.1:8554/cam{n}/sub)
  --maker M --model M  device information (defaults Mamoru Sim / MS-1080)
  --name N             friendly name, {n} replaced (default "Mamoru Sim {n}")
  --clock-offset-ms MS the cameras' clock skew
  --discovery          answer WS-Discovery probes on UDP 3702 (only inside your own network namespace)
Prints one JSON line per camera: {"msg":"onvif-sim listening","n":1,"xaddr":...,"port":...,"profiles":[...]}.`;

export async function runOnvifSimCli(argv: string[], env: Record<string, string | undefined>): Promise<OnvifSimHandle[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      count: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'advertise-host': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      open: { type: 'boolean' },
      auth: { type: 'string' },
      'digest-algorithms': { type: 'string' },
      'rtsp-main': { type: 'string' },
      'rtsp-sub': { type: 'string' },
      maker: { type: 'string' },
      model: { type: 'string' },
      name: { type: 'string' },
      'clock-offset-ms': { type: 'string' },
      discovery: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return [];
  }
  const opt = (k: keyof typeof values) => {
    const v = values[k];
    if (typeof v === 'string') return v;
    return env[`ONVIF_SIM_${k.toUpperCase().replace(/-/g, '_')}`];
  };
  const flag = (k: 'open' | 'discovery') => values[k] === true || ['1', 'true', 'yes'].includes((env[`ONVIF_SIM_${k.toUpperCase()}`] ?? '').toLowerCase());
  const int = (k: keyof typeof values, dflt: number, min: number, max: number) => {
    const raw = opt(k);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${k} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
    return n;
  };
  const count = int('count', 1, 1, 64);
  const firstPort = int('port', 0, 0, 65535);
  const clockOffsetMs = int('clock-offset-ms', 0, -86_400_000 * 365, 86_400_000 * 365);
  const tmpl = (s: string, n: number) => s.replace(/\{n\}/g, String(n));
  const authMode = opt('auth') ?? 'ws-security';
  if (!['ws-security', 'digest', 'either', 'both'].includes(authMode)) throw new Error(`--auth must be ws-security, digest, either or both, got ${JSON.stringify(authMode)}`);
  const digestAlgorithms = (opt('digest-algorithms') ?? 'MD5').split(',').map((a) => a.trim());
  for (const a of digestAlgorithms) if (a !== 'MD5' && a !== 'SHA-256') throw new Error(`--digest-algorithms takes MD5 and/or SHA-256, got ${JSON.stringify(a)}`);
  const handles: OnvifSimHandle[] = [];
  try {
    for (let n = 1; n <= count; n++) {
      const h = await startOnvifSim({
        host: opt('host') ?? '127.0.0.1',
        port: firstPort === 0 ? 0 : firstPort + n - 1,
        advertiseHost: opt('advertise-host'),
        credentials: flag('open') ? null : { username: opt('username') ?? 'admin', password: opt('password') ?? 'admin' },
        auth: authMode as SimAuthMode,
        digestAlgorithms: digestAlgorithms as SimDigestAlgorithm[],
        rtspUris: { main: tmpl(opt('rtsp-main') ?? 'rtsp://127.0.0.1:8554/cam{n}/main', n), sub: tmpl(opt('rtsp-sub') ?? 'rtsp://127.0.0.1:8554/cam{n}/sub', n) },
        maker: opt('maker'),
        model: opt('model'),
        name: tmpl(opt('name') ?? 'Mamoru Sim {n}', n),
        serial: `SIM${String(n).padStart(4, '0')}`,
        clockOffsetMs,
        discovery: flag('discovery'),
      });
      handles.push(h);
      console.log(
        JSON.stringify({
          msg: 'onvif-sim listening',
          n,
          xaddr: h.xaddr,
          host: h.host,
          port: h.port,
          urn: h.urn,
          serial: h.serial,
          auth: flag('open') ? null : authMode,
          username: flag('open') ? null : (opt('username') ?? 'admin'),
          discovery: h.discoveryPort !== null,
          profiles: h.profiles.map((p) => ({ token: p.token, name: p.name, width: p.width, height: p.height, rtspUri: p.rtspUri })),
        }),
      );
    }
  } catch (e) {
    await Promise.all(handles.map((h) => h.close()));
    throw e;
  }
  return handles;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const handles = await runOnvifSimCli(process.argv.slice(2), process.env);
    if (handles.length > 0) {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        process.on(sig, () => void Promise.all(handles.map((h) => h.close())).then(() => process.exit(0)));
      }
    }
  } catch (e) {
    console.error(`onvif-sim: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}
