/**
 * `agent discover`: finds ONVIF cameras on the store's network (WS-Discovery), or checks the addresses given with
 * `--host`, asks each for its maker, model, media profiles and stream URIs, and prints them with credentials masked,
 * with a ready-to-paste camera entry (the agent's config format) per profile. A device that fails says plainly why:
 * wrong credentials, not an ONVIF device (a web page, another service, a closed port), or unreachable.
 *
 * WS-Discovery multicasts on the local network: run it on the store's network, never on a machine where that is not
 * allowed (tests run it inside a network namespace of their own).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { CAMERA_KEY } from '@mamoru/contract/agent-api';
import {
  chooseProfile,
  createNodeOnvifGateway,
  fetchSnapshot,
  maskCredentials,
  maskUri,
  OnvifError,
  type DeviceDescription,
  targetXaddr,
  type DiscoveredDevice,
  type MediaProfile,
  type OnvifGateway,
} from '../onvif/index.ts';

export type DiscoverOptions = {
  /** How long to wait for ProbeMatches, ms (default 3000). */
  timeoutMs?: number;
  /** Device-service addresses to check instead of probing (from `--host host[:port]` or `--host http://…`). */
  hosts?: string[];
  /** Folder to save each entry's snapshot in, as `<key>.jpg` (so the installer sees which camera is which). */
  snapshotsDir?: string;
  username?: string;
  password?: string;
  /** Per-device ONVIF query deadline, ms (default 10 000). */
  describeTimeoutMs?: number;
  /** One JSON object per line instead of text. */
  json?: boolean;
  gateway?: OnvifGateway;
};

/** What went wrong, in the installer's terms. */
export type Problem = 'credentials' | 'not_onvif' | 'unreachable' | 'other';

export type DiscoverError = { code: string; message: string; problem: Problem; explanation: string };

/** One ready-to-paste entry of the agent's `cameras:` list (edge-agent/src/config.ts); the password is left out. */
export type CameraEntry = {
  key: string;
  name: string;
  onvif: { host: string; port: number; username?: string; profileToken: string };
};

export type DiscoverReport = {
  discovered: DiscoveredDevice;
  description: DeviceDescription | null;
  error: DiscoverError | null;
  /** One camera entry per profile that has an RTSP URI (empty on error). */
  entries: CameraEntry[];
  /** The profile `resolveStreamUrl` would pick without a profileToken (the largest with an RTSP URI). */
  recommendedProfile: string | null;
  /** With `snapshotsDir`: per entry key, the file written or why not. */
  snapshots: { key: string; file: string | null; bytes: number | null; error: string | null }[];
};

export type Output = { write(chunk: string): unknown };

export class DiscoverUsageError extends Error {}

export const DISCOVER_USAGE = `usage: agent discover [--timeout ms] [--host h[:port]]... [--username u --password p] [--snapshots dir] [--json]
  --timeout ms     how long to wait for cameras to answer the probe (100..60000, default 3000)
  --host h[:port]  check this address instead of probing the network (repeatable; port 80 by default;
                   or a full http://h:port/onvif/device_service)
  --snapshots dir  save each profile's snapshot as dir/<key>.jpg, to see which camera is which
  --username u     ONVIF username for the cameras (or env ONVIF_USERNAME)
  --password p     ONVIF password (or env ONVIF_PASSWORD; prefer the env: flags show in the process list)
  --json           one JSON object per camera per line`;

