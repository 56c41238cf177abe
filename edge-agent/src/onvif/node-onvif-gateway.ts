/**
 * `OnvifGateway` over node-onvif 0.1.7. The only file that imports node-onvif.
 *
 * What node-onvif does and we work around:
 * - `OnvifDevice.init()` makes 12 SOAP calls for a 2-profile camera (see docs/onvif.md); each HTTP request has a
 *   hard-coded 3 s timeout, and errors come back as plain `Error`s whose text we classify into typed errors.
 * - It puts the username into the XML unescaped and refuses ('<', '>', non-ASCII) in username or password.
 * - Its discovery (`startProbe`) is module-wide state, so probes are serialized here.
 * - Constructed with `address` it rewrites every returned URI oddly; we always pass a full `xaddr`.
 * - It speaks WS-UsernameToken only. When a camera answers HTTP 401 (it wants HTTP Digest), or answers something
 *   node-onvif cannot read, `describe` asks again with our own SOAP client (`soap-client.ts`), which answers the
 *   Digest challenge (and adds WS-UsernameToken if the camera wants both) and tells a non-ONVIF answer apart.
 */
import onvif from 'node-onvif';
import { Mutex } from '../lib/mutex.ts';
import {
  OnvifAuthError,
  OnvifError,
  OnvifProtocolError,
  OnvifRefusedError,
  OnvifTargetError,
  OnvifTimeoutError,
  OnvifUnreachableError,
} from './errors.ts';
import { maskCredentials, maskUri, stripUserinfo } from './mask.ts';
import { describeOverSoap, SoapSession } from './soap-client.ts';
import type { DeviceDescription, DiscoveredDevice, MediaProfile, OnvifGateway, OnvifTarget } from './types.ts';

export const DEFAULT_DESCRIBE_TIMEOUT_MS = 10_000;

/** The device-service URL for a target, validated. Throws OnvifTargetError. */
export function targetXaddr(t: Pick<OnvifTarget, 'xaddr' | 'host' | 'port'>): string {
  let url: URL;
  if (t.xaddr) {
    try {
      url = new URL(t.xaddr);
    } catch {
      throw new OnvifTargetError(`not a URL: ${maskCredentials(t.xaddr)}`);
    }
  } else if (t.host) {
    if (!/^[A-Za-z0-9.:\-[\]%]+$/.test(t.host)) throw new OnvifTargetError(`not a host name or address: ${JSON.stringify(t.host)}`);
    const port = t.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new OnvifTargetError(`port must be 1..65535, got ${port}`);
    const host = t.host.includes(':') && !t.host.startsWith('[') ? `[${t.host}]` : t.host;
    try {
      url = new URL(`http://${host}:${port}/onvif/device_service`);
    } catch {
      throw new OnvifTargetError(`not a host name or address: ${JSON.stringify(t.host)}`);
    }
  } else {
    throw new OnvifTargetError('an ONVIF target needs xaddr or host');
  }
  if (url.protocol !== 'http:') throw new OnvifTargetError(`only http:// device addresses are supported (node-onvif has no https), got ${maskUri(url.toString())}`);
  url.username = '';
  url.password = '';
  return url.toString();
}

// node-onvif refuses these in user/pass (its isInvalidValue) and would throw from its constructor.
const NODE_ONVIF_BAD_CHARS = /[^\x20-\x7e]|[<>]/;

/** Classifies a node-onvif error into one of ours. Exported for tests. */
export function classifyNodeOnvifError(e: unknown, device: string, secrets: string[]): OnvifError {
  if (e instanceof OnvifError) return e;
  const raw = e instanceof Error ? e.message : String(e);
  const detail = maskCredentials(raw, secrets);
  if (/not ?authori[sz]ed|\b401\b|unauthori[sz]ed|FailedAuthentication|authority failure|Sender not Authorized/i.test(raw)) {
    return new OnvifAuthError(device, detail);
  }
  if (/ECONNREFUSED/.test(raw)) return new OnvifRefusedError(device, detail);
  if (/EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET|EADDRNOTAVAIL/.test(raw)) {
    return new OnvifUnreachableError(device, detail);
  }
  // node-onvif aborts a request after its own 3 s timeout, which surfaces as "socket hang up".
  if (/socket hang up|ETIMEDOUT|timed? ?out/i.test(raw)) return new OnvifTimeoutError(device, 3000, detail);
  return new OnvifProtocolError(device, `ONVIF device ${device} answered with an error`, detail);
}

const str = (v: unknown): string | null => {
  if (typeof v === 'string') return v.trim() || null;
  // xml2js gives {_: text, $: attrs} when an element has attributes.
  if (v && typeof v === 'object' && typeof (v as { _?: unknown })._ === 'string') return ((v as { _: string })._).trim() || null;
  return null;
};

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

const isRtsp = (uri: string) => /^rtsps?:\/\//i.test(uri);

const scopeValue = (scopes: string[], kind: string): string | null => {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const hit = scopes.find((s) => s.startsWith(prefix));
  if (!hit) return null;
  const v = hit.slice(prefix.length);
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
};

export type NodeOnvifGatewayOptions = { defaultTimeoutMs?: number };

// node-onvif's discovery is one module-wide object: two probes at once would share (and reset) its state.
const probeLock = new Mutex();

