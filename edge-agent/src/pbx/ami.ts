/**
 * Asterisk Manager Interface client: one TCP connection, `Action: Login` with an `Events` mask, then a stream of
 * `Key: Value` messages (keys may repeat, so a message is a multimap). A dropped connection or a refused login is
 * retried with capped exponential backoff and full jitter. The connection's state (and why it is not connected) is
 * written to `<stateDir>/pbx/<id>/ami-status.json`, which `mamoru-agent status` shows.
 *
 * After every (re)login the client asks `CoreShowChannels`: the channels that still exist tell the live-call tracker
 * which calls ended while it was not listening (their hangup events are lost; the CDR files still have them).
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { Backoff, sleep } from '../lib/backoff.ts';
import type { Logger } from '../lib/logger.ts';
import type { AmiConfig } from './config.ts';

/** One AMI message: every `Key: Value` line in order (keys may repeat). */
export class AmiMessage {
  constructor(readonly fields: [string, string][]) {}
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    return this.fields.find(([f]) => f.toLowerCase() === k)?.[1];
  }
  all(key: string): string[] {
    const k = key.toLowerCase();
    return this.fields.filter(([f]) => f.toLowerCase() === k).map(([, v]) => v);
  }
  get event(): string | undefined {
    return this.get('Event');
  }
}

/** Splits an AMI byte stream into messages (the banner line first, then blocks ending in an empty line). */
export class AmiParser {
  private buf = '';
  banner: string | null = null;
  push(chunk: string): AmiMessage[] {
    this.buf += chunk;
    const out: AmiMessage[] = [];
    if (this.banner === null) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) return out;
      this.banner = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
    }
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buf);
      if (!m) break;
      const block = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      const fields: [string, string][] = [];
      for (const line of block.split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        fields.push([line.slice(0, i).trim(), line.slice(i + 1).replace(/^ /, '')]);
      }
      if (fields.length) out.push(new AmiMessage(fields));
    }
    return out;
  }
}

export type AmiState = 'connecting' | 'connected' | 'auth_failed' | 'disconnected' | 'stopped';
export type AmiStatus = { state: AmiState; since: string; error: string | null; host: string; port: number; username: string; connects: number; lastEventAt: string | null };

export type AmiHandlers = {
  /** Every event after login (in arrival order). `atMs`: the event's `Timestamp` header, else the agent clock. */
  onEvent(msg: AmiMessage, atMs: number): void;
  /** After each login: the linkedids that still have channels at the PBX. */
  onChannels?(linkedIds: Set<string>, atMs: number): void;
};

export class AmiClient {
  private socket: Socket | null = null;
  private stopped = false;
  private loop: Promise<void> | null = null;
  private readonly backoff: Backoff;
  private readonly wake = new AbortController();
  status: AmiStatus;

  constructor(
    private readonly cfg: AmiConfig,
    private readonly o: { pbxId: string; stateDir: string; log: Logger; handlers: AmiHandlers; now?: () => number; random?: () => number },
  ) {
    this.backoff = new Backoff({ baseMs: cfg.reconnect.baseMs, capMs: Math.max(cfg.reconnect.capMs, cfg.reconnect.baseMs), random: o.random });
    this.status = { state: 'disconnected', since: new Date(this.now()).toISOString(), error: null, host: cfg.host, port: cfg.port, username: cfg.username, connects: 0, lastEventAt: null };
    o.log.addSecrets(cfg.secret);
  }

  private now() {
    return (this.o.now ?? Date.now)();
  }

  private get statusFile() {
    return join(this.o.stateDir, 'pbx', this.o.pbxId, 'ami-status.json');
  }

