/**
 * A simulated Asterisk/FreePBX box for tests and the demo: every N minutes it "takes" an inbound call and leaves
 * what a real one leaves behind — MixMonitor recordings (mixed, -rx, -tx; 8 kHz 16-bit mono WAV, header final only
 * at close) under monitor/YYYY/MM/DD/ with FreePBX names, 21-column cdr_csv rows in cdr-csv/Master.csv with naive
 * local (JST by default) times, written when the call ends, and the call's channel events (cel_custom, 20 fields,
 * epoch times) in cel-custom/Master.csv as they happen.
 *
 * Three kinds of call: `answered` (operator 201/202/203 picks up), `unanswered` (the operator is rung, nobody picks
 * up, no recording) and `transferred` (the answering operator blind-transfers the caller to the next extension:
 * two CDR rows of the caller's channel, the second after the transfer, every row showing dst = the new extension,
 * and a CEL BLINDTRANSFER on the operator's channel — what Asterisk 22 writes, see edge-agent/test/pbx-hard-cases).
 *
 * Audio: speech synthesized by scripts/make-test-call.sh (espeak-ng + sox) when available, else a generated tone.
 *
 * CLI:  node --import tsx test-support/src/fake-pbx.ts --dir DIR [--every MINUTES] [--count N] [--once]
 *           [--zone Asia/Tokyo] [--audio speech|tone] [--live] [--unanswered-every N]
 *           [--pattern answered,transferred,unanswered]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type CallKind = 'answered' | 'unanswered' | 'transferred';

export type FakePbxOptions = {
  /** Writes <dir>/monitor/..., <dir>/cdr-csv/Master.csv and <dir>/cel-custom/Master.csv. */
  dir: string;
  /** Zone of the PBX's clock (naive CDR times, file-name times, day folders). */
  zone?: string;
  audio?: 'speech' | 'tone';
  /** Write the recording progressively in real time (live header) instead of all at once. */
  live?: boolean;
  did?: string;
  /** Every n-th call is unanswered (no recording, NO ANSWER). 0 = never. Ignored when `pattern` is given. */
  unansweredEvery?: number;
  /** The kinds of call to take, in turn (e.g. answered, transferred, unanswered, then again). */
  pattern?: CallKind[];
  /** Write the channel event log (cel_custom) too; default true, as a PBX with `cel.conf enable=yes` does. */
  cel?: boolean;
  /** Length of a call when the audio is a tone (default 12 s). */
  toneSeconds?: number;
};

/** A blind transfer: `by` (the answering operator, on channel `byChannel`) sent the caller (`transfereeChannel`) to `to`. */
export type FakeTransfer = { kind: 'blind'; atUtc: Date; by: string; to: string; byChannel: string; toChannel: string; transfereeChannel: string };

export type FakeCall = {
  uniqueid: string;
  kind: CallKind;
  startUtc: Date;
  caller: string;
  /** The operator who answered (for a transferred call: the one who transferred it). */
  operator: string | null;
  answered: boolean;
  recordings: string[];
  /** The first CDR row (with its newline); `cdrLines` has all of them (two for a transferred call). */
  cdrLine: string;
  cdrLines: string[];
  /** The call's CEL lines in the order written (with newlines); empty when `cel` is off. */
  celLines: string[];
  transfer: FakeTransfer | null;
};

const CALLERS = [
  { number: '0312345678', name: 'Yamada Taro' },
  { number: '09011112222', name: '' },
  { number: '0667778888', name: 'Suzuki Hanako' },
  { number: 'anonymous', name: 'anonymous' },
];
const OPERATORS = ['201', '202', '203'];
/** The names of the operators' extensions (CDR files carry none; an agent's `pbx.operators` supplies them). */
export const OPERATOR_NAMES: Record<string, string> = { '201': '田中', '202': '佐藤', '203': '鈴木' };
const CONTEXT = { trunk: 'from-trunk', phone: 'operator-phone' };