export function createNodeOnvifGateway(opts: NodeOnvifGatewayOptions = {}): OnvifGateway {
  const defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_DESCRIBE_TIMEOUT_MS;

  async function describe(target: OnvifTarget): Promise<DeviceDescription> {
    const xaddr = targetXaddr(target);
    const device = maskUri(xaddr);
    const username = target.username ?? '';
    const password = target.password ?? '';
    const secrets = [password];
    if (password && !username) throw new OnvifTargetError(`a password was given for ${device} without a username`, device);
    const timeoutMs = target.timeoutMs ?? defaultTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new OnvifTargetError(`timeoutMs must be a positive integer, got ${timeoutMs}`, device);
    if (/[\u0000-\u001f\u007f]/.test(username) || /[\u0000-\u001f\u007f]/.test(password)) {
      throw new OnvifTargetError(`ONVIF credentials for ${device} contain control characters`, device);
    }
    // node-onvif cannot send '<', '>' or non-ASCII credentials: our own client can (XML-escaped, UTF-8), and follows
    // whatever the camera asks for from the first request on.
    if (NODE_ONVIF_BAD_CHARS.test(username) || NODE_ONVIF_BAD_CHARS.test(password)) {
      return describeOverSoap(new SoapSession({ xaddr, username, password, timeoutMs, signal: AbortSignal.timeout(timeoutMs) }), xaddr);
    }

    let dev: onvif.OnvifDevice;
    try {
      // node-onvif writes the username into the XML as is; escape '&' ('<' and '>' were refused above).
      dev = new onvif.OnvifDevice({ xaddr, user: username.replace(/&/g, '&amp;'), pass: password });
    } catch (e) {
      throw new OnvifTargetError(`node-onvif refused the target ${device}: ${maskCredentials((e as Error).message, secrets)}`, device);
    }

    const started = Date.now();
    const init = dev.init();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OnvifTimeoutError(device, timeoutMs)), timeoutMs);
    });
    // node-onvif cannot be cancelled: after our deadline its requests run out on their own (3 s each at most).
    init.catch(() => undefined);
    try {
      await Promise.race([init, deadline]);
    } catch (e) {
      clearTimeout(timer);
      const raw = e instanceof Error ? e.message : String(e);
      const err = classifyNodeOnvifError(e, device, secrets);
      // HTTP 401 is the camera asking for HTTP Digest; a protocol error may be a camera node-onvif cannot read, or no
      // ONVIF service at all. Either way our own client asks again and answers precisely.
      if (!/(?:^|Error: )401\b/.test(raw) && !(err instanceof OnvifProtocolError)) throw err;
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw new OnvifTimeoutError(device, timeoutMs);
      const session = new SoapSession({ xaddr, username, password, timeoutMs, signal: AbortSignal.timeout(left) });
      return describeOverSoap(session, xaddr);
    } finally {
      clearTimeout(timer);
    }

    const info = dev.getInformation() ?? {};
    const profiles: MediaProfile[] = dev.getProfileList().map((p) => {
      const enc = p.video.encoder;
      const rtsp = str(p.stream.rtsp);
      return {
        token: p.token,
        name: str(p.name) ?? p.token,
        encoding: enc ? str(enc.encoding) : null,
        resolution: enc && num(enc.resolution.width) && num(enc.resolution.height) ? { width: enc.resolution.width, height: enc.resolution.height } : null,
        fps: enc ? num(enc.framerate) : null,
        bitrateKbps: enc ? num(enc.bitrate) : null,
        streamUri: rtsp && isRtsp(rtsp) ? stripUserinfo(rtsp) : null,
        snapshotUri: str(p.snapshot) ? stripUserinfo(p.snapshot) : null,
      };
    });
    return {
      xaddr,
      // node-onvif sends WS-UsernameToken whenever it has a username; an open camera ignores it.
      auth: username ? 'ws-security' : 'none',
      maker: str(info.Manufacturer),
      model: str(info.Model),
      firmware: str(info.FirmwareVersion),
      serial: str(info.SerialNumber),
      hardwareId: str(info.HardwareId),
      profiles,
    };
  }

  async function discover(timeoutMs: number): Promise<DiscoveredDevice[]> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
      throw new OnvifTargetError(`discovery timeout must be an integer 100..60000 ms, got ${timeoutMs}`);
    }
    const run = async (): Promise<DiscoveredDevice[]> => {
      onvif._DISCOVERY_WAIT = timeoutMs;
      const found = await onvif.startProbe();
      return found.map((d) => {
        const xaddrs = (d.xaddrs ?? []).filter((x) => typeof x === 'string' && x.length > 0);
        const scopes = (d.scopes ?? []).filter((s) => typeof s === 'string' && s.length > 0);
        const types = (Array.isArray(d.types) ? d.types : String(d.types ?? '').split(/\s+/)).filter(Boolean);
        const usable = xaddrs.find((x) => {
          try {
            return new URL(x).protocol === 'http:';
          } catch {
            return false;
          }
        });
        return {
          urn: d.urn,
          xaddr: usable ? stripUserinfo(usable) : null,
          xaddrs: xaddrs.map(stripUserinfo),
          name: scopeValue(scopes, 'name'),
          hardware: scopeValue(scopes, 'hardware'),
          location: scopeValue(scopes, 'location'),
          scopes,
          types,
        };
      });
    };
    return probeLock.run(run);
  }

  return { describe, discover };
}
