/**
 * `agent discover`: finds ONVIF cameras on the store's network (WS-Discovery), asks each for its maker, model,
 * media profiles and stream URIs, and prints them with credentials masked, so an installer can fill in the agent's
 * camera configuration.
 *
 * WS-Discovery multicasts on the local network: run it on the store's network, never on a machine where that is not
 * allowed (tests run it inside a network namespace of their own).
 */
import { parseArgs } from 'node:util';
import {
  chooseProfile,
  createNodeOnvifGateway,
  maskCredentials,
  maskUri,
  OnvifError,
  type DeviceDescription,
  type DiscoveredDevice,
  type OnvifGateway,
} from '../onvif/index.ts';

export type DiscoverOptions = {
  /** How long to wait for ProbeMatches, ms (default 3000). */
  timeoutMs?: number;
  username?: string;
  password?: string;
  /** Per-device ONVIF query deadline, ms (default 10 000). */
  describeTimeoutMs?: number;
  /** One JSON object per line instead of text. */
  json?: boolean;
  gateway?: OnvifGateway;
};

export type DiscoverReport = {
  discovered: DiscoveredDevice;
  description: DeviceDescription | null;
  error: { code: string; message: string } | null;
};

export type Output = { write(chunk: string): unknown };

export class DiscoverUsageError extends Error {}

export const DISCOVER_USAGE = `usage: agent discover [--timeout ms] [--username u --password p] [--json]
  --timeout ms     how long to wait for cameras to answer the probe (100..60000, default 3000)
  --username u     ONVIF username for the cameras (or env ONVIF_USERNAME)
  --password p     ONVIF password (or env ONVIF_PASSWORD; prefer the env: flags show in the process list)
  --json           one JSON object per camera per line`;

/** Parses `discover`'s flags; credentials fall back to ONVIF_USERNAME / ONVIF_PASSWORD. Throws DiscoverUsageError. */
export function parseDiscoverArgs(argv: string[], env: Record<string, string | undefined> = process.env): DiscoverOptions {
  let values: { timeout?: string; username?: string; password?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { timeout: { type: 'string' }, username: { type: 'string' }, password: { type: 'string' }, json: { type: 'boolean' } },
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
  const username = values.username ?? env.ONVIF_USERNAME;
  const password = values.password ?? env.ONVIF_PASSWORD;
  if (password && !username) throw new DiscoverUsageError('--password (or ONVIF_PASSWORD) needs --username (or ONVIF_USERNAME)');
  if (username) opts.username = username;
  if (password) opts.password = password;
  return opts;
}

const errorOf = (e: unknown, secrets: string[]): { code: string; message: string } =>
  e instanceof OnvifError
    ? { code: e.code, message: maskCredentials(e.detail ? `${e.message}: ${e.detail}` : e.message, secrets) }
    : { code: 'internal', message: maskCredentials(e instanceof Error ? e.message : String(e), secrets) };

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

function textReport(r: DiscoverReport, i: number, hasCredentials: boolean, secrets: string[]): string {
  const d = r.discovered;
  const lines: string[] = [];
  lines.push(`[${i + 1}] ${d.name ?? '(no name)'}  ${d.urn}`);
  lines.push(`    xaddr     ${d.xaddr ? maskUri(d.xaddr) : `(none usable; announced: ${d.xaddrs.map(maskUri).join(' ') || 'nothing'})`}`);
  if (d.hardware || d.location) lines.push(`    scopes    hardware=${d.hardware ?? '-'} location=${d.location ?? '-'}`);
  if (r.description) {
    const x = r.description;
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
    const u = new URL(x.xaddr);
    let token = '';
    try {
      token = `, profileToken: ${chooseProfile(x, undefined).token}`;
    } catch {
      // no profile with a stream URI: nothing to suggest
    }
    lines.push(`    config    onvif: { host: ${u.hostname}, port: ${u.port || 80}${token} }`);
  }
  if (r.error) {
    lines.push(`    error     ${r.error.code}: ${r.error.message}`);
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
      })) ?? [],
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
  const started = Date.now();
  const found = await gateway.discover(timeoutMs);
  found.sort((a, b) => (a.xaddr ?? a.urn).localeCompare(b.xaddr ?? b.urn));
  if (!opts.json) out.write(`ONVIF discovery: ${found.length} device(s) answered within ${timeoutMs} ms\n`);

  const reports = await mapLimit(found, 4, async (d): Promise<DiscoverReport> => {
    if (!d.xaddr) return { discovered: d, description: null, error: { code: 'onvif_bad_target', message: 'the device announced no http:// XAddr' } };
    try {
      const description = await gateway.describe({ xaddr: d.xaddr, username: opts.username, password: opts.password, timeoutMs: opts.describeTimeoutMs });
      return { discovered: d, description, error: null };
    } catch (e) {
      return { discovered: d, description: null, error: errorOf(e, secrets) };
    }
  });

  reports.forEach((r, i) => out.write(opts.json ? jsonReport(r, secrets) : textReport(r, i, !!opts.username, secrets)));
  if (!opts.json) {
    const ok = reports.filter((r) => r.description).length;
    out.write(`done in ${Date.now() - started} ms: ${ok} described, ${reports.length - ok} failed\n`);
  }
  return reports;
}