type Pcm = { rate: number; channels: number; bits: number; data: Buffer };

function readPcm(buf: Buffer): Pcm {
  if (buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let pos = 12;
  let fmt: Buffer | null = null;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const len = buf.readUInt32LE(pos + 4);
    if (id === 'fmt ') fmt = buf.subarray(pos + 8, pos + 8 + len);
    if (id === 'data' && fmt) return { channels: fmt.readUInt16LE(2), rate: fmt.readUInt32LE(4), bits: fmt.readUInt16LE(14), data: buf.subarray(pos + 8, pos + 8 + len) };
    pos += 8 + len + (len % 2);
  }
  throw new Error('WAV without fmt/data');
}

/** The 44-byte header MixMonitor (format_wav) writes; sizes are 0 until the file is closed. */
function wavHeader(p: Omit<Pcm, 'data'>, dataLen: number, final: boolean): Buffer {
  const h = Buffer.alloc(44);
  const block = (p.channels * p.bits) / 8;
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(final ? 36 + dataLen : 0, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(p.channels, 22);
  h.writeUInt32LE(p.rate, 24);
  h.writeUInt32LE(p.rate * block, 28);
  h.writeUInt16LE(block, 32);
  h.writeUInt16LE(p.bits, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(final ? dataLen : 0, 40);
  return h;
}

function tone(seconds: number, freq: number): Pcm {
  const rate = 8000;
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) data.writeInt16LE(Math.round(2500 * Math.sin((2 * Math.PI * freq * i) / rate) * (i % 8000 < 6000 ? 1 : 0)), i * 2);
  return { rate, channels: 1, bits: 16, data };
}

function mix(a: Pcm, b: Pcm): Pcm {
  const n = Math.min(a.data.length, b.data.length) / 2;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.max(-32768, Math.min(32767, a.data.readInt16LE(i * 2) + b.data.readInt16LE(i * 2))), i * 2);
  return { ...a, data };
}

/** Mixed / caller (rx) / operator (tx) tracks: synthesized speech when espeak-ng + sox work, else tones. */
async function makeTracks(kind: 'speech' | 'tone', toneSeconds: number): Promise<{ mixed: Pcm; rx: Pcm; tx: Pcm }> {
  if (kind === 'speech') {
    const w = await mkdtemp(join(tmpdir(), 'fake-pbx-'));
    try {
      const out = join(w, 'call.wav');
      await run('bash', [join(REPO, 'scripts', 'make-test-call.sh'), out]);
      await run('sox', [out, join(w, 'rx.wav'), 'remix', '1']);
      await run('sox', [out, join(w, 'tx.wav'), 'remix', '2']);
      return {
        mixed: readPcm(await readFile(join(w, 'call_mixed.wav'))),
        rx: readPcm(await readFile(join(w, 'rx.wav'))),
        tx: readPcm(await readFile(join(w, 'tx.wav'))),
      };
    } catch {
      /* espeak-ng or sox missing: tones */
    } finally {
      await rm(w, { recursive: true, force: true });
    }
  }
  const rx = tone(toneSeconds, 440);
  const tx = tone(toneSeconds, 660);
  return { mixed: mix(rx, tx), rx, tx };
}

