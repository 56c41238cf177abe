/** Shared helpers for the PBX tests: a fake clock, a recording sink, temp trees, WAV writers, CDR row builders. */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../src/lib/logger.ts';
import type { CallSink, Clock, SealedCall } from '../src/pbx/index.ts';

export const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'asterisk-22');

export class FakeClock implements Clock {
  constructor(public t: number) {}
  now() {
    return this.t;
  }
  advance(seconds: number) {
    this.t += seconds * 1000;
  }
}

export class MemorySink implements CallSink {
  calls: SealedCall[] = [];
  async callSealed(call: SealedCall) {
    this.calls.push(structuredClone(call));
  }
  byKey(key: string) {
    return this.calls.filter((c) => c.callKey === key);
  }
}

export const quietLog: Logger & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[] } = Object.assign(
  { lines: [] as { level: string; msg: string; fields?: Record<string, unknown> }[] },
  {
    debug(msg: string, fields?: Record<string, unknown>) {
      quietLog.lines.push({ level: 'debug', msg, fields });
    },
    info(msg: string, fields?: Record<string, unknown>) {
      quietLog.lines.push({ level: 'info', msg, fields });
    },
    warn(msg: string, fields?: Record<string, unknown>) {
      quietLog.lines.push({ level: 'warn', msg, fields });
    },
    error(msg: string, fields?: Record<string, unknown>) {
      quietLog.lines.push({ level: 'error', msg, fields });
    },
    addSecrets() {},
  },
);

export async function tempDir(prefix = 'pbx-'): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const sha256File = async (p: string) => sha256(await readFile(p));

/** A PCM 16-bit WAV of `seconds` (a quiet tone). `final: false` writes the header a live MixMonitor file has. */
export function wavBytes(seconds: number, opts: { rate?: number; channels?: number; final?: boolean; seed?: number } = {}): Buffer {
  const rate = opts.rate ?? 8000;
  const ch = opts.channels ?? 1;
  const frames = Math.round(seconds * rate);
  const data = Buffer.alloc(frames * ch * 2);
  const f = 300 + (opts.seed ?? 0) * 37;
  for (let i = 0; i < frames; i++) for (let c = 0; c < ch; c++) data.writeInt16LE(Math.round(3000 * Math.sin((2 * Math.PI * f * i) / rate)), (i * ch + c) * 2);
  const h = Buffer.alloc(44);
  const final = opts.final ?? true;
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(final ? 36 + data.length : 0, 4);
  h.write('WAVE', 8, 'latin1');
  h.write('fmt ', 12, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(ch, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * ch * 2, 28);
  h.writeUInt16LE(ch * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(final ? data.length : 0, 40);
  return Buffer.concat([h, data]);
}

export async function writeFileP(path: string, data: string | Uint8Array) {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
}

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

export type RowSpec = {
  src: string;
  dst: string;
  dcontext?: string;
  clid?: string;
  channel: string;
  dstchannel?: string;
  lastapp?: string;
  lastdata?: string;
  start: string;
  answer?: string | null;
  end: string;
  duration: number;
  billsec: number;
  disposition: string;
  uniqueid?: string;
  userfield?: string;
  linkedid?: string;
  sequence?: number;
};

/** A cdr_csv line exactly as Asterisk writes it: 16, 18 or 21 columns. */
export function cdrLine(r: RowSpec, columns: 16 | 18 | 21): string {
  const f = [
    q(''),
    q(r.src),
    q(r.dst),
    q(r.dcontext ?? 'from-trunk'),
    q(r.clid ?? `"" <${r.src}>`),
    q(r.channel),
    q(r.dstchannel ?? ''),
    q(r.lastapp ?? 'Dial'),
    q(r.lastdata ?? ''),
    q(r.start),
    r.answer ? q(r.answer) : '',
    q(r.end),
    String(r.duration),
    String(r.billsec),
    q(r.disposition),
    q('DOCUMENTATION'),
  ];
  if (columns >= 18) f.push(q(r.uniqueid ?? ''), q(r.userfield ?? ''));
  if (columns === 21) f.push(q(''), q(r.linkedid ?? r.uniqueid ?? ''), String(r.sequence ?? 0));
  return `${f.join(',')}\n`;
}

/** `YYYY-MM-DD HH:MM:SS` of a UTC instant shifted by `offsetH` hours (what a PBX in that zone writes). */
export function naive(ms: number, offsetH: number): string {
  return new Date(ms + offsetH * 3600e3).toISOString().slice(0, 19).replace('T', ' ');
}

/** `YYYYMMDD-HHMMSS` (FreePBX file-name time) of a UTC instant shifted by `offsetH` hours. */
export function timestr(ms: number, offsetH: number): string {
  return naive(ms, offsetH).replace(/[-:]/g, '').replace(' ', '-');
}

/** `YYYY/MM/DD` folder of a UTC instant shifted by `offsetH` hours. */
export function dayDir(ms: number, offsetH: number): string {
  return naive(ms, offsetH).slice(0, 10).replace(/-/g, '/');
}

/** A fake Asterisk box: monitor/ and cdr-csv/Master.csv under one temp folder. */
export class PbxTree {
  readonly monitor: string;
  readonly master: string;
  readonly state: string;
  constructor(readonly root: string) {
    this.monitor = join(root, 'spool', 'monitor');
    this.master = join(root, 'log', 'cdr-csv', 'Master.csv');
    this.state = join(root, 'agent-state');
  }
  static async create(prefix = 'pbx-tree-') {
    const d = await tempDir(prefix);
    const t = new PbxTree(d.path);
    await mkdir(t.monitor, { recursive: true });
    await mkdir(dirname(t.master), { recursive: true });
    return { tree: t, cleanup: d.cleanup };
  }
  async append(data: string | Uint8Array, file = this.master) {
    await mkdir(dirname(file), { recursive: true });
    await appendFile(file, data);
  }
  recordingPath(day: string, name: string) {
    return join(this.monitor, ...day.split('/'), name);
  }
  async recording(day: string, name: string, data: Uint8Array) {
    const p = this.recordingPath(day, name);
    await writeFileP(p, data);
    // The PBX stamps its files with its own clock, which is this process's (the file system's clock is not moved by
    // faketime, so without this a test run with the clock moved would see recordings months old).
    const now = new Date();
    await utimes(p, now, now);
    return p;
  }
}

let sjisTable: Map<string, number[]> | null = null;
/** Shift_JIS (CP932) encoder built by inverting Node's decoder (Node has no encoder for it). */
export function sjisEncode(text: string): Buffer {
  if (!sjisTable) {
    sjisTable = new Map();
    const dec = new TextDecoder('shift_jis', { fatal: true });
    for (let b = 0; b < 0x80; b++) sjisTable.set(String.fromCharCode(b), [b]);
    for (let b = 0xa1; b <= 0xdf; b++) sjisTable.set(dec.decode(Uint8Array.of(b)), [b]);
    for (let lead = 0x81; lead <= 0xfc; lead++) {
      if (lead > 0x9f && lead < 0xe0) continue;
      for (let trail = 0x40; trail <= 0xfc; trail++) {
        if (trail === 0x7f) continue;
        try {
          const ch = dec.decode(Uint8Array.of(lead, trail));
          if (!sjisTable.has(ch)) sjisTable.set(ch, [lead, trail]);
        } catch {
          /* unassigned */
        }
      }
    }
  }
  const out: number[] = [];
  for (const ch of text) {
    const b = sjisTable.get(ch);
    if (!b) throw new Error(`not in Shift_JIS: ${ch}`);
    out.push(...b);
  }
  return Buffer.from(out);
}