/** Parses `discover`'s flags; credentials fall back to ONVIF_USERNAME / ONVIF_PASSWORD. Throws DiscoverUsageError. */
export function parseDiscoverArgs(argv: string[], env: Record<string, string | undefined> = process.env): DiscoverOptions {
  let values: { timeout?: string; host?: string[]; username?: string; password?: string; json?: boolean; snapshots?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { timeout: { type: 'string' }, host: { type: 'string', multiple: true }, snapshots: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, json: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new DiscoverUsageError(maskCredentials((e as Error).message, [env.ONVIF_PASSWORD]));
  }
  const opts: DiscoverOptions = { json: values.json === true };
  if (values.timeout !== undefined) {
    const n = Number(values.timeout);
    if (!Number.isInteger(n) || n < 100 || n > 60_000) throw new DiscoverUsageError(`--timeout must be an integer 100..60000 (ms), got ${JSON.stringify(values.timeout)}`);
    opts.timeoutMs = n;
  }
  if (values.host) opts.hosts = values.host.map(hostToXaddr);
  if (values.snapshots !== undefined) {
    if (values.snapshots.trim() === '') throw new DiscoverUsageError('--snapshots needs a folder');
    opts.snapshotsDir = values.snapshots;
  }
  const username = values.username ?? env.ONVIF_USERNAME;
  const password = values.password ?? env.ONVIF_PASSWORD;
  if (password && !username) throw new DiscoverUsageError('--password (or ONVIF_PASSWORD) needs --username (or ONVIF_USERNAME)');
  if (username) opts.username = username;
  if (password) opts.password = password;
  return opts;
}

/** `host`, `host:port`, `[v6]:port` or a full http:// device-service URL → the device-service URL. */
export function hostToXaddr(arg: string): string {
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(arg)) return targetXaddr({ xaddr: arg });
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(arg);
    if (!m) return targetXaddr({ host: arg });
    return targetXaddr({ host: m[1]!.replace(/^\[|\]$/g, ''), port: m[2] !== undefined ? Number(m[2]) : 80 });
  } catch (e) {
    throw new DiscoverUsageError(`--host ${maskCredentials(arg)}: ${(e as Error).message}`);
  }
}

/** The plain statement for an error code: what the installer should understand and do. */
export function explain(code: string, hasCredentials: boolean): { problem: Problem; explanation: string } {
  switch (code) {
    case 'onvif_auth_failed':
      return hasCredentials
        ? { problem: 'credentials', explanation: 'wrong username or password: the device speaks ONVIF and refused them' }
        : { problem: 'credentials', explanation: 'the device speaks ONVIF and wants a username and password: give --username and ONVIF_PASSWORD' };
    case 'onvif_not_onvif':
      return { problem: 'not_onvif', explanation: 'not an ONVIF device at this address: something answers, but not ONVIF (check the port, or whether this is a camera)' };
    case 'onvif_refused':
      return { problem: 'not_onvif', explanation: 'no ONVIF service at this address: the host is up but nothing listens on that port (check the port; ONVIF may be turned off in the camera)' };
    case 'onvif_unreachable':
      return { problem: 'unreachable', explanation: 'unreachable: no route to the host, or the name does not resolve (check the address and the network)' };
    case 'onvif_timeout':
      return { problem: 'unreachable', explanation: 'no answer in time: the host is down, a firewall drops the traffic, or the device is overloaded' };
    default:
      return { problem: 'other', explanation: 'the device answered ONVIF but something else went wrong (see the error)' };
  }
}

const errorOf = (e: unknown, secrets: string[], hasCredentials: boolean): DiscoverError => {
  const code = e instanceof OnvifError ? e.code : 'internal';
  const message = e instanceof OnvifError ? (e.detail ? `${e.message}: ${e.detail}` : e.message) : e instanceof Error ? e.message : String(e);
  return { code, message: maskCredentials(message, secrets), ...explain(code, hasCredentials) };
};

const AUTH_LABEL: Record<DeviceDescription['auth'], string> = {
  'ws-security': 'WS-UsernameToken',
  digest: 'HTTP Digest',
  'digest+ws-security': 'HTTP Digest + WS-UsernameToken',
  none: 'none (open camera)',
};

const slug = (s: string) =>
  s
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase();

/**
 * One camera entry per profile with an RTSP URI, in the agent's config format. Keys are made from the device's name
 * (or model and serial when the name is not plain ASCII) and the profile token, unique within `taken`.
 */