function local(ms: number, zone: string) {
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  for (const p of f.formatToParts(new Date(ms))) parts[p.type] = p.value;
  return { naive: `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`, stamp: `${parts.year}${parts.month}${parts.day}-${parts.hour}${parts.minute}${parts.second}`, day: join(parts.year!, parts.month!, parts.day!) };
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

export class FakePbx {
  private tracks: Promise<{ mixed: Pcm; rx: Pcm; tx: Pcm }> | null = null;
  private counter = 0;
  /** Asterisk numbers channels (name suffix and uniqueid) from one running counter. */
  private chan = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  readonly zone: string;
  readonly monitorDir: string;
  readonly masterCsv: string;
  /** cel_custom's Master.csv (null when `cel` is off). */
  readonly celCsv: string | null;

  constructor(private readonly opts: FakePbxOptions) {
    this.zone = opts.zone ?? 'Asia/Tokyo';
    this.monitorDir = join(opts.dir, 'monitor');
    this.masterCsv = join(opts.dir, 'cdr-csv', 'Master.csv');
    this.celCsv = opts.cel === false ? null : join(opts.dir, 'cel-custom', 'Master.csv');
  }

  /** The kind of the n-th call (0-based) by `pattern`, else by `unansweredEvery`. */
  kindOf(n: number): CallKind {
    const p = this.opts.pattern;
    if (p && p.length > 0) return p[n % p.length]!;
    return this.opts.unansweredEvery && (n + 1) % this.opts.unansweredEvery === 0 ? 'unanswered' : 'answered';
  }

  /**
   * One inbound call that ends now (or is played out in real time with `live`): CEL lines as the events happen,
   * recordings, and the CDR rows when the call is over, as Asterisk does.
   */
  async call(kindArg?: CallKind): Promise<FakeCall> {
    this.tracks ??= makeTracks(this.opts.audio ?? 'speech', this.opts.toneSeconds ?? 12);
    const tracks = await this.tracks;
    const n = this.counter++;
    const kind = kindArg ?? this.kindOf(n);
    const caller = CALLERS[n % CALLERS.length]!;
    const answered = kind !== 'unanswered';
    const rung = OPERATORS[n % OPERATORS.length]!;
    const operator = answered ? rung : null;
    const seconds = answered ? tracks.mixed.data.length / (tracks.mixed.rate * 2) : 15;
    const live = this.opts.live ?? false;
    const startMs = live ? Date.now() : Date.now() - Math.ceil(seconds) * 1000;
    const epoch = Math.floor(startMs / 1000);
    const did = this.opts.did ?? '0501234567';
    const dur = Math.round(seconds);
    const t0 = epoch * 1000;
    const endMs = t0 + dur * 1000;

    // Channels: the trunk (the caller), the rung operator's phone, and after a blind transfer the next extension's.
    const channel = (endpoint: string, atMs: number) => {
      const k = this.chan++;
      return { name: `PJSIP/${endpoint}-${k.toString(16).padStart(8, '0')}`, uniqueid: `${Math.floor(atMs / 1000)}.${k}`, endpoint };
    };
    const trunk = channel('trunk', t0);
    const uniqueid = trunk.uniqueid;
    const op = channel(rung, t0 + 100);
    const xferS = kind === 'transferred' ? Math.max(2, Math.round(seconds * 0.4)) : null;
    const target = xferS === null ? null : channel(OPERATORS[(n + 1) % OPERATORS.length]!, t0 + xferS * 1000 + 100);

    // The channel event log, timed (cel_custom field order of the Asterisk 22 fixture).
    const cid = { name: caller.name, num: caller.number };
    const cels: { atMs: number; line: string }[] = [];
    const ev = (type: string, atMs: number, ch: { name: string; uniqueid: string }, more: { exten?: string; context?: string; app?: string; appdata?: string; peer?: string; extra?: unknown } = {}) => {
      const f = [type, (atMs / 1000).toFixed(6), cid.name, cid.num, ch === trunk ? cid.num : '', '', '', more.exten ?? 's', more.context ?? (ch === trunk ? CONTEXT.trunk : CONTEXT.phone), ch.name, more.app ?? '', more.appdata ?? '', '3', '', ch.uniqueid, uniqueid, more.peer ?? '', '', '', more.extra === undefined ? '' : JSON.stringify(more.extra)];
      cels.push({ atMs, line: `${f.map(q).join(',')}\n` });
    };
    const inTrunk = { exten: did, context: CONTEXT.trunk };
    const bridgeId = () => randomUUID();
    const hangup = (atMs: number, ch: { name: string; uniqueid: string }, dialstatus: string, more: { exten?: string; context?: string } = {}) => {
      ev('HANGUP', atMs, ch, { ...more, extra: { hangupcause: 16, hangupsource: ch.name, dialstatus } });
      ev('CHAN_END', atMs, ch, more);
    };
    ev('CHAN_START', t0, trunk, inTrunk);
    if (answered) ev('ANSWER', t0 + 50, trunk, { ...inTrunk, app: 'Answer' });
    ev('CHAN_START', t0 + 100, op);
    const dialOp = { ...inTrunk, app: 'Dial', appdata: `PJSIP/${rung},30` };
    let transfer: FakeTransfer | null = null;
    if (!answered) {
      hangup(endMs - 10, op, '');
      hangup(endMs, trunk, 'NOANSWER', dialOp);
      ev('LINKEDID_END', endMs, trunk, dialOp);
    } else {
      const b1 = bridgeId();
      ev('ANSWER', t0 + 2000, op, { app: 'AppDial', appdata: '(Outgoing Line)' });
      ev('BRIDGE_ENTER', t0 + 2000, trunk, { ...dialOp, peer: op.name, extra: { bridge_id: b1, bridge_technology: 'simple_bridge' } });
      if (target && xferS !== null) {
        // The operator sends the caller on to the next extension without asking (blind transfer): Asterisk logs it
        // on the transferring channel; the caller's channel leaves the bridge and dials the new extension.
        const tx = t0 + xferS * 1000;
        const to = target.endpoint;
        ev('BLINDTRANSFER', tx, op, { extra: { extension: to, context: CONTEXT.phone, bridge_id: b1, transferee_channel_name: trunk.name, transferee_channel_uniqueid: trunk.uniqueid } });
        ev('BRIDGE_EXIT', tx + 1, trunk, { ...dialOp, extra: { bridge_id: b1, bridge_technology: 'simple_bridge' } });
        hangup(tx + 2, op, '');
        const dialTo = { exten: to, context: CONTEXT.phone, app: 'Dial', appdata: `PJSIP/${to},30` };
        ev('CHAN_START', tx + 100, target);
        const b2 = bridgeId();
        ev('ANSWER', tx + 2000, target, { app: 'AppDial', appdata: '(Outgoing Line)' });
        ev('BRIDGE_ENTER', tx + 2000, trunk, { ...dialTo, peer: target.name, extra: { bridge_id: b2, bridge_technology: 'simple_bridge' } });
        ev('BRIDGE_EXIT', endMs, trunk, { ...dialTo, extra: { bridge_id: b2, bridge_technology: 'simple_bridge' } });
        hangup(endMs, target, '');
        hangup(endMs, trunk, 'ANSWER', dialTo);
        ev('LINKEDID_END', endMs, trunk, dialTo);
        transfer = { kind: 'blind', atUtc: new Date(tx), by: rung, to, byChannel: op.name, toChannel: target.name, transfereeChannel: trunk.name };
      } else {
        ev('BRIDGE_EXIT', endMs, trunk, { ...dialOp, extra: { bridge_id: b1, bridge_technology: 'simple_bridge' } });
        hangup(endMs, op, '');
        hangup(endMs, trunk, 'ANSWER', dialOp);
        ev('LINKEDID_END', endMs, trunk, dialOp);
      }
    }
    cels.sort((a, b) => a.atMs - b.atMs);
    const celLines: string[] = [];
    const flushCel = async (untilMs: number) => {
      if (!this.celCsv) return;
      const due: string[] = [];
      while (cels.length > 0 && cels[0]!.atMs <= untilMs) due.push(cels.shift()!.line);
      if (due.length === 0) return;
      await mkdir(dirname(this.celCsv), { recursive: true });
      await appendFile(this.celCsv, due.join(''));
      celLines.push(...due);
    };

    const start = local(t0, this.zone);
    const recordings: string[] = [];
    if (answered) {
      // FreePBX names the file a moment into the call, in PBX local time; MixMonitor on the caller's channel keeps
      // recording across a transfer, so a transferred call has one set of files.
      const base = `in-${did}-${caller.number}-${start.stamp}-${uniqueid}`;
      const dir = join(this.monitorDir, start.day);
      await mkdir(dir, { recursive: true });
      const files = [
        { path: join(dir, `${base}.wav`), pcm: tracks.mixed },
        { path: join(dir, `${base}-rx.wav`), pcm: tracks.rx },
        { path: join(dir, `${base}-tx.wav`), pcm: tracks.tx },
      ];
      recordings.push(...files.map((f) => f.path));
      if (live) await this.writeLive(files, (sec) => flushCel(t0 + sec * 1000));
      else for (const f of files) await writeFile(f.path, Buffer.concat([wavHeader(f.pcm, f.pcm.data.length, true), f.pcm.data]));
    } else if (live) {
      await flushCel(t0 + 200);
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
    await flushCel(Infinity);

    // CDR rows (cdr_csv, 21 columns). After a blind transfer every row of the caller's channel shows the new
    // extension as dst (the dialled number is only in the recording name and the CEL).
    const row = (r: { dst: string; dcontext: string; dstchannel: string; lastdata: string; startMs: number; answerMs: number | null; endMs: number; disposition: string }) => {
      const d = Math.round((r.endMs - r.startMs) / 1000);
      return `${[
        q(''),
        q(caller.number),
        q(r.dst),
        q(r.dcontext),
        q(`${q(caller.name)} <${caller.number}>`),
        q(trunk.name),
        q(r.dstchannel),
        q('Dial'),
        q(r.lastdata),
        q(local(r.startMs, this.zone).naive),
        r.answerMs === null ? '' : q(local(r.answerMs, this.zone).naive),
        q(local(r.endMs, this.zone).naive),
        String(d),
        String(r.answerMs === null ? 0 : Math.round((r.endMs - r.answerMs) / 1000)),
        q(r.disposition),
        q('DOCUMENTATION'),
        q(uniqueid),
        q(answered ? 'rec_notice=played' : ''),
        q(''),
        q(uniqueid),
        String(this.seq++),
      ].join(',')}\n`;
    };
    const cdrLines: string[] = [];
    if (transfer && xferS !== null) {
      const tx = t0 + xferS * 1000;
      const common = { dst: transfer.to, dcontext: CONTEXT.phone, disposition: 'ANSWERED' };
      cdrLines.push(row({ ...common, dstchannel: op.name, lastdata: `PJSIP/${rung},30`, startMs: t0, answerMs: t0, endMs: tx }));
      cdrLines.push(row({ ...common, dstchannel: target!.name, lastdata: `PJSIP/${transfer.to},30`, startMs: tx, answerMs: tx, endMs }));
    } else {
      cdrLines.push(row({ dst: did, dcontext: CONTEXT.trunk, dstchannel: op.name, lastdata: `PJSIP/${rung},30`, startMs: t0, answerMs: answered ? t0 : null, endMs, disposition: answered ? 'ANSWERED' : 'NO ANSWER' }));
    }
    await mkdir(dirname(this.masterCsv), { recursive: true });
    await appendFile(this.masterCsv, cdrLines.join(''));
    return { uniqueid, kind, startUtc: new Date(t0), caller: caller.number, operator, answered, recordings, cdrLine: cdrLines[0]!, cdrLines, celLines, transfer };
  }

  /** Writes the files second by second, calling `tick(seconds written)` after each second (CEL events that are due). */
  private async writeLive(files: { path: string; pcm: Pcm }[], tick: (seconds: number) => Promise<void>): Promise<void> {
    const handles = await Promise.all(files.map((f) => open(f.path, 'w')));
    try {
      for (const [i, h] of handles.entries()) await h.write(wavHeader(files[i]!.pcm, 0, false), 0, 44, 0);
      const bytesPerSec = files[0]!.pcm.rate * 2;
      const total = files[0]!.pcm.data.length;
      for (let off = 0; off < total; off += bytesPerSec) {
        for (const [i, h] of handles.entries()) {
          const d = files[i]!.pcm.data;
          await h.write(d, off, Math.min(bytesPerSec, d.length - off), 44 + off);
        }
        await tick(off / bytesPerSec);
        await new Promise((r) => setTimeout(r, 1000));
      }
      for (const [i, h] of handles.entries()) await h.write(wavHeader(files[i]!.pcm, files[i]!.pcm.data.length, true), 0, 44, 0);
    } finally {
      for (const h of handles) await h.close();
    }
  }

  /**
   * Takes a call now and then every `minutes` (fractions allowed), `count` calls in all (default: until stopped).
   * `done` resolves when the last call is written.
   */
  runEvery(minutes: number, count = Infinity, onCall?: (c: FakeCall) => void): { stop(): Promise<void>; done: Promise<void> } {
    let made = 0;
    let stopped = false;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    const once = () => {
      if (stopped || made >= count) return;
      made++;
      this.busy = this.busy.then(() => this.call().then(onCall)).catch((err) => console.error('fake-pbx: call failed', err));
      if (made < count) this.timer = setTimeout(once, minutes * 60e3);
      else void this.busy.then(finish);
    };
    once();
    return {
      done,
      stop: async () => {
        stopped = true;
        if (this.timer) clearTimeout(this.timer);
        await this.busy;
        finish();
      },
    };
  }
}

/**
 * The `pbx` section of an edge agent's config that reads this fake PBX through the real asterisk-files adapter (the
 * demo store's agent uses it): recordings, CDR rows and the CEL file, with the trunk's endpoint named so that a
 * channel `PJSIP/trunk-…` is never taken for an operator, and the operators' names.
 */
export function demoPbxConfig(pbx: FakePbx, id = 'demo-pbx') {
  return {
    adapter: 'asterisk-files' as const,
    id,
    timezone: pbx.zone,
    monitorDir: pbx.monitorDir,
    cdrCsv: pbx.masterCsv,
    cel: pbx.celCsv,
    trunkEndpoints: ['trunk'],
    operators: { ...OPERATOR_NAMES },
    quietSeconds: 10,
    noticeAssumed: 'yes' as const,
  };
}

function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
    else {
      out[a.slice(2)] = next;
      i++;
    }
  }
  return out;
}

