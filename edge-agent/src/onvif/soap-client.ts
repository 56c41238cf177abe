/**
 * Our own small ONVIF SOAP client, for what node-onvif 0.1.7 cannot do: cameras that want HTTP Digest (alone, or
 * together with WS-UsernameToken), and telling apart "not ONVIF at all" from other failures.
 *
 * How it authenticates, following what the camera asks for (ONVIF Core spec 5.9.1):
 * - a `401` with `WWW-Authenticate: Digest …` → answer the strongest challenge (SHA-256 over MD5) and keep using that
 *   nonce with a rising nonce count; a second 401 for a fresh answer means the credentials are wrong;
 * - a SOAP fault `ter:NotAuthorized` (HTTP 400) → add a WS-UsernameToken header (PasswordDigest, Created on the
 *   camera's clock from GetSystemDateAndTime); a fault while sending it means the credentials are wrong.
 * Every failure is a typed `OnvifError` whose text is masked.
 */
import { randomBytes, createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import {
  OnvifAuthError,
  OnvifError,
  OnvifNotOnvifError,
  OnvifProtocolError,
  OnvifRefusedError,
  OnvifTimeoutError,
  OnvifUnreachableError,
} from './errors.ts';
import { DigestSession, challengeSchemes } from './http-digest.ts';
import { maskCredentials, maskUri, stripUserinfo } from './mask.ts';
import type { DeviceDescription, MediaProfile } from './types.ts';

const NS_DEVICE = 'http://www.onvif.org/ver10/device/wsdl';
const NS_MEDIA = 'http://www.onvif.org/ver10/media/wsdl';
const NS_SCHEMA = 'http://www.onvif.org/ver10/schema';
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
});

type Xml = Record<string, unknown>;

/** A SOAP fault other than NotAuthorized (e.g. ActionNotSupported, NoProfile). */
export class SoapFaultError extends OnvifProtocolError {
  constructor(
    device: string,
    public readonly action: string,
    public readonly faultCode: string,
    reason: string,
  ) {
    super(device, `ONVIF device ${device} answered ${action} with a SOAP fault ${faultCode}: ${reason}`, `${faultCode}: ${reason}`);
  }
}

/** Text of an element that may carry attributes (`{'#text': …, '@_x': …}`) or be a list; '' when absent. */
export const textOf = (v: unknown): string => {
  if (Array.isArray(v)) return textOf(v[0]);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return textOf((v as Xml)['#text']);
  return '';
};
const child = (v: unknown, name: string): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Xml)[name] : undefined);
const path = (v: unknown, ...names: string[]): unknown => names.reduce(child, v);
const list = (v: unknown): unknown[] => (v === undefined || v === null || v === '' ? [] : Array.isArray(v) ? v : [v]);
const numOrNull = (v: unknown): number | null => {
  const t = textOf(v).trim();
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
};

/** Faults whose subcode or reason says the security header (or its absence) was refused. */
const isNotAuthorized = (code: string, reason: string) => /NotAuthori[sz]ed|FailedAuthentication|InvalidSecurity|FailedCheck/i.test(code) || /not ?authori[sz]ed|unauthori[sz]ed|authenticat/i.test(reason);

function faultOf(body: Xml): { code: string; reason: string } | null {
  const f = child(body, 'Fault');
  if (f === undefined) return null;
  // SOAP 1.2: Code/Value, Code/Subcode/Value (nested); SOAP 1.1: faultcode/faultstring.
  const codes: string[] = [];
  let c: unknown = child(f, 'Code');
  while (c !== undefined) {
    const v = textOf(child(c, 'Value'));
    if (v) codes.push(v);
    c = child(c, 'Subcode');
  }
  if (codes.length === 0 && child(f, 'faultcode') !== undefined) codes.push(textOf(child(f, 'faultcode')));
  const reason = textOf(path(f, 'Reason', 'Text')) || textOf(child(f, 'faultstring')) || '(no reason)';
  return { code: codes.at(-1) ?? '(no code)', reason };
}