export function cameraEntries(d: DiscoveredDevice, x: DeviceDescription, username: string | undefined, taken: Set<string>): CameraEntry[] {
  const u = new URL(x.xaddr);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 80);
  // A name in another script (レジ1) would slug to almost nothing: then model and serial make the key.
  const asciiName = d.name && /^[\x20-\x7e]+$/.test(d.name) ? slug(d.name) : '';
  const base = asciiName || slug([x.model, x.serial].filter(Boolean).join('-')) || slug(host) || 'camera';
  const label = d.name ?? ([x.maker, x.model].filter(Boolean).join(' ') || host);
  const out: CameraEntry[] = [];
  for (const p of x.profiles.filter((q: MediaProfile) => q.streamUri)) {
    let key = `${base.slice(0, 40)}-${slug(p.token).slice(0, 20) || 'profile'}`.replace(/-+/g, '-').replace(/^-/, '');
    if (!CAMERA_KEY.test(key)) key = `camera-${out.length + 1}`;
    for (let n = 2; taken.has(key); n++) key = `${key.replace(/-\d+$/, '')}-${n}`;
    taken.add(key);
    const res = p.resolution ? ` ${p.resolution.width}x${p.resolution.height}` : '';
    out.push({
      key,
      name: `${label} ${p.name}${res}`.slice(0, 200),
      onvif: { host, port, ...(username ? { username } : {}), profileToken: p.token },
    });
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

function textReport(r: DiscoverReport, i: number, hasCredentials: boolean, hasPassword: boolean, secrets: string[]): string {
  const d = r.discovered;
  const lines: string[] = [];
  lines.push(`[${i + 1}] ${d.name ?? '(no name)'}  ${d.urn}`);
  lines.push(`    xaddr     ${d.xaddr ? maskUri(d.xaddr) : `(none usable; announced: ${d.xaddrs.map(maskUri).join(' ') || 'nothing'})`}`);
  if (d.hardware || d.location) lines.push(`    scopes    hardware=${d.hardware ?? '-'} location=${d.location ?? '-'}`);
  if (r.description) {
    const x = r.description;
    lines.push(`    auth      ${AUTH_LABEL[x.auth]}`);
    lines.push(`    maker     ${x.maker ?? '-'}`);
    lines.push(`    model     ${x.model ?? '-'}`);
    lines.push(`    firmware  ${x.firmware ?? '-'}`);
    lines.push(`    serial    ${x.serial ?? '-'}`);
    lines.push(`    profiles  ${x.profiles.length}`);
    for (const p of x.profiles) {
      const res = p.resolution ? `${p.resolution.width}x${p.resolution.height}` : '?x?';
      const fps = p.fps !== null ? ` ${p.fps}fps` : '';
      lines.push(`      ${p.token}  ${p.name}  ${p.encoding ?? '?'} ${res}${fps}  ${p.streamUri ? maskUri(p.streamUri) : '(no RTSP URI)'}`);
    }
    if (r.recommendedProfile) lines.push(`    record    ${r.recommendedProfile} (the largest profile with an RTSP URI; recorded when no profileToken is set)`);
    if (r.entries.length > 0) {
      lines.push(`    config    paste under \`cameras:\` in the agent's config, one entry per profile${hasPassword ? ' (add `password:` under onvif; it is not printed)' : ''}:`);
      const yaml = toYaml(r.entries, { lineWidth: 0 }).trimEnd();
      for (const l of yaml.split('\n')) lines.push(`      ${l}`);
    } else {
      lines.push('    config    no profile has an RTSP URI: nothing to record');
    }
    for (const sn of r.snapshots) lines.push(`    snapshot  ${sn.key}: ${sn.file ? `${sn.file} (${sn.bytes} bytes)` : `not saved: ${sn.error}`}`);
  }
  if (r.error) {
    lines.push(`    error     ${r.error.code}: ${r.error.message}`);
    lines.push(`    problem   ${r.error.explanation}`);
    if (r.error.code === 'onvif_auth_failed' && !hasCredentials) lines.push('    hint      give --username/--password (or ONVIF_USERNAME/ONVIF_PASSWORD)');
  }
  return maskCredentials(lines.join('\n'), secrets) + '\n';
}

function jsonReport(r: DiscoverReport, secrets: string[]): string {
  const d = r.discovered;
  const x = r.description;
  const o = {
    urn: d.urn,
    name: d.name,
    hardware: d.hardware,
    location: d.location,
    xaddr: d.xaddr ? maskUri(d.xaddr) : null,
    xaddrs: d.xaddrs.map(maskUri),
    auth: x?.auth ?? null,
    maker: x?.maker ?? null,
    model: x?.model ?? null,
    firmware: x?.firmware ?? null,
    serial: x?.serial ?? null,
    profiles:
      x?.profiles.map((p) => ({
        token: p.token,
        name: p.name,
        encoding: p.encoding,
        width: p.resolution?.width ?? null,
        height: p.resolution?.height ?? null,
        fps: p.fps,
        streamUri: p.streamUri ? maskUri(p.streamUri) : null,
        snapshotUri: p.snapshotUri ? maskUri(p.snapshotUri) : null,
      })) ?? [],
    recommendedProfile: r.recommendedProfile,
    cameras: r.entries,
    snapshots: r.snapshots,
    error: r.error,
  };
  return maskCredentials(JSON.stringify(o), secrets) + '\n';
}

/**
 * Probes, describes each device found (with the given credentials), writes a report per device to `out`, and returns
 * the reports. Never prints a password: URIs are masked and the given password is redacted from every line.
 */
export async function runDiscover(opts: DiscoverOptions, out: Output): Promise<DiscoverReport[]> {
  const gateway = opts.gateway ?? createNodeOnvifGateway();
  const timeoutMs = opts.timeoutMs ?? 3000;
  const secrets = opts.password ? [opts.password] : [];
  const hasCredentials = !!opts.username;
  const started = Date.now();
  let found: DiscoveredDevice[];
  if (opts.hosts && opts.hosts.length > 0) {
    // Addresses given: no multicast; each is checked as it is.
    found = opts.hosts.map((xaddr) => ({ urn: '(given address)', xaddr, xaddrs: [xaddr], name: null, hardware: null, location: null, scopes: [], types: [] }));
    if (!opts.json) out.write(`ONVIF check of ${found.length} address(es) given with --host\n`);
  } else {
    found = await gateway.discover(timeoutMs);
    found.sort((a, b) => (a.xaddr ?? a.urn).localeCompare(b.xaddr ?? b.urn));
    if (!opts.json) out.write(`ONVIF discovery: ${found.length} device(s) answered within ${timeoutMs} ms\n`);
  }

  const described = await mapLimit(found, 4, async (d): Promise<Omit<DiscoverReport, 'entries' | 'recommendedProfile' | 'snapshots'>> => {
    if (!d.xaddr) return { discovered: d, description: null, error: { code: 'onvif_bad_target', message: 'the device announced no http:// XAddr', ...explain('onvif_bad_target', hasCredentials) } };
    try {
      const description = await gateway.describe({ xaddr: d.xaddr, username: opts.username, password: opts.password, timeoutMs: opts.describeTimeoutMs });
      return { discovered: d, description, error: null };
    } catch (e) {
      return { discovered: d, description: null, error: errorOf(e, secrets, hasCredentials) };
    }
  });
  // Keys are made in output order so that they are unique across every device printed.
  const taken = new Set<string>();
  const reports: DiscoverReport[] = described.map((r) => {
    if (!r.description) return { ...r, entries: [], recommendedProfile: null, snapshots: [] };
    let recommendedProfile: string | null = null;
    try {
      recommendedProfile = chooseProfile(r.description, undefined).token;
    } catch {
      // no profile with a stream URI: nothing to recommend
    }
    return { ...r, entries: cameraEntries(r.discovered, r.description, opts.username, taken), recommendedProfile, snapshots: [] };
  });
  if (opts.snapshotsDir) {
    const dir = opts.snapshotsDir;
    await mkdir(dir, { recursive: true });
    await mapLimit(reports, 4, async (r) => {
      for (const e of r.entries) {
        const uri = r.description?.profiles.find((p) => p.token === e.onvif.profileToken)?.snapshotUri;
        if (!uri) {
          r.snapshots.push({ key: e.key, file: null, bytes: null, error: 'the profile has no snapshot URI' });
          continue;
        }
        try {
          const jpeg = await fetchSnapshot({ uri, username: opts.username, password: opts.password, timeoutMs: opts.describeTimeoutMs ?? 10_000 });
          const file = join(dir, `${e.key}.jpg`);
          await writeFile(file, jpeg);
          r.snapshots.push({ key: e.key, file, bytes: jpeg.length, error: null });
        } catch (err) {
          r.snapshots.push({ key: e.key, file: null, bytes: null, error: errorOf(err, secrets, hasCredentials).message });
        }
      }
    });
  }

  reports.forEach((r, i) => out.write(opts.json ? jsonReport(r, secrets) : textReport(r, i, hasCredentials, !!opts.password, secrets)));
  if (!opts.json) {
    const ok = reports.filter((r) => r.description).length;
    out.write(`done in ${Date.now() - started} ms: ${ok} described, ${reports.length - ok} failed\n`);
  }
  return reports;
}