const KINDS: readonly CallKind[] = ['answered', 'unanswered', 'transferred'];
function parsePattern(v: string): CallKind[] {
  const kinds = v.split(',').map((k) => k.trim());
  const bad = kinds.filter((k) => !KINDS.includes(k as CallKind));
  if (bad.length > 0 || kinds.length === 0) throw new Error(`--pattern: ${bad.join(', ') || '(empty)'} is not one of ${KINDS.join(', ')}`);
  return kinds as CallKind[];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args.dir !== 'string') {
    console.error('usage: fake-pbx.ts --dir DIR [--every MINUTES] [--count N] [--once] [--zone Asia/Tokyo] [--audio speech|tone] [--live] [--unanswered-every N] [--pattern answered,transferred,unanswered]');
    process.exit(2);
  }
  const pbx = new FakePbx({
    dir: resolve(args.dir),
    zone: typeof args.zone === 'string' ? args.zone : undefined,
    audio: args.audio === 'tone' ? 'tone' : 'speech',
    live: args.live === true,
    unansweredEvery: typeof args['unanswered-every'] === 'string' ? Number(args['unanswered-every']) : 0,
    pattern: typeof args.pattern === 'string' ? parsePattern(args.pattern) : undefined,
  });
  const count = args.once ? 1 : typeof args.count === 'string' ? Number(args.count) : Infinity;
  const every = typeof args.every === 'string' ? Number(args.every) : 5;
  const r = pbx.runEvery(every, count, (c) => console.log(JSON.stringify({ event: 'call', kind: c.kind, uniqueid: c.uniqueid, caller: c.caller, operator: c.operator, answered: c.answered, transferredTo: c.transfer?.to ?? null, recordings: c.recordings.length })));
  const stop = () => void r.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await r.done;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
