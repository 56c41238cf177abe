/**
 * A fake Asterisk Manager Interface (TCP) that replays a real AMI session log (`### <ISO time>` before each block, as
 * in edge-agent/test/fixtures/asterisk-22/ami/ami_events.txt) on the log's own timeline, scaled by `speed`.
 *
 * Like a real PBX: the banner on connect, `Action: Login` checked against one user (a wrong secret gets
 * `Response: Error / Message: Authentication failed`), the Login `Events` mask filters event classes by each event's
 * `Privilege` line, `CoreShowChannels` lists the channels that exist at that moment of the replay, and a client that
 * is not connected when an event happens never gets it. `dropClients()` cuts every connection (a network drop or a
 * PBX restart mid-call); `refuse(true)` makes new connections fail until `refuse(false)`.
 */
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';

export type AmiBlock = { atMs: number; fields: [string, string][] };

/** Parses a replay log: every block after a `### <time>` line; only `Event:` blocks are replayed. */
export async function readAmiLog(path: string): Promise<AmiBlock[]> {
  const text = await readFile(path, 'utf8');
  const out: AmiBlock[] = [];
  for (const part of text.split(/^### /m).slice(1)) {
    const nl = part.indexOf('\n');
    const atMs = Date.parse(part.slice(0, nl).trim());
    const fields: [string, string][] = [];
    for (const line of part.slice(nl + 1).split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) fields.push([line.slice(0, i), line.slice(i + 1).replace(/^ /, '')]);
    }
    if (fields[0]?.[0] === 'Event' && fields[0][1] !== 'FullyBooted') out.push({ atMs, fields });
  }
  return out;
}

const get = (f: [string, string][], k: string) => f.find(([x]) => x.toLowerCase() === k.toLowerCase())?.[1];
const encode = (f: [string, string][]) => `${f.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

type Client = { sock: Socket; user: string | null; mask: Set<string> | null; buf: string };

export class FakeAmiServer extends EventEmitter {
  private server: Server | null = null;
  private readonly clients = new Set<Client>();
  private timers: NodeJS.Timeout[] = [];
  private refusing = false;
  /** Live channels at this point of the replay: uniqueid → { channel, linkedid }. */
  private readonly channels = new Map<string, { channel: string; linkedid: string }>();
  port = 0;
  logins = { ok: 0, failed: 0 };

  constructor(private readonly o: { blocks: AmiBlock[]; username: string; secret: string; speed?: number; version?: string }) {
    super();
  }

  async listen(port = 0): Promise<number> {
    this.server = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  /** Starts the replay now; emits 'event' (block, index, wall ms) as each block is sent, 'done' after the last. */
  play(): void {
    const speed = this.o.speed ?? 1;
    const t0 = this.o.blocks[0]?.atMs ?? 0;
    this.o.blocks.forEach((b, i) => {
      this.timers.push(
        setTimeout(() => {
          this.track(b.fields);
          for (const c of this.clients) if (c.user && this.wants(c, b.fields)) c.sock.write(encode(b.fields));
          this.emit('event', b, i, Date.now());
          if (i === this.o.blocks.length - 1) this.emit('done');
        }, Math.round((b.atMs - t0) / speed)),
      );
    });
  }

  dropClients(): void {
    for (const c of this.clients) c.sock.destroy();
    this.clients.clear();
  }

  refuse(on: boolean): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.dropClients();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private track(f: [string, string][]) {
    const ev = get(f, 'Event');
    const uid = get(f, 'Uniqueid');
    if (!uid) return;
    if (ev === 'Newchannel') this.channels.set(uid, { channel: get(f, 'Channel') ?? '', linkedid: get(f, 'Linkedid') ?? uid });
    if (ev === 'Hangup') this.channels.delete(uid);
  }

  private wants(c: Client, f: [string, string][]) {
    if (!c.mask) return true;
    const cls = (get(f, 'Privilege') ?? '').split(',')[0]!;
    return c.mask.has(cls);
  }

  private accept(sock: Socket) {
    if (this.refusing) {
      sock.destroy();
      return;
    }
    const c: Client = { sock, user: null, mask: null, buf: '' };
    this.clients.add(c);
    sock.setEncoding('utf8');
    sock.write(`Asterisk Call Manager/${this.o.version ?? '11.0.0'}\r\n`);
    sock.on('data', (d: string) => {
      c.buf += d;
      for (;;) {
        const m = /\r?\n\r?\n/.exec(c.buf);
        if (!m) break;
        const block = c.buf.slice(0, m.index);
        c.buf = c.buf.slice(m.index + m[0].length);
        const fields = block.split(/\r?\n/).map((l) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
        this.action(c, fields);
      }
    });
    sock.on('close', () => this.clients.delete(c));
    sock.on('error', () => this.clients.delete(c));
  }

  private action(c: Client, f: [string, string][]) {
    const action = (get(f, 'Action') ?? '').toLowerCase();
    const id = get(f, 'ActionID');
    const reply = (fields: [string, string][]) => c.sock.write(encode(id ? [...fields.slice(0, 1), ['ActionID', id], ...fields.slice(1)] : fields));
    if (action === 'login') {
      if (get(f, 'Username') !== this.o.username || get(f, 'Secret') !== this.o.secret) {
        this.logins.failed++;
        reply([['Response', 'Error'], ['Message', 'Authentication failed']]);
        // Asterisk closes the connection after a failed login.
        setTimeout(() => c.sock.end(), 10);
        return;
      }
      this.logins.ok++;
      c.user = get(f, 'Username')!;
      const ev = (get(f, 'Events') ?? 'on').toLowerCase();
      c.mask = ev === 'on' || ev === '' ? null : new Set(ev === 'off' ? [] : ev.split(',').map((s) => s.trim()));
      reply([['Response', 'Success'], ['Message', 'Authentication accepted']]);
      c.sock.write(encode([['Event', 'FullyBooted'], ['Privilege', 'system,all'], ['Status', 'Fully Booted']]));
      return;
    }
    if (!c.user) {
      reply([['Response', 'Error'], ['Message', 'Missing authentication']]);
      return;
    }
    if (action === 'coreshowchannels') {
      reply([['Response', 'Success'], ['EventList', 'start'], ['Message', 'Channels will follow']]);
      for (const [uid, ch] of this.channels) {
        c.sock.write(encode([['Event', 'CoreShowChannel'], ...(id ? ([['ActionID', id]] as [string, string][]) : []), ['Channel', ch.channel], ['Uniqueid', uid], ['Linkedid', ch.linkedid]]));
      }
      c.sock.write(encode([['Event', 'CoreShowChannelsComplete'], ...(id ? ([['ActionID', id]] as [string, string][]) : []), ['EventList', 'Complete'], ['ListItems', String(this.channels.size)]]));
      return;
    }
    if (action === 'ping') {
      reply([['Response', 'Success'], ['Ping', 'Pong'], ['Timestamp', (Date.now() / 1000).toFixed(6)]]);
      return;
    }
    reply([['Response', 'Error'], ['Message', 'Invalid/unknown command']]);
  }
}
