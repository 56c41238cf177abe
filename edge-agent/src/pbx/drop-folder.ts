/**
 * The `drop-folder` adapter: another system (3CX, Yeastar export, cloud PBX download script, any recorder) drops
 * `<name>.<audio>` + `<name>.json` sidecar pairs and/or CSV manifests into a folder. Schema: docs/pbx-drop-folder.md.
 * Calls are rebuilt from the files on disk on every pass; the ledger decides whether anything is new. Files are
 * never moved, changed or deleted.
 */
import { CALL_DIRECTIONS, CALL_DISPOSITIONS, NOTICE_PLAYED, RECORDING_ROLES } from '@mamoru/contract/enums';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { Journal, readJsonFile, writeFileAtomic } from './atomic.ts';
import type { AdapterDeps, PbxAdapter } from './asterisk-files.ts';
import { noticeValue } from './cdr.ts';
import type { DropFolderConfig } from './config.ts';
import { parseCsvDocument } from './csv.ts';
import { sha256File } from '../state/file-hash.ts';
import { SealLedger } from './ledger.ts';
import { JAPAN_PLAN, toE164 } from './numbers.ts';
import type { CallDirection, CallDisposition, CallFlag, CallPayload, CallRecording, Clock, PbxLogger, RecordingRole } from './payload.ts';
import { consoleLogger, systemClock } from './payload.ts';
import { isAudioFile } from './recording-name.ts';
import { decodeBytes } from './text.ts';
import { isoUtc, parseNaive, parseWithOffset, zonedToUtcMs } from './time.ts';
import { inspectWav, type WavInfo } from './wav.ts';
import { PollLoop } from './poll-loop.ts';

// ---- sidecar schema --------------------------------------------------------------------------------------------

const isoWithOffset = z.string().refine((s) => parseWithOffset(s) !== null, { message: 'ISO-8601 time with an offset (Z or ±hh:mm) required' });
const fileName = z.string().min(1).max(255).refine((s) => !s.includes('/') && !s.includes('\\') && s !== '.' && s !== '..', { message: 'a file name in the same folder' });

export const sidecarSchema = z
  .object({
    schema: z.literal('mamoru.call/1').optional(),
    callId: z.string().min(1).max(200),
    direction: z.enum(CALL_DIRECTIONS).default('unknown'),
    disposition: z.enum(CALL_DISPOSITIONS).default('unknown'),
    caller: z.object({ number: z.string().nullable().default(null), name: z.string().nullable().default(null) }).default({ number: null, name: null }),
    called: z.object({ number: z.string().nullable().default(null) }).default({ number: null }),
    operator: z.object({ extension: z.string().min(1), name: z.string().nullable().default(null) }).nullable().default(null),
    start: isoWithOffset,
    answer: isoWithOffset.nullable().default(null),
    end: isoWithOffset.nullable().default(null),
    durationS: z.number().nonnegative().nullable().default(null),
    talkS: z.number().nonnegative().nullable().default(null),
    notice: z.object({ played: z.enum(NOTICE_PLAYED), at: isoWithOffset.nullable().default(null) }).nullable().default(null),
    recordings: z.array(z.object({ file: fileName, role: z.enum(RECORDING_ROLES).optional() })).nullable().default(null),
  })
  .refine((s) => s.end !== null || s.durationS !== null, { message: 'end or durationS is required', path: ['end'] });

export type Sidecar = z.infer<typeof sidecarSchema>;

// ---- state ----------------------------------------------------------------------------------------------------

type FileSig = { size: number; mtimeMs: number; ino: number };
type Obs = FileSig & { path: string; firstSeenAt: number; changedAt: number; wav: WavInfo | null; wavFor: string | null };
type State = { v: 1; createdAt: number; scanCutoffMs: number | null; obs: Obs[] };
/** Per sealed call: its metadata file, every file's signature, and the audio it named that was not there. */
export type DropExtra = { meta: string | null; files: Record<string, FileSig>; missing: string[] };

const sigOf = (o: FileSig): FileSig => ({ size: o.size, mtimeMs: o.mtimeMs, ino: o.ino });
const sameSig = (a: FileSig | undefined, b: FileSig) => !!a && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

