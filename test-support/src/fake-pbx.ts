/**
 * A simulated Asterisk/FreePBX box for tests and the demo: every N minutes it "takes" an inbound call and leaves
 * what a real one leaves behind — MixMonitor recordings (mixed, -rx, -tx; 8 kHz 16-bit mono WAV, header final only
 * at close) under monitor/YYYY/MM/DD/ with FreePBX names, and a 21-column cdr_csv row in cdr-csv/Master.csv with
 * naive local (JST by default) times, written when the call ends.
 *
 * Audio: speech synthesized by scripts/make-test-call.sh (espeak-ng + sox) when available, else a generated tone.
 *
 * CLI:  node --import tsx test-support/src/fake-pbx.ts --dir DIR [--every MINUTES] [--count N] [--once]
 *                                                      [--zone Asia/Tokyo] [--audio speech|tone] [--live]
 */
import { execFile } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type FakePbxOptions = {
  /** Writes <dir>/monitor/... and <dir>/cdr-csv/Master.csv. */
  dir: string;
  /** Zone of the PBX's clock (naive CDR times, file-name times, day folders). */
  zone?: string;
  audio?: 'speech' | 'tone';
  /** Write the recording progressively in real time (live header) instead of all at once. */
  live?: boolean;
  did?: string;
  /** Every n-th call is unanswered (no recording, NO ANSWER). 0 = never. */
  unansweredEvery?: number;
  /** Length of a call when the audio is a tone (default 12 s). */
  toneSeconds?: number;
};

export type FakeCall = { uniqueid: string; startUtc: Date; caller: string; operator: string | null; answered: boolean; recordings: string[]; cdrLine: string };

const CALLERS = [
  { number: '0312345678', name: 'Yamada Taro' },
  { number: '09011112222', name: '' },
  { number: '0667778888', name: 'Suzuki Hanako' },
  { number: 'anonymous', name: 'anonymous' },
];
const OPERATORS = ['201', '202', '203'];

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
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<unknown> = Promise.resolve();
  readonly zone: string;
  readonly monitorDir: string;
  readonly masterCsv: string;

  constructor(private readonly opts: FakePbxOptions) {
    this.zone = opts.zone ?? 'Asia/Tokyo';
    this.monitorDir = join(opts.dir, 'monitor');
    this.masterCsv = join(opts.dir, 'cdr-csv', 'Master.csv');
  }

  /**
   * One inbound call that ends now (or is played out in real time with `live`): recordings first, the CDR row when
   * the call is over, as Asterisk does.
   */
  async call(): Promise<FakeCall> {
    this.tracks ??= makeTracks(this.opts.audio ?? 'speech', this.opts.toneSeconds ?? 12);
    const tracks = await this.tracks;
    const n = this.counter++;
    const caller = CALLERS[n % CALLERS.length]!;
    const answered = !(this.opts.unansweredEvery && (n + 1) % this.opts.unansweredEvery === 0);
    const operator = answered ? OPERATORS[n % OPERATORS.length]! : null;
    const seconds = answered ? tracks.mixed.data.length / (tracks.mixed.rate * 2) : 15;
    const live = this.opts.live ?? false;
    const startMs = live ? Date.now() : Date.now() - Math.ceil(seconds) * 1000;
    const epoch = Math.floor(startMs / 1000);
    const uniqueid = `${epoch}.${n}`;
    const did = this.opts.did ?? '0501234567';
    const start = local(epoch * 1000, this.zone);
    const recordings: string[] = [];
    if (answered) {
      // FreePBX names the file a moment into the call, in PBX local time.
      const base = `in-${did}-${caller.number}-${start.stamp}-${uniqueid}`;
      const dir = join(this.monitorDir, start.day);
      await mkdir(dir, { recursive: true });
      const files = [
        { path: join(dir, `${base}.wav`), pcm: tracks.mixed },
        { path: join(dir, `${base}-rx.wav`), pcm: tracks.rx },
        { path: join(dir, `${base}-tx.wav`), pcm: tracks.tx },
      ];
      recordings.push(...files.map((f) => f.path));
      if (live) await this.writeLive(files);
      else for (const f of files) await writeFile(f.path, Buffer.concat([wavHeader(f.pcm, f.pcm.data.length, true), f.pcm.data]));
    } else if (live) {
      await new Promise((r) => setTimeout(r, seconds * 1000));
    }
    const endMs = epoch * 1000 + Math.round(seconds) * 1000;
    const end = local(endMs, this.zone);
    const dur = Math.round(seconds);
    const cols = [
      q(''),
      q(caller.number),
      q(did),
      q('from-trunk'),
      q(`${q(caller.name)} <${caller.number}>`),
      q(`PJSIP/trunk-${(n * 2).toString(16).padStart(8, '0')}`),
      q(operator ? `PJSIP/${operator}-${(n * 2 + 1).toString(16).padStart(8, '0')}` : ''),
      q('Dial'),
      q(`PJSIP/${operator ?? OPERATORS[0]},30`),
      q(start.naive),
      answered ? q(start.naive) : '',
      q(end.naive),
      String(dur),
      String(answered ? dur : 0),
      q(answered ? 'ANSWERED' : 'NO ANSWER'),
      q('DOCUMENTATION'),
      q(uniqueid),
      q(answered ? 'rec_notice=played' : ''),
      q(''),
      q(uniqueid),
      String(this.seq++),
    ];
    const cdrLine = `${cols.join(',')}\n`;
    await mkdir(dirname(this.masterCsv), { recursive: true });
    await appendFile(this.masterCsv, cdrLine);
    return { uniqueid, startUtc: new Date(epoch * 1000), caller: caller.number, operator, answered, recordings, cdrLine };
  }

  private async writeLive(files: { path: string; pcm: Pcm }[]): Promise<void> {
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

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args.dir !== 'string') {
    console.error('usage: fake-pbx.ts --dir DIR [--every MINUTES] [--count N] [--once] [--zone Asia/Tokyo] [--audio speech|tone] [--live] [--unanswered-every N]');
    process.exit(2);
  }
  const pbx = new FakePbx({
    dir: resolve(args.dir),
    zone: typeof args.zone === 'string' ? args.zone : undefined,
    audio: args.audio === 'tone' ? 'tone' : 'speech',
    live: args.live === true,
    unansweredEvery: typeof args['unanswered-every'] === 'string' ? Number(args['unanswered-every']) : 0,
  });
  const count = args.once ? 1 : typeof args.count === 'string' ? Number(args.count) : Infinity;
  const every = typeof args.every === 'string' ? Number(args.every) : 5;
  const r = pbx.runEvery(every, count, (c) => console.log(JSON.stringify({ event: 'call', uniqueid: c.uniqueid, caller: c.caller, operator: c.operator, answered: c.answered, recordings: c.recordings.length })));
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