export type SoapSessionOptions = {
  /** Device-service URL (no credentials). */
  xaddr: string;
  username?: string;
  password?: string;
  /** Aborts every request; its reason is reported as a timeout of `timeoutMs`. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Send WS-UsernameToken from the first request on (default: only once the camera asks for it). */
  wsSecurity?: boolean;
};

type RawResponse = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

export class SoapSession {
  readonly device: string;
  /** The camera's clock minus ours, ms (from GetSystemDateAndTime). */
  clockOffsetMs = 0;
  /** Which ways of authenticating this camera asked for. */
  readonly used = { digest: false, wsSecurity: false };
  readonly #username: string;
  readonly #password: string;
  readonly #digest: DigestSession;
  readonly #secrets: string[];
  #wsse: boolean;

  constructor(private readonly o: SoapSessionOptions) {
    this.device = maskUri(o.xaddr);
    this.#username = o.username ?? '';
    this.#password = o.password ?? '';
    this.#digest = new DigestSession(this.#username, this.#password);
    this.#secrets = this.#password ? [this.#password] : [];
    this.#wsse = !!o.wsSecurity && !!this.#username;
  }

  get #hasCredentials() {
    return this.#username !== '';
  }

  #securityHeader(): string {
    if (!this.#wsse) return '';
    const nonce = randomBytes(16);
    const created = new Date(Date.now() + this.clockOffsetMs).toISOString().replace(/\.\d+Z$/, 'Z');
    const digest = createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(this.#password, 'utf8')])).digest('base64');
    return (
      `<wsse:Security s:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" ` +
      `xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>` +
      `<wsse:Username>${xmlEscape(this.#username)}</wsse:Username>` +
      `<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</wsse:Password>` +
      `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
      `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
    );
  }

  #envelope(body: string) {
    return (
      `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="${NS_DEVICE}" xmlns:trt="${NS_MEDIA}" xmlns:tt="${NS_SCHEMA}">` +
      `<s:Header>${this.#securityHeader()}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
    );
  }

  #mask(text: string) {
    return maskCredentials(text, this.#secrets);
  }

  #post(url: URL, xml: string, action: string, authorization: string | null): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      if (this.o.signal.aborted) return reject(new OnvifTimeoutError(this.device, this.o.timeoutMs));
      const headers: Record<string, string | number> = {
        'content-type': `application/soap+xml; charset=utf-8; action="${action}"`,
        'content-length': Buffer.byteLength(xml),
      };
      if (authorization) headers.authorization = authorization;
      const req = httpRequest(url, { method: 'POST', headers, signal: this.o.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) {
            reject(new OnvifNotOnvifError(this.device, 'not_soap', `${action}: the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
            req.destroy();
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => reject(this.#networkError(e)));
      });
      req.on('error', (e) => reject(this.#networkError(e)));
      req.end(xml);
    });
  }

  #networkError(e: Error & { code?: string }): OnvifError {
    if (this.o.signal.aborted || e.name === 'AbortError') return new OnvifTimeoutError(this.device, this.o.timeoutMs);
    const detail = this.#mask(`${e.code ? `${e.code}: ` : ''}${e.message}`);
    if (e.code === 'ECONNREFUSED') return new OnvifRefusedError(this.device, detail);
    if (e.code?.startsWith('HPE_')) return new OnvifNotOnvifError(this.device, 'not_http', detail);
    if (e.code === 'ETIMEDOUT') return new OnvifTimeoutError(this.device, this.o.timeoutMs, detail);
    if (['EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'ECONNRESET', 'EPIPE', 'EHOSTDOWN'].includes(e.code ?? '')) return new OnvifUnreachableError(this.device, detail);
    return new OnvifUnreachableError(this.device, detail);
  }

  /**
   * One SOAP call: `body` is the request element (e.g. `<tds:GetDeviceInformation/>`); returns the response element
   * named `${action}Response`. Handles the authentication the camera asks for (see the file comment).
   */
  async call(serviceUrl: string, action: string, ns: string, body: string): Promise<Xml> {
    const url = new URL(serviceUrl);
    const uri = `${url.pathname}${url.search}`;
    // At most: one 401 to learn the challenge, one stale nonce, one NotAuthorized to switch WS-Security on.
    for (let attempt = 0; attempt < 4; attempt++) {
      const authorization = this.#digest.authorization('POST', uri);
      const sentWsse = this.#wsse;
      const res = await this.#post(url, this.#envelope(body), `${ns}/${action}`, authorization);
      if (res.status === 401) {
        const www = res.headers['www-authenticate'];
        const stale = /stale\s*=\s*"?true/i.test(Array.isArray(www) ? www.join(',') : (www ?? ''));
        if (!this.#hasCredentials) throw new OnvifAuthError(this.device, `HTTP 401: the device wants credentials (${challengeSchemes(www).join(', ') || 'no challenge'}) and none were given`);
        if (authorization && !stale) throw new OnvifAuthError(this.device, `HTTP Digest: ${action} refused the username/password (401)`);
        if (this.#digest.accept(www)) {
          this.used.digest = true;
          continue;
        }
        const schemes = challengeSchemes(www);
        if (schemes.length > 0) {
          throw new OnvifProtocolError(this.device, `ONVIF device ${this.device} asks for HTTP ${schemes.join('/')} authentication, not Digest; ONVIF uses Digest or WS-UsernameToken`, `HTTP 401 ${schemes.join(', ')}`);
        }
        // A 401 without any challenge: some cameras answer a refused WS-UsernameToken so, with the SOAP fault in the
        // body; that is handled below like the usual 400. Anything else is not ONVIF.
        if (!this.#isSoap(res.body)) throw new OnvifNotOnvifError(this.device, 'not_soap', `HTTP 401 without a challenge or a SOAP fault to ${action}`);
      }
      const parsed = this.#parse(res, action);
      const fault = faultOf(parsed);
      if (fault) {
        if (isNotAuthorized(fault.code, fault.reason)) {
          if (!this.#hasCredentials) throw new OnvifAuthError(this.device, `${fault.code}: ${fault.reason} (no credentials were given)`);
          if (sentWsse) throw new OnvifAuthError(this.device, `WS-UsernameToken: ${action} refused the username/password (${fault.code}: ${fault.reason})`);
          this.#wsse = true;
          this.used.wsSecurity = true;
          continue;
        }
        throw new SoapFaultError(this.device, action, fault.code, this.#mask(fault.reason));
      }
      if (res.status < 200 || res.status >= 300) throw new OnvifProtocolError(this.device, `ONVIF device ${this.device} answered ${action} with HTTP ${res.status}`, this.#mask(res.body.slice(0, 200)));
      const answer = child(parsed, `${action}Response`);
      if (answer === undefined) throw new OnvifProtocolError(this.device, `ONVIF device ${this.device} answered ${action} without ${action}Response`, this.#mask(res.body.slice(0, 200)));
      return (answer && typeof answer === 'object' ? answer : {}) as Xml;
    }
    throw new OnvifAuthError(this.device, `${action}: the device kept asking for authentication`);
  }

  #isSoap(body: string): boolean {
    try {
      return child(parser.parse(body), 'Envelope') !== undefined;
    } catch {
      return false;
    }
  }

  /** The SOAP Body of an answer; a non-SOAP answer means the address is not an ONVIF service. */
  #parse(res: RawResponse, action: string): Xml {
    let doc: unknown;
    try {
      doc = parser.parse(res.body);
    } catch {
      doc = undefined;
    }
    const body = path(doc, 'Envelope', 'Body');
    if (body === undefined) {
      const type = String(res.headers['content-type'] ?? 'no content-type');
      throw new OnvifNotOnvifError(this.device, 'not_soap', this.#mask(`${action}: HTTP ${res.status} (${type}), ${res.body.length} bytes, no SOAP envelope`));
    }
    return (body && typeof body === 'object' ? body : {}) as Xml;
  }
}

const isRtsp = (uri: string) => /^rtsps?:\/\//i.test(uri);

/** Parses GetSystemDateAndTime's UTCDateTime into ms since the epoch; null when absent. */
export function parseDeviceTime(answer: Xml): number | null {
  const dt = path(answer, 'SystemDateAndTime', 'UTCDateTime');
  if (dt === undefined) return null;
  const n = (...p: string[]) => Number(textOf(path(dt, ...p)));
  const t = Date.UTC(n('Date', 'Year'), n('Date', 'Month') - 1, n('Date', 'Day'), n('Time', 'Hour'), n('Time', 'Minute'), n('Time', 'Second'));
  return Number.isFinite(t) ? t : null;
}

/**
 * The service URL to use for a service address the camera announced: its path on the address we reached the camera
 * at when it announced another host (cameras behind NAT or with a stale IP announce addresses we cannot reach).
 */
function serviceUrl(announced: string, xaddr: string): string {
  try {
    const a = new URL(announced);
    const x = new URL(xaddr);
    if (a.hostname === x.hostname) return a.toString();
    return new URL(`${a.pathname}${a.search}`, x.origin).toString();
  } catch {
    return xaddr;
  }
}

/**
 * Device information, media profiles, their RTSP and snapshot URIs, over our own SOAP client: GetSystemDateAndTime
 * (clock; no credentials needed), GetCapabilities (media address), GetDeviceInformation, GetProfiles, then per profile
 * GetStreamUri (RTP-Unicast over RTSP) and GetSnapshotUri. Same result shape as the node-onvif path.
 */
export async function describeOverSoap(s: SoapSession, xaddr: string): Promise<DeviceDescription> {
  try {
    const t = parseDeviceTime(await s.call(xaddr, 'GetSystemDateAndTime', NS_DEVICE, '<tds:GetSystemDateAndTime/>'));
    if (t !== null) s.clockOffsetMs = t - Date.now();
  } catch (e) {
    // A camera may want credentials even here, or not implement it; anything that says "not ONVIF here" stands.
    if (!(e instanceof OnvifAuthError || e instanceof SoapFaultError)) throw e;
  }
  let mediaXaddr: string;
  try {
    const caps = await s.call(xaddr, 'GetCapabilities', NS_DEVICE, '<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>');
    mediaXaddr = textOf(path(caps, 'Capabilities', 'Media', 'XAddr'));
  } catch (e) {
    // GetCapabilities is deprecated since ONVIF 2.x; a camera without it lists its services with GetServices.
    if (!(e instanceof SoapFaultError)) throw e;
    const services = list(child(await s.call(xaddr, 'GetServices', NS_DEVICE, '<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>'), 'Service'));
    mediaXaddr = textOf(child(services.find((x) => textOf(child(x, 'Namespace')).trim() === NS_MEDIA), 'XAddr'));
  }
  if (!mediaXaddr) throw new OnvifProtocolError(s.device, `ONVIF device ${s.device} announced no media service (no Media XAddr in GetCapabilities or GetServices)`, null);
  const media = serviceUrl(mediaXaddr, xaddr);
  const info = await s.call(xaddr, 'GetDeviceInformation', NS_DEVICE, '<tds:GetDeviceInformation/>');
  const profilesXml = list(child(await s.call(media, 'GetProfiles', NS_MEDIA, '<trt:GetProfiles/>'), 'Profiles'));
  const optional = async (action: string, body: string, pick: (x: Xml) => string): Promise<string | null> => {
    try {
      return pick(await s.call(media, action, NS_MEDIA, body)).trim() || null;
    } catch (e) {
      if (e instanceof SoapFaultError) return null;
      throw e;
    }
  };
  const profiles: MediaProfile[] = [];
  for (const p of profilesXml) {
    const token = String((p as Xml)['@_token'] ?? '');
    if (!token) continue;
    const enc = child(p, 'VideoEncoderConfiguration');
    const width = numOrNull(path(enc, 'Resolution', 'Width'));
    const height = numOrNull(path(enc, 'Resolution', 'Height'));
    const tok = `<trt:ProfileToken>${xmlEscape(token)}</trt:ProfileToken>`;
    const rtsp = await optional(
      'GetStreamUri',
      `<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>${tok}</trt:GetStreamUri>`,
      (x) => textOf(path(x, 'MediaUri', 'Uri')),
    );
    const snapshot = await optional('GetSnapshotUri', `<trt:GetSnapshotUri>${tok}</trt:GetSnapshotUri>`, (x) => textOf(path(x, 'MediaUri', 'Uri')));
    profiles.push({
      token,
      name: textOf(child(p, 'Name')).trim() || token,
      encoding: enc !== undefined ? textOf(child(enc, 'Encoding')).trim() || null : null,
      resolution: width && height ? { width, height } : null,
      fps: enc !== undefined ? numOrNull(path(enc, 'RateControl', 'FrameRateLimit')) : null,
      bitrateKbps: enc !== undefined ? numOrNull(path(enc, 'RateControl', 'BitrateLimit')) : null,
      streamUri: rtsp && isRtsp(rtsp) ? stripUserinfo(rtsp) : null,
      snapshotUri: snapshot ? stripUserinfo(snapshot) : null,
    });
  }
  const str = (name: string) => textOf(child(info, name)).trim() || null;
  return {
    xaddr,
    auth: s.used.digest ? (s.used.wsSecurity ? 'digest+ws-security' : 'digest') : s.used.wsSecurity ? 'ws-security' : 'none',
    maker: str('Manufacturer'),
    model: str('Model'),
    firmware: str('FirmwareVersion'),
    serial: str('SerialNumber'),
    hardwareId: str('HardwareId'),
    profiles,
  };
}

const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

/**
 * Fetches a camera's snapshot (the JPEG behind a profile's snapshot URI), answering an HTTP Digest challenge with the
 * given credentials. Basic is refused: over plain HTTP it would send the password in clear.
 */
export async function fetchSnapshot(o: { uri: string; username?: string; password?: string; timeoutMs: number }): Promise<Buffer> {
  let url: URL;
  try {
    url = new URL(o.uri);
  } catch {
    throw new OnvifProtocolError(null, `not a snapshot URI: ${maskUri(o.uri)}`, null);
  }
  const device = maskUri(`${url.origin}${url.pathname}`);
  if (url.protocol !== 'http:') throw new OnvifProtocolError(device, `only http:// snapshot URIs are supported, got ${maskUri(o.uri)}`, null);
  url.username = '';
  url.password = '';
  const secrets = o.password ? [o.password] : [];
  const signal = AbortSignal.timeout(o.timeoutMs);
  const digest = new DigestSession(o.username ?? '', o.password ?? '');
  const get = (authorization: string | null) =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'GET', headers: authorization ? { authorization } : {}, signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_SNAPSHOT_BYTES) {
            reject(new OnvifProtocolError(device, `the snapshot at ${device} is larger than ${MAX_SNAPSHOT_BYTES} bytes`, null));
            req.destroy();
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', (e: Error & { code?: string }) => {
        if (signal.aborted || e.name === 'AbortError') return reject(new OnvifTimeoutError(device, o.timeoutMs));
        const detail = maskCredentials(`${e.code ?? ''} ${e.message}`.trim(), secrets);
        reject(e.code === 'ECONNREFUSED' ? new OnvifRefusedError(device, detail) : new OnvifUnreachableError(device, detail));
      });
      req.end();
    });
  let res = await get(null);
  if (res.status === 401) {
    const www = res.headers['www-authenticate'];
    if (!o.username) throw new OnvifAuthError(device, 'the snapshot wants credentials and none were given');
    if (!digest.accept(www)) throw new OnvifProtocolError(device, `the snapshot at ${device} asks for HTTP ${challengeSchemes(www).join('/') || 'authentication'}, not Digest`, null);
    res = await get(digest.authorization('GET', `${url.pathname}${url.search}`));
    if (res.status === 401) throw new OnvifAuthError(device, 'HTTP Digest: the snapshot refused the username/password (401)');
  }
  if (res.status !== 200) throw new OnvifProtocolError(device, `the snapshot at ${device} answered HTTP ${res.status}`, null);
  if (res.body.length < 4 || res.body[0] !== 0xff || res.body[1] !== 0xd8) throw new OnvifProtocolError(device, `the snapshot at ${device} is not a JPEG (${String(res.headers['content-type'] ?? 'no content-type')})`, null);
  return res.body;
}