/** One call as the files describe it right now. */
type Draft = {
  callId: string;
  /** Metadata file (sidecar or manifest) — its content is part of the call. */
  metaPath: string | null;
  audio: { path: string; role: RecordingRole | null }[];
  /** Referenced audio files that are not there (yet). */
  missing: string[];
  build: (recs: CallRecording[]) => CallPayload;
};

function globToRegExp(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${esc}$`, 'i');
}

const DISPOSITIONS: [RegExp, CallDisposition][] = [
  [/^(answered|answer|応答|成立|成立呼|通話|完了)$/i, 'answered'],
  [/^(no[ _]?answer|missed|cancel|不在|不応答|未応答|応答なし|不成立|不成立呼|放棄)$/i, 'no_answer'],
  [/^(busy|話中)$/i, 'busy'],
  [/^(congestion|輻輳)$/i, 'congestion'],
  [/^(failed|failure|失敗|エラー)$/i, 'failed'],
];
const DIRECTIONS: [RegExp, CallDirection][] = [
  [/^(inbound|in|incoming|着信|受信|外線着信)$/i, 'inbound'],
  [/^(outbound|out|outgoing|発信|外線発信)$/i, 'outbound'],
  [/^(internal|内線)$/i, 'internal'],
];

function mapWord<T>(v: string | null, table: [RegExp, T][], dflt: T): T {
  if (!v) return dflt;
  for (const [re, out] of table) if (re.test(v.trim())) return out;
  return dflt;
}

/** `h:mm:ss`, `m:ss`, `123`, `123.5` → seconds. */
export function parseDuration(v: string | null): number | null {
  if (v === null) return null;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(s);
  if (m) return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return null;
}

export class DropFolderAdapter implements PbxAdapter {
  private readonly dir: string;
  private readonly root: string;
  private readonly log: PbxLogger;
  private readonly clock: Clock;
  private state!: State;
  private obs = new Map<string, Obs>();
  private ledger!: SealLedger<DropExtra>;
  private rejected!: Journal;
  private readonly rejectedSeen = new Set<string>();
  private readonly manifestRe: RegExp | null;
  private opened: Promise<void> | null = null;
  private readonly poller = new PollLoop(
    () => this.tick(),
    () => this.cfg.pollSeconds * 1000,
    (err) => this.log.error('drop-folder pass failed; will retry', { pbx: this.cfg.id, error: String((err as Error)?.stack ?? err) }),
  );
  private lastPersisted = '';
  private readonly hashCache = new Map<string, { sig: string; sha256: string; size: number }>();

  constructor(
    private readonly cfg: DropFolderConfig,
    private readonly deps: AdapterDeps,
  ) {
    this.dir = join(resolve(deps.stateDir), 'pbx', cfg.id);
    this.root = resolve(cfg.dropDir);
    this.log = deps.log ?? consoleLogger;
    this.clock = deps.clock ?? systemClock;
    this.manifestRe = cfg.manifest ? globToRegExp(cfg.manifest.pattern) : null;
  }

  private async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const now = this.clock.now();
    const saved = await readJsonFile<State>(join(this.dir, 'state.json'));
    this.state = saved ?? { v: 1, createdAt: now, scanCutoffMs: this.cfg.backfillHours === null ? null : now - this.cfg.backfillHours * 3600e3, obs: [] };
    for (const o of this.state.obs) this.obs.set(o.path, o);
    this.ledger = await SealLedger.open<DropExtra>(this.dir, this.deps.sink, this.log, this.clock, { retentionMs: this.cfg.ledgerRetentionDays * 86400e3 });
    const r = await Journal.open(join(this.dir, 'rejected.jsonl'));
    this.rejected = r.journal;
    for (const x of r.records as { path: string; sig: string }[]) this.rejectedSeen.add(`${x.path}|${x.sig}`);
    await this.ledger.redeliverPending();
  }

  private ensureOpen(): Promise<void> {
    this.opened ??= this.open();
    return this.opened;
  }

  async start(): Promise<void> {
    await this.ensureOpen();
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    if (this.opened) {
      await this.opened.catch(() => undefined);
      await this.ledger?.close().catch(() => undefined);
      await this.rejected?.close().catch(() => undefined);
      this.opened = null;
    }
  }

  async tick(): Promise<void> {
    await this.ensureOpen();
    const now = this.clock.now();
    await this.scan(now);
    await this.correlateAndSeal(now);
    this.advanceCutoff(now);
    this.state.obs = [...this.obs.values()];
    const text = JSON.stringify(this.state);
    if (text !== this.lastPersisted) {
      await writeFileAtomic(join(this.dir, 'state.json'), text);
      this.lastPersisted = text;
    }
  }

  private async scan(now: number): Promise<void> {
    const seen = new Set<string>();
    const cutoff = this.state.scanCutoffMs ?? -Infinity;
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) {
          if (depth < 3) await walk(p, depth + 1);
          continue;
        }
        if (!e.isFile() || e.name.startsWith('.')) continue;
        const kind = this.kindOf(e.name);
        if (!kind) continue;
        let st;
        try {
          st = await stat(p);
        } catch {
          continue;
        }
        if (!this.obs.has(p) && st.mtimeMs < cutoff) continue;
        seen.add(p);
        const o = this.obs.get(p);
        if (!o) this.obs.set(p, { path: p, ...sigOf(st), firstSeenAt: now, changedAt: now, wav: null, wavFor: null });
        else if (!sameSig(o, st)) Object.assign(o, sigOf(st), { changedAt: now, wav: null, wavFor: null });
      }
    };
    await walk(this.root, 0);
    for (const p of [...this.obs.keys()]) if (!seen.has(p)) this.obs.delete(p);
  }

  private kindOf(name: string): 'sidecar' | 'manifest' | 'audio' | null {
    if (this.manifestRe?.test(name)) return 'manifest';
    if (/\.json$/i.test(name)) return 'sidecar';
    if (isAudioFile(name)) return 'audio';
    return null;
  }

  private stable(o: Obs, now: number): boolean {
    return now - o.changedAt >= this.cfg.quietSeconds * 1000;
  }

  private async audioClosed(o: Obs, now: number): Promise<boolean> {
    if (!this.stable(o, now)) return false;
    if (!/\.wav$/i.test(o.path)) return true;
    const tag = `${o.size}:${o.mtimeMs}`;
    if (o.wavFor !== tag) {
      o.wav = await inspectWav(o.path).catch(() => null);
      o.wavFor = tag;
    }
    return !!o.wav?.final || now - o.changedAt >= this.cfg.staleRecordingSeconds * 1000;
  }

  private async reject(path: string, o: Obs, why: string): Promise<void> {
    const sig = `${o.size}:${o.mtimeMs}:${o.ino}`;
    if (this.rejectedSeen.has(`${path}|${sig}`)) return;
    this.rejectedSeen.add(`${path}|${sig}`);
    this.log.warn('drop-folder file rejected', { pbx: this.cfg.id, path, why });
    await this.rejected.append({ at: this.clock.now(), path, sig, why });
  }

  private key(id: string) {
    return `${this.cfg.id}:${id}`;
  }

  private async correlateAndSeal(now: number): Promise<void> {
    // Files of sealed calls: path → signature when sealed, and metadata file → the calls it described.
    const settled = new Map<string, FileSig>();
    const callsOfMeta = new Map<string, string[]>();
    for (const e of this.ledger.recent()) {
      for (const [p, sg] of Object.entries(e.extra!.files)) settled.set(p, sg);
      if (e.extra!.meta) callsOfMeta.set(e.extra!.meta, [...(callsOfMeta.get(e.extra!.meta) ?? []), e.key]);
    }
    const isSettled = (o: Obs) => sameSig(settled.get(o.path), o);

    const drafts: Draft[] = [];
    const referenced = new Set<string>();
    const byDirName = (dir: string) => [...this.obs.values()].filter((o) => o.path.startsWith(dir + sep) && !o.path.slice(dir.length + 1).includes(sep));

    for (const o of [...this.obs.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
      const name = o.path.slice(o.path.lastIndexOf(sep) + 1);
      const kind = this.kindOf(name);
      if (kind === 'audio' || !kind) continue;
      if (!this.stable(o, now)) {
        // Not readable yet; its files count as referenced so they are not taken for orphans meanwhile.
        const stem = name.replace(/\.[^.]+$/, '');
        for (const a of byDirName(o.path.slice(0, o.path.lastIndexOf(sep)))) if (a.path.slice(a.path.lastIndexOf(sep) + 1).startsWith(`${stem}.`)) referenced.add(a.path);
        continue;
      }
      if (isSettled(o)) {
        // Unchanged metadata of sealed calls: re-read it only if one of their audio files changed.
        let unchanged = true;
        const dir = o.path.slice(0, o.path.lastIndexOf(sep));
        for (const key of callsOfMeta.get(o.path) ?? []) {
          const x = this.ledger.get(key)!.extra!;
          for (const [p, sg] of Object.entries(x.files)) {
            referenced.add(p);
            const cur = this.obs.get(p);
            if (!cur || !sameSig(sg, cur)) unchanged = false;
          }
          // Audio it named that was missing when sealed has turned up.
          for (const m of x.missing) {
            if (m.endsWith('.*') ? byDirName(dir).some((a) => isAudioFile(a.path) && a.path.slice(dir.length + 1).startsWith(m.slice(0, -1))) : this.obs.has(join(dir, m))) unchanged = false;
          }
        }
        if (unchanged) continue;
      }
      const text = await readFile(o.path).catch(() => null);
      if (!text) continue;
      if (kind === 'sidecar') {
        const d = await this.sidecarDraft(o, text);
        if (d) {
          drafts.push(d);
          for (const a of d.audio) referenced.add(a.path);
        }
      } else {
        for (const d of await this.manifestDrafts(o, text)) {
          drafts.push(d);
          for (const a of d.audio) referenced.add(a.path);
        }
      }
    }

    for (const d of drafts) await this.trySeal(d, now);

    // Audio that nothing references: sealed alone after pairWaitSeconds (flag no_cdr).
    for (const o of this.obs.values()) {
      const name = o.path.slice(o.path.lastIndexOf(sep) + 1);
      if (this.kindOf(name) !== 'audio' || referenced.has(o.path)) continue;
      if (isSettled(o)) continue;
      if (now - o.changedAt < this.cfg.pairWaitSeconds * 1000) continue;
      const callId = relative(this.root, o.path).replace(/\.[^.]+$/, '').split(sep).join('/');
      await this.trySeal(
        {
          callId,
          metaPath: null,
          audio: [{ path: o.path, role: null }],
          missing: [],
          build: (recs) => this.orphanPayload(callId, o, recs),
        },
        now,
      );
    }
  }

  private async trySeal(d: Draft, now: number): Promise<void> {
    const key = this.key(d.callId);
    const files = [...(d.metaPath ? [d.metaPath] : []), ...d.audio.map((a) => a.path)];
    const prev = this.ledger.get(key);
    const allSettled =
      !!prev?.extra &&
      files.every((p) => {
        const o = this.obs.get(p);
        return o && sameSig(prev.extra!.files[p], o);
      });
    if (allSettled && d.missing.length === 0) return;
    for (const a of d.audio) if (!(await this.audioClosed(this.obs.get(a.path)!, now))) return;
    if (d.missing.length > 0 && d.metaPath) {
      const meta = this.obs.get(d.metaPath)!;
      if (now - meta.changedAt < this.cfg.pairWaitSeconds * 1000) return;
      if (allSettled) return;
    }
    const recs: CallRecording[] = [];
    const fileMap: Record<string, string> = {};
    for (const a of [...d.audio].sort((x, y) => (x.path < y.path ? -1 : 1))) {
      const o = this.obs.get(a.path)!;
      const sig = `${o.size}:${o.mtimeMs}:${o.ino}`;
      let h = this.hashCache.get(a.path);
      if (!h || h.sig !== sig) {
        const fresh = await sha256File(a.path);
        if (fresh.size !== o.size) return; // changed while hashing
        h = { sig, ...fresh };
        this.hashCache.set(a.path, h);
      }
      const name = a.path.slice(a.path.lastIndexOf(sep) + 1);
      const wav = o.wav;
      recs.push({
        name,
        role: a.role ?? (wav?.channels === 2 ? 'stereo' : 'mixed'),
        format: name.slice(name.lastIndexOf('.') + 1).toLowerCase(),
        sampleRate: wav?.sampleRate ?? null,
        channels: wav?.channels ?? null,
        durationS: wav?.durationS ?? null,
        size: h.size,
        sha256: h.sha256,
      });
      fileMap[name] = a.path;
    }
    const payload = d.build(recs);
    const extra: DropExtra = { meta: d.metaPath, files: Object.fromEntries(files.map((p) => [p, sigOf(this.obs.get(p)!)])), missing: d.missing };
    await this.ledger.deliver(key, payload, fileMap, extra);
  }

  private async sidecarDraft(o: Obs, bytes: Buffer): Promise<Draft | null> {
    const text = decodeBytes(bytes, 'utf-8').text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      await this.reject(o.path, o, 'sidecar is not valid JSON');
      return null;
    }
    const parsed = sidecarSchema.safeParse(json);
    if (!parsed.success) {
      await this.reject(o.path, o, `sidecar does not match the schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
      return null;
    }
    const s = parsed.data;
    const dir = o.path.slice(0, o.path.lastIndexOf(sep));
    const stem = o.path.slice(dir.length + 1).replace(/\.json$/i, '');
    const audio: Draft['audio'] = [];
    const missing: string[] = [];
    if (s.recordings) {
      for (const r of s.recordings) {
        const p = join(dir, r.file);
        if (this.obs.has(p) && isAudioFile(r.file)) audio.push({ path: p, role: r.role ?? null });
        else missing.push(r.file);
      }
    } else {
      for (const a of this.obs.values()) {
        const n = a.path.slice(a.path.lastIndexOf(sep) + 1);
        if (a.path === join(dir, n) && n.startsWith(`${stem}.`) && isAudioFile(n)) audio.push({ path: a.path, role: null });
      }
      if (audio.length === 0) missing.push(`${stem}.*`);
    }
    const file = o.path;
    return {
      callId: s.callId,
      metaPath: o.path,
      audio,
      missing,
      build: (recs) => this.sidecarPayload(s, text, file, recs),
    };
  }

  private sidecarPayload(s: Sidecar, raw: string, file: string, recs: CallRecording[]): CallPayload {
    const startMs = parseWithOffset(s.start)!;
    const endMs = s.end ? parseWithOffset(s.end)! : startMs + Math.round(s.durationS! * 1000);
    const answerMs = s.answer ? parseWithOffset(s.answer) : null;
    const flags: CallFlag[] = recs.length === 0 ? ['no_recording'] : [];
    return {
      pbxId: this.cfg.id,
      linkedId: s.callId,
      adapter: 'drop-folder',
      direction: s.direction,
      disposition: s.disposition,
      caller: { number: s.caller.number, name: s.caller.name, e164: toE164(s.caller.number, this.plan()) },
      called: { number: s.called.number, e164: toE164(s.called.number, this.plan()) },
      operator: s.operator ? { extension: s.operator.extension, name: s.operator.name ?? this.cfg.operators[s.operator.extension] ?? null, source: 'sidecar' } : null,
      times: {
        startUtc: isoUtc(startMs),
        answerUtc: answerMs === null ? null : isoUtc(answerMs),
        endUtc: isoUtc(endMs),
        durationS: s.durationS !== null ? Math.round(s.durationS) : Math.max(0, Math.round((endMs - startMs) / 1000)),
        talkS: s.talkS !== null ? Math.round(s.talkS) : answerMs !== null ? Math.max(0, Math.round((endMs - answerMs) / 1000)) : null,
        zone: this.cfg.timezone,
        zoneSource: 'offset_in_data',
        raw: { start: s.start, answer: s.answer, end: s.end },
      },
      notice: s.notice
        ? { played: s.notice.played, method: 'sidecar', atUtc: s.notice.at ? isoUtc(parseWithOffset(s.notice.at)!) : null }
        : { played: this.cfg.noticeAssumed ?? 'unknown', method: this.cfg.noticeAssumed ? 'config' : null, atUtc: null },
      legs: [
        {
          uniqueId: null,
          linkedId: s.callId,
          sequence: null,
          src: s.caller.number,
          dst: s.called.number,
          channel: null,
          dstChannel: null,
          lastApp: null,
          disposition: s.disposition,
          raw,
          source: { file, offset: null },
        },
      ],
      recordings: recs,
      flags,
    };
  }

  private plan() {
    return this.cfg.countryCode === '81' ? JAPAN_PLAN : { countryCode: this.cfg.countryCode, trunkPrefix: '0', internationalPrefixes: ['00'], stripPrefixes: [] };
  }

  private async manifestDrafts(o: Obs, bytes: Buffer): Promise<Draft[]> {
    const m = this.cfg.manifest!;
    const { text, encoding } = decodeBytes(bytes, m.encoding);
    const records = parseCsvDocument(text, m.delimiter);
    if (records.length === 0) return [];
    const header = m.header ? records[0]!.fields.map((h) => h.trim()) : null;
    const body = m.header ? records.slice(1) : records;
    const colIndex = (ref: string | number | undefined): number | null => {
      if (ref === undefined) return null;
      if (typeof ref === 'number') return ref;
      const i = header ? header.indexOf(ref) : -1;
      return i >= 0 ? i : null;
    };
    const cols = m.columns;
    const missingCols = Object.entries(cols).filter(([, ref]) => ref !== undefined && colIndex(ref) === null).map(([k]) => k);
    if (missingCols.length) {
      await this.reject(o.path, o, `manifest has no column for: ${missingCols.join(', ')}`);
      return [];
    }
    const bomBytes = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const dir = o.path.slice(0, o.path.lastIndexOf(sep));
    const drafts: Draft[] = [];
    for (const rec of body) {
      const get = (k: keyof typeof cols) => {
        const i = colIndex(cols[k]);
        if (i === null) return null;
        const v = rec.fields[i]?.trim();
        return v === undefined || v === '' ? null : v;
      };
      const startRaw = get('start');
      const time = (v: string | null) => {
        if (v === null) return { ms: null as number | null, offset: false };
        const withOff = parseWithOffset(v);
        if (withOff !== null) return { ms: withOff, offset: true };
        const t = parseNaive(v);
        return { ms: t ? zonedToUtcMs(t, this.cfg.timezone) : null, offset: false };
      };
      const start = time(startRaw);
      if (start.ms === null) {
        await this.rejectRow(o, rec.raw, 'start time missing or unreadable');
        continue;
      }
      const end = time(get('end'));
      const answer = time(get('answer'));
      const durationS = parseDuration(get('durationS'));
      const recording = get('recording');
      const callId = get('callId') ?? `row-${createHash('sha256').update(rec.raw).digest('hex').slice(0, 16)}`;
      const audio: Draft['audio'] = [];
      const missing: string[] = [];
      if (recording) {
        const p = join(dir, recording.replace(/\\/g, '/').split('/').pop()!);
        if (this.obs.has(p)) audio.push({ path: p, role: null });
        else missing.push(recording);
      }
      const offset = encoding === 'utf-8' ? bomBytes + Buffer.byteLength(text.slice(text.charCodeAt(0) === 0xfeff ? 1 : 0, rec.start)) : null;
      const noticeRaw = get('notice');
      const notice = noticeRaw === null ? null : noticeValue(noticeRaw) ?? (/^(あり|有|済|再生)$/.test(noticeRaw) ? 'yes' : /^(なし|無|未)$/.test(noticeRaw) ? 'no' : null);
      const caller = get('callerNumber');
      const called = get('calledNumber');
      const opExt = get('operatorExtension');
      const file = o.path;
      const allOffsets = [start, end, answer].every((t) => t.ms === null || t.offset);
      drafts.push({
        callId,
        metaPath: o.path,
        audio,
        missing,
        build: (recs) => {
          const endMs = end.ms ?? start.ms! + Math.round((durationS ?? 0) * 1000);
          const flags: CallFlag[] = recs.length === 0 ? ['no_recording'] : [];
          const talk = parseDuration(get('talkS'));
          return {
            pbxId: this.cfg.id,
            linkedId: callId,
            adapter: 'drop-folder',
            direction: mapWord(get('direction'), DIRECTIONS, 'unknown'),
            disposition: mapWord(get('disposition'), DISPOSITIONS, 'unknown'),
            caller: { number: caller, name: get('callerName'), e164: toE164(caller, this.plan()) },
            called: { number: called, e164: toE164(called, this.plan()) },
            operator: opExt ? { extension: opExt, name: get('operatorName') ?? this.cfg.operators[opExt] ?? null, source: 'cdr' } : null,
            times: {
              startUtc: isoUtc(start.ms!),
              answerUtc: answer.ms === null ? null : isoUtc(answer.ms),
              endUtc: isoUtc(endMs),
              durationS: durationS !== null ? Math.round(durationS) : Math.max(0, Math.round((endMs - start.ms!) / 1000)),
              talkS: talk !== null ? Math.round(talk) : null,
              zone: this.cfg.timezone,
              zoneSource: allOffsets ? 'offset_in_data' : 'config',
              raw: { start: startRaw, answer: get('answer'), end: get('end') },
            },
            notice: notice
              ? { played: notice, method: 'sidecar', atUtc: null }
              : { played: this.cfg.noticeAssumed ?? 'unknown', method: this.cfg.noticeAssumed ? 'config' : null, atUtc: null },
            legs: [
              {
                uniqueId: null,
                linkedId: callId,
                sequence: null,
                src: caller,
                dst: called,
                channel: null,
                dstChannel: null,
                lastApp: null,
                disposition: get('disposition'),
                raw: rec.raw,
                source: { file, offset },
              },
            ],
            recordings: recs,
            flags,
          };
        },
      });
    }
    return drafts;
  }

  private async rejectRow(o: Obs, raw: string, why: string): Promise<void> {
    const sig = `${o.size}:${o.mtimeMs}:${o.ino}:${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
    if (this.rejectedSeen.has(`${o.path}|${sig}`)) return;
    this.rejectedSeen.add(`${o.path}|${sig}`);
    this.log.warn('manifest row rejected', { pbx: this.cfg.id, path: o.path, why });
    await this.rejected.append({ at: this.clock.now(), path: o.path, sig, why, raw });
  }

  private orphanPayload(callId: string, o: Obs, recs: CallRecording[]): CallPayload {
    const durationS = o.wav?.durationS ?? 0;
    const endMs = Math.round(o.mtimeMs);
    const startMs = endMs - Math.round(durationS * 1000);
    return {
      pbxId: this.cfg.id,
      linkedId: callId,
      adapter: 'drop-folder',
      direction: 'unknown',
      disposition: 'unknown',
      caller: { number: null, name: null, e164: null },
      called: { number: null, e164: null },
      operator: null,
      times: {
        startUtc: isoUtc(startMs),
        answerUtc: null,
        endUtc: isoUtc(endMs),
        durationS: Math.round(durationS),
        talkS: null,
        zone: this.cfg.timezone,
        zoneSource: 'config',
        raw: { start: null, answer: null, end: null },
      },
      notice: { played: this.cfg.noticeAssumed ?? 'unknown', method: this.cfg.noticeAssumed ? 'config' : null, atUtc: null },
      legs: [],
      recordings: recs,
      flags: ['no_cdr'],
    };
  }

  private advanceCutoff(now: number): void {
    const window = this.cfg.lateChangeWindowHours * 3600e3;
    const settled = new Map<string, FileSig>();
    for (const e of this.ledger.recent()) for (const [p, s] of Object.entries(e.extra!.files)) settled.set(p, s);
    let candidate = now - window - 7 * 86400e3;
    for (const o of this.obs.values()) if (!sameSig(settled.get(o.path), o)) candidate = Math.min(candidate, o.mtimeMs - 1);
    if (candidate > (this.state.scanCutoffMs ?? -Infinity)) this.state.scanCutoffMs = candidate;
    for (const x of this.ledger.prune(Math.min(now - window, this.state.scanCutoffMs ?? -Infinity))) {
      for (const p of Object.keys(x.files)) {
        this.obs.delete(p);
        this.hashCache.delete(p);
      }
    }
  }
}