  private async setStatus(state: AmiState, error: string | null = null): Promise<void> {
    if (this.status.state !== state || this.status.error !== error) this.status = { ...this.status, state, error, since: new Date(this.now()).toISOString() };
    await mkdir(join(this.o.stateDir, 'pbx', this.o.pbxId), { recursive: true });
    await writeFileAtomic(this.statusFile, JSON.stringify(this.status, null, 2)).catch(() => undefined);
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    this.socket?.destroy();
    await this.loop;
    await this.setStatus('stopped');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.setStatus('connecting', this.status.error);
      const r = await this.session().catch((e: Error) => ({ ok: false as const, auth: false, error: e.message }));
      if (this.stopped) break;
      if (r.auth) {
        await this.setStatus('auth_failed', r.error);
        this.o.log.error('AMI login refused: check pbx.ami.username and pbx.ami.secret against manager.conf', { pbx: this.o.pbxId, host: this.cfg.host, port: this.cfg.port, username: this.cfg.username, error: r.error });
      } else {
        await this.setStatus('disconnected', r.error);
        this.o.log.warn('AMI connection lost; reconnecting', { pbx: this.o.pbxId, host: this.cfg.host, port: this.cfg.port, error: r.error });
      }
      await sleep(this.backoff.next(), this.wake.signal);
    }
  }

  /** One connection: login, channel list, events until it drops. Resolves with why it ended. */
  private session(): Promise<{ ok: false; auth: boolean; error: string }> {
    return new Promise((resolve) => {
      const parser = new AmiParser();
      let loggedIn = false;
      let done = false;
      const finish = (auth: boolean, error: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        resolve({ ok: false, auth, error });
      };
      const sock = connect({ host: this.cfg.host, port: this.cfg.port });
      this.socket = sock;
      sock.setEncoding('utf8');
      sock.setKeepAlive(true, 30_000);
      const timer = setTimeout(() => finish(false, `no answer to the login within ${this.cfg.loginTimeoutMs} ms`), this.cfg.loginTimeoutMs);
      const write = (fields: [string, string][]) => sock.write(`${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
      let channels: Set<string> | null = null;
      sock.on('connect', () => {
        write([
          ['Action', 'Login'],
          ['ActionID', 'mamoru-login'],
          ['Username', this.cfg.username],
          ['Secret', this.cfg.secret],
          ['Events', this.cfg.events.join(',')],
        ]);
      });
      sock.on('data', (chunk: string) => {
        for (const m of parser.push(chunk)) {
          if (!loggedIn) {
            if (m.get('ActionID') !== 'mamoru-login' || !m.get('Response')) continue;
            if (m.get('Response')!.toLowerCase() !== 'success') return finish(true, `the PBX refused the login as '${this.cfg.username}': ${m.get('Message') ?? m.get('Response')}`);
            loggedIn = true;
            clearTimeout(timer);
            this.backoff.reset();
            this.status.connects++;
            void this.setStatus('connected');
            this.o.log.info('AMI connected', { pbx: this.o.pbxId, host: this.cfg.host, port: this.cfg.port, banner: parser.banner });
            channels = new Set();
            write([
              ['Action', 'CoreShowChannels'],
              ['ActionID', 'mamoru-channels'],
            ]);
            continue;
          }
          const at = Number(m.get('Timestamp'));
          const atMs = Number.isFinite(at) && at > 1e9 ? Math.round(at * 1000) : this.now();
          if (m.get('ActionID') === 'mamoru-channels') {
            if (m.event === 'CoreShowChannel' && channels) channels.add(m.get('Linkedid') ?? m.get('Uniqueid') ?? '');
            else if (m.event === 'CoreShowChannelsComplete' && channels) {
              this.o.handlers.onChannels?.(channels, atMs);
              channels = null;
            }
            continue;
          }
          if (!m.event) continue;
          this.status.lastEventAt = new Date(atMs).toISOString();
          try {
            this.o.handlers.onEvent(m, atMs);
          } catch (e) {
            this.o.log.error('AMI event handler failed', { pbx: this.o.pbxId, event: m.event, error: e as Error });
          }
        }
      });
      sock.on('error', (e) => finish(false, e.message));
      sock.on('close', () => finish(false, loggedIn ? 'the PBX closed the connection' : 'the connection closed before the login was answered'));
    });
  }
}

/** Reads the AMI status file of a PBX (for `status`); null when there is none. */
export async function readAmiStatus(stateDir: string): Promise<Record<string, AmiStatus>> {
  const { readdir, readFile } = await import('node:fs/promises');
  const out: Record<string, AmiStatus> = {};
  for (const id of await readdir(join(stateDir, 'pbx')).catch(() => [] as string[])) {
    try {
      out[id] = JSON.parse(await readFile(join(stateDir, 'pbx', id, 'ami-status.json'), 'utf8')) as AmiStatus;
    } catch {
      /* no AMI for this PBX */
    }
  }
  return out;
}
