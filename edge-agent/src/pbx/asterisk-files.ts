/**
 * The `asterisk-files` adapter: tails cdr_csv Master.csv (+ optional cdr_custom JSON and CEL), polls the MixMonitor
 * folder, correlates rows and recordings into calls and seals each call into the sink once it is complete and quiet.
 *
 * Crash safety: the tail positions and every not-yet-sealed row live in one atomically replaced state file; sealed
 * versions live in the ledger's write-ahead journal. Kill the process anywhere: rows re-read after a restart either
 * are already in a sealed version (skipped) or are still pending; a re-sealed call with identical content keeps its
 * version, different content gets version + 1.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { Journal, readJsonFile } from './atomic.ts';
import { type CdrRow, type CelRec, type CustomRec, celSound, parseCdrCsvLine, parseCdrCustomLine, parseCelLine } from './cdr.ts';
import type { AsteriskFilesConfig } from './config.ts';
import {
  attachSupplements,
  buildCallPayload,
  buildRecordingOnlyPayload,
  type CorrelateContext,
  type Group,
  groupRows,
  groupSpanUtc,
  linkedidHints,
  overlapsCall,
  recordingKeys,
  zoneFor,
} from './correlate.ts';
import { sha256File } from '../state/file-hash.ts';
import { SealLedger } from './ledger.ts';
import type { AdapterDeps } from './index.ts';
import { PolledAdapter } from './polled-adapter.ts';
import { type RecObs, RecordingScanner } from './recordings.ts';
import { FileTail, type TailLine, type TailPosition } from './tail.ts';
import { decodeBytes } from './text.ts';
import { parseNaive, uniqueidEpoch, zonedToUtcMs } from './time.ts';

type FileSig = { size: number; mtimeMs: number; ino: number };
type HistoryMark = { ino: number; offset: number };

/** What the ledger keeps per sealed call (inside the late-change window) to rebuild it when something changes. */
export type AsteriskExtra = { rows: CdrRow[]; customs: CustomRec[]; cels: CelRec[]; recs: Record<string, FileSig> };

type State = {
  v: 1;
  createdAt: number;
  /** First start minus backfillHours: older rows and recordings are history from before the agent existed. */
  ignoreBeforeMs: number | null;
  /** Recordings older than this (mtime) that are not being watched are already handled. */
  scanCutoffMs: number | null;
  learnedZone: string | null;
  /** Where each file ended when the agent first started: rows before it are history (backfillHours applies). */
  history: { cdr: HistoryMark | null; custom: HistoryMark | null; cel: HistoryMark | null };
  tails: { cdr: TailPosition | null; custom: TailPosition | null; cel: TailPosition | null };
  rows: CdrRow[];
  customs: CustomRec[];
  cels: CelRec[];
  recs: RecObs[];
  /** Where a source other than the files stands (the freepbx adapter's database cursor), saved atomically with the rest. */
  source?: Record<string, unknown>;
};

const sigOf = (o: { size: number; mtimeMs: number; ino: number }): FileSig => ({ size: o.size, mtimeMs: o.mtimeMs, ino: o.ino });
const sameSig = (a: FileSig | undefined, b: FileSig) => !!a && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;

export class AsteriskFilesAdapter extends PolledAdapter {
  protected state!: State;
  private ledger!: SealLedger<AsteriskExtra>;
  private unparsed!: Journal;
  private tails: { cdr: FileTail; custom: FileTail | null; cel: FileTail | null } | null = null;
  private scanner!: RecordingScanner;
  private lastFullScan = -Infinity;
  private readonly hashCache = new Map<string, { sig: string; sha256: string; size: number }>();

  constructor(
    protected readonly cfg: AsteriskFilesConfig,
    deps: AdapterDeps,
  ) {
    super(cfg, deps, 'pbx');
  }

  private ms(s: number) {
    return s * 1000;
  }

  protected async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const now = this.clock.now();
    const saved = await readJsonFile<State>(join(this.dir, 'state.json'));
    this.freshStart = saved === null;
    const ignore = this.cfg.backfillHours === null ? null : now - this.cfg.backfillHours * 3600e3;
    this.state = saved ?? {
      v: 1,
      createdAt: now,
      ignoreBeforeMs: ignore,
      scanCutoffMs: ignore,
      learnedZone: null,
      history: { cdr: null, custom: null, cel: null },
      tails: { cdr: null, custom: null, cel: null },
      rows: [],
      customs: [],
      cels: [],
      recs: [],
    };
    this.ledger = await SealLedger.open<AsteriskExtra>(this.dir, this.deps.sink, this.log, this.clock, {
      retentionMs: this.cfg.ledgerRetentionDays * 86400e3,
    });
    this.unparsed = (await Journal.open(join(this.dir, 'unparsed.jsonl'))).journal;
    await this.openSource(saved === null);
    this.scanner = new RecordingScanner(resolve(this.cfg.monitorDir), this.cfg.timezone);
    this.scanner.load(this.state.recs);
    await this.ledger.redeliverPending();
  }

  /** Opens where rows come from (here: the tails of the CDR/CEL files). `fresh`: no saved state (first start). */
  protected async openSource(fresh: boolean): Promise<void> {
    if (fresh) {
      const mark = async (p: string | null) => {
        if (!p) return null;
        const st = await stat(resolve(p)).catch(() => null);
        return st ? { ino: st.ino, offset: st.size } : null;
      };
      this.state.history = { cdr: await mark(this.cfg.cdrCsv), custom: await mark(this.cfg.cdrCustom), cel: await mark(this.cfg.cel) };
    }
    const startAtEnd = fresh && this.cfg.startAtEnd;
    this.tails = {
      cdr: new FileTail(resolve(this.cfg.cdrCsv), this.state.tails.cdr, startAtEnd),
      custom: this.cfg.cdrCustom ? new FileTail(resolve(this.cfg.cdrCustom), this.state.tails.custom, startAtEnd) : null,
      cel: this.cfg.cel ? new FileTail(resolve(this.cfg.cel), this.state.tails.cel, startAtEnd) : null,
    };
  }

  /** Closes what openSource() opened. */
  protected async closeSource(): Promise<void> {
    await this.tails?.cdr.close();
    await this.tails?.custom?.close();
    await this.tails?.cel?.close();
  }

  /** Copies the source's position into the state just before it is saved. */
  protected savePosition(): void {
    const t = this.tails!;
    this.state.tails = { cdr: t.cdr.position(), custom: t.custom?.position() ?? null, cel: t.cel?.position() ?? null };
  }

  protected async close(): Promise<void> {
    await this.closeSource();
    await this.ledger?.close().catch(() => undefined);
    await this.unparsed?.close().catch(() => undefined);
  }

  protected async pass(): Promise<void> {
    const now = this.clock.now();
    await this.ingest(now);
    const full = now - this.lastFullScan >= this.ms(this.cfg.fullScanSeconds);
    const settled = this.settledPaths();
    const firstScan = this.lastFullScan === -Infinity;
    await this.scanner.scan(now, full, this.state.scanCutoffMs ?? -Infinity, (o) => settled.has(o.path) && sameSig(settled.get(o.path), sigOf(o)));
    // Recordings under the cutoff on the very first scan of a fresh state are history (later: already handled).
    if (firstScan && this.freshStart) this.skippedHistory.recordings += this.scanner.skippedOld;
    if (full) this.lastFullScan = now;
    await this.correlateAndSeal(now);
    if (full) this.advanceCutoff(now);
    await this.persist();
    this.reportSkipped();
  }

  /** True when this process created the state (the agent's first start with this PBX). */
  private freshStart = false;

  // ---- ingest ---------------------------------------------------------------------------------------------

  protected sealedRowKeys(): Set<string> {
    const keys = new Set<string>();
    for (const e of this.ledger.recent()) {
      for (const r of e.extra!.rows) keys.add(r.key);
      for (const c of e.extra!.customs) keys.add(c.key);
      for (const c of e.extra!.cels) keys.add(c.key);
    }
    return keys;
  }

  /** History from before the agent's first start that is older than backfillHours. */
  private historic(line: TailLine, mark: HistoryMark | null): boolean {
    return this.state.ignoreBeforeMs !== null && !!mark && line.ino === mark.ino && line.offset < mark.offset;
  }

  private tooOld(line: TailLine, mark: HistoryMark | null, naive: string): boolean {
    if (!this.historic(line, mark)) return false;
    const t = parseNaive(naive);
    // Rough on purpose (the zone is not decided yet): 14 h of slack covers any zone.
    const old = t !== null && zonedToUtcMs(t, 'UTC') < this.state.ignoreBeforeMs! - 14 * 3600e3;
    if (old) this.skipped('cdrRows', naive);
    return old;
  }

  /** History skipped under backfillHours since start-up (logged after each pass that skipped more). */
  private readonly skippedHistory = { cdrRows: 0, cdrCustomLines: 0, celRows: 0, recordings: 0, oldest: null as string | null, newest: null as string | null };
  private skippedLogged = '';

  private skipped(kind: 'cdrRows' | 'cdrCustomLines' | 'celRows', when: string | null): void {
    const h = this.skippedHistory;
    h[kind]++;
    if (when !== null) {
      if (h.oldest === null || when < h.oldest) h.oldest = when;
      if (h.newest === null || when > h.newest) h.newest = when;
    }
  }

  private reportSkipped(): void {
    const h = this.skippedHistory;
    const text = JSON.stringify(h);
    if (text === this.skippedLogged || h.cdrRows + h.cdrCustomLines + h.celRows + h.recordings === 0) return;
    this.skippedLogged = text;
    this.log.info('PBX history older than backfillHours skipped', {
      pbx: this.cfg.id,
      why: `first start on ${new Date(this.state.createdAt).toISOString()} with backfillHours=${this.cfg.backfillHours}: older calls were made before this agent collected them (set backfillHours: null on a fresh state folder to take everything)`,
      ignoreBefore: this.state.ignoreBeforeMs === null ? null : new Date(this.state.ignoreBeforeMs).toISOString(),
      ...h,
    });
  }

  /** Reads what is new at the source into the pending rows (state.rows/customs/cels), skipping keys already known. */
  protected async ingest(now: number): Promise<void> {
    const t = this.tails!;
    const known = this.sealedRowKeys();
    const pendingKeys = new Set<string>([...this.state.rows, ...this.state.customs, ...this.state.cels].map((r) => r.key));
    const take = (key: string) => {
      if (known.has(key) || pendingKeys.has(key)) return false;
      pendingKeys.add(key);
      return true;
    };
    const poll = async (tail: FileTail) => {
      const { lines, notices } = await tail.poll();
      for (const n of notices) this.log[n.level](n.message, { pbx: this.cfg.id, ...n.fields });
      return lines;
    };

    for (const line of await poll(t.cdr)) {
      const { text, encoding } = decodeBytes(line.bytes, this.cfg.cdrEncoding);
      const parsed = parseCdrCsvLine(text, { file: line.file, offset: line.offset, encoding, seenAt: now }, line.complete);
      for (const row of parsed.rows) {
        if (this.tooOld(line, this.state.history.cdr, row.end || row.start)) continue;
        if (take(row.key)) this.state.rows.push(row);
      }
      if (parsed.unparsed !== null) await this.keepUnparsed('cdr-csv', line, 'not a CDR row');
    }
    if (t.custom) {
      for (const line of await poll(t.custom)) {
        const { text } = decodeBytes(line.bytes, this.cfg.cdrEncoding);
        const rec = parseCdrCustomLine(text, { file: line.file, offset: line.offset, seenAt: now }, this.cfg.noticeVariable);
        if (!rec) await this.keepUnparsed('cdr-custom', line, 'not a JSON object');
        else if (this.historic(line, this.state.history.custom) && (rec.startUtcMs ?? Infinity) < this.state.ignoreBeforeMs! - 3600e3) {
          this.skipped('cdrCustomLines', new Date(rec.startUtcMs!).toISOString());
          continue;
        }
        else if (take(rec.key)) this.state.customs.push(rec);
      }
    }
    if (t.cel) {
      for (const line of await poll(t.cel)) {
        const { text } = decodeBytes(line.bytes, this.cfg.cdrEncoding);
        const rec = parseCelLine(text, { file: line.file, offset: line.offset, seenAt: now });
        if (!rec) {
          await this.keepUnparsed('cel', line, 'not a CEL row');
          continue;
        }
        if (!this.celUseful(rec)) continue;
        if (this.historic(line, this.state.history.cel) && (rec.eventtimeS ?? Infinity) * 1000 < this.state.ignoreBeforeMs! - 3600e3) {
          this.skipped('celRows', new Date(rec.eventtimeS! * 1000).toISOString());
          continue;
        }
        if (take(rec.key)) this.state.cels.push(rec);
      }
    }
  }

  protected celUseful(c: CelRec): boolean {
    // End of call, who was rung (CHAN_START), the operator's pickup (BRIDGE_ENTER), transfers.
    if (['LINKEDID_END', 'CHAN_START', 'BRIDGE_ENTER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER'].includes(c.eventtype)) return true;
    if (c.eventtype === 'STREAM_BEGIN') return this.cfg.noticeSound !== null && celSound(c) === this.cfg.noticeSound;
    const v = this.cfg.noticeVariable.toUpperCase();
    return c.eventtype.toUpperCase() === v || c.userdeftype.toUpperCase() === v;
  }

  private async keepUnparsed(source: string, line: TailLine, why: string): Promise<void> {
    this.log.warn('unreadable PBX line kept aside', { pbx: this.cfg.id, source, file: line.file, offset: line.offset, why });
    await this.unparsed.append({ at: this.clock.now(), source, file: line.file, offset: line.offset, complete: line.complete, why, rawBase64: line.bytes.toString('base64') });
  }

  // ---- correlation ----------------------------------------------------------------------------------------

  private settledPaths(): Map<string, FileSig> {
    const m = new Map<string, FileSig>();
    for (const e of this.ledger.recent()) for (const [p, s] of Object.entries(e.extra!.recs)) m.set(p, s);
    return m;
  }

  private key(id: string) {
    return `${this.cfg.id}:${id}`;
  }

  private async correlateAndSeal(now: number): Promise<void> {
    const quiet = this.ms(this.cfg.quietSeconds);
    const settled = this.settledPaths();
    const allObs = [...this.scanner.obs.values()];
    const active = allObs.filter((o) => !sameSig(settled.get(o.path), sigOf(o)));
    const recent = new Map([...this.ledger.recent()].map((e) => [e.key, e]));

    // Which sealed calls are touched: by a pending row, or by a new/changed recording carrying one of their ids.
    const pass1 = groupRows(this.state.rows).groups;
    const touched = new Set<string>();
    for (const id of pass1.keys()) if (recent.has(this.key(id))) touched.add(this.key(id));
    const uidToSealed = new Map<string, string>();
    for (const e of recent.values()) {
      uidToSealed.set(e.payload!.linkedId, e.key);
      for (const r of e.extra!.rows) {
        if (r.uniqueid) uidToSealed.set(r.uniqueid, e.key);
        if (r.linkedid) uidToSealed.set(r.linkedid, e.key);
      }
    }
    for (const o of active) {
      const k = (o.parsed.uid && uidToSealed.get(o.parsed.uid)) || uidToSealed.get(o.parsed.base);
      if (k) touched.add(k);
    }
    for (const c of [...this.state.customs, ...this.state.cels]) {
      const k = c.linkedid ? this.key(c.linkedid) : null;
      if (k && recent.has(k)) touched.add(k);
    }
    // A row fragment (crash, log replay) is matched against the sealed calls too: it never makes a call of its own.
    for (const r of this.state.rows) {
      if (!r.truncated) continue;
      for (const e of recent.values()) if (overlapsCall(r, e.extra!.rows) !== null) touched.add(e.key);
    }

    const rowsByKey = new Map<string, CdrRow>(this.state.rows.map((r) => [r.key, r]));
    const custByKey = new Map<string, CustomRec>(this.state.customs.map((r) => [r.key, r]));
    const celByKey = new Map<string, CelRec>(this.state.cels.map((r) => [r.key, r]));
    const recordingOnlySealed: string[] = [];
    for (const k of touched) {
      const x = recent.get(k)!.extra!;
      for (const r of x.rows) if (!rowsByKey.has(r.key)) rowsByKey.set(r.key, r);
      for (const r of x.customs) if (!custByKey.has(r.key)) custByKey.set(r.key, r);
      for (const r of x.cels) if (!celByKey.has(r.key)) celByKey.set(r.key, r);
      if (x.rows.length === 0) recordingOnlySealed.push(k);
      // Make sure the sealed call's recordings are watched again (they may have been forgotten after a restart).
      for (const p of Object.keys(x.recs)) if (!this.scanner.obs.has(p)) await this.scanner.watch(p, now);
    }
    const hints = linkedidHints([...custByKey.values()], [...celByKey.values()]);
    const { groups, noise, fragments } = groupRows([...rowsByKey.values()], hints);
    const left = attachSupplements(groups, [...custByKey.values()], [...celByKey.values()]);

    // Recordings → calls by id in the file name (or the basename cdr_custom gave).
    const obsNow = [...this.scanner.obs.values()];
    const claimed = new Set<string>();
    for (const g of groups.values()) {
      const { uids, bases } = recordingKeys(g);
      for (const o of obsNow) {
        if ((o.parsed.uid && uids.has(o.parsed.uid)) || bases.has(o.parsed.base)) {
          g.recordings.push(o);
          claimed.add(o.path);
        }
      }
    }
    const ctx: CorrelateContext = { config: this.cfg, learnedZone: this.state.learnedZone, hashes: new Map() };
    // Weak matching: a recording no id claims, against calls whose times and numbers fit.
    for (const o of obsNow) {
      if (claimed.has(o.path) || sameSig(settled.get(o.path), sigOf(o))) continue;
      const cands: Group[] = [];
      for (const g of groups.values()) {
        if (o.parsed.uid && g.rows.some((r) => r.uniqueid)) continue; // ids on both sides and they differ
        const span = groupSpanUtc(g, zoneFor(g, ctx).zone);
        if (!span) continue;
        const e = uniqueidEpoch(o.parsed.uid);
        const ts = o.parsed.timestr ? parseNaive(o.parsed.timestr) : null;
        const recStart = e !== null ? e * 1000 : ts ? zonedToUtcMs(ts, zoneFor(g, ctx).zone) : o.mtimeMs - (o.wav?.durationS ?? 0) * 1000;
        if (recStart < span[0] - 10_000 || recStart > span[1] + 10_000) continue;
        const numbers = new Set(g.rows.flatMap((r) => [r.src, r.dst]));
        if (o.parsed.src !== null && !numbers.has(o.parsed.src) && !numbers.has(o.parsed.dst ?? '')) continue;
        cands.push(g);
      }
      if (cands.length === 1) {
        cands[0]!.recordings.push(o);
        cands[0]!.weak = true;
        claimed.add(o.path);
      }
    }

    // Seal the calls that are complete and quiet.
    const pendingKeys = new Set([...this.state.rows, ...this.state.customs, ...this.state.cels].map((r) => r.key));
    for (const g of [...groups.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const key = this.key(g.id);
      const pendingItems = [...g.rows, ...g.customs, ...g.cels].filter((r) => pendingKeys.has(r.key));
      const recsChanged = g.recordings.some((o) => !sameSig(settled.get(o.path), sigOf(o)));
      if (pendingItems.length === 0 && !recsChanged) continue;
      const lastSeen = Math.max(-Infinity, ...pendingItems.map((r) => r.seenAt), ...g.recordings.map((o) => o.changedAt));
      if (now - lastSeen < quiet) continue;
      let closed = true;
      for (const o of g.recordings) if (!(await this.scanner.isClosed(o, now, quiet, this.ms(this.cfg.staleRecordingSeconds)))) closed = false;
      if (!closed) continue;
      if (g.rows.length === 0) continue; // supplements without rows wait for their rows
      if (g.recordings.length === 0 && !this.ledger.get(key)) {
        const firstSeen = Math.min(...pendingItems.map((r) => r.seenAt));
        if (now - firstSeen < this.ms(this.cfg.recordingWaitSeconds)) continue;
      }
      if (!(await this.hashAll(g.recordings, ctx))) continue;
      const { payload, files, zone } = buildCallPayload(g, ctx);
      const extra: AsteriskExtra = { rows: g.rows, customs: g.customs, cels: g.cels, recs: Object.fromEntries(g.recordings.map((o) => [o.path, sigOf(o)])) };
      await this.ledger.deliver(key, payload, files, extra);
      if (zone.offsetS !== null) {
        this.state.learnedZone = zone.zone;
        ctx.learnedZone = zone.zone;
      }
      this.dropPending(g);
    }

    // Recordings that no CDR claimed: sealed alone (flag no_cdr) after cdrWaitSeconds unchanged.
    const orphans = new Map<string, RecObs[]>();
    for (const o of obsNow) {
      if (claimed.has(o.path)) continue;
      const id = o.parsed.uid ?? o.parsed.base;
      const k = this.key(id);
      const sealedBefore = recent.get(k);
      if (sameSig(settled.get(o.path), sigOf(o)) && !recordingOnlySealed.includes(k)) continue;
      if (sealedBefore && sealedBefore.extra!.rows.length > 0) continue; // belongs to a CDR call; handled above
      let list = orphans.get(id);
      if (!list) orphans.set(id, (list = []));
      list.push(o);
    }
    for (const [id, recs] of orphans) {
      const key = this.key(id);
      if (!recs.some((o) => !sameSig(settled.get(o.path), sigOf(o)))) continue;
      const lastChange = Math.max(...recs.map((o) => o.changedAt));
      if (now - lastChange < Math.max(quiet, this.ms(this.cfg.cdrWaitSeconds))) continue;
      let closed = true;
      for (const o of recs) if (!(await this.scanner.isClosed(o, now, quiet, this.ms(this.cfg.staleRecordingSeconds)))) closed = false;
      if (!closed) continue;
      if (!(await this.hashAll(recs, ctx))) continue;
      const { payload, files } = buildRecordingOnlyPayload(id, recs, ctx);
      await this.ledger.deliver(key, payload, files, { rows: [], customs: [], cels: [], recs: Object.fromEntries(recs.map((o) => [o.path, sigOf(o)])) });
    }

    // Row fragments that fit no call, sealed or pending: kept aside (not lost), never a call.
    for (const r of fragments) {
      if (now - r.seenAt < this.ms(this.cfg.recordingWaitSeconds)) continue;
      this.log.warn('truncated CDR row fits no call; kept aside', { pbx: this.cfg.id, file: r.file, offset: r.offset });
      await this.unparsed.append({ at: now, source: 'cdr-csv', file: r.file, offset: r.offset, why: 'truncated row that fits no call', raw: r.raw });
      this.state.rows = this.state.rows.filter((p) => p.key !== r.key);
    }
    // Local ;2 rows that fit no call: artefacts. Kept aside (not lost) once they are old enough.
    for (const r of noise) {
      if (now - r.seenAt < this.ms(this.cfg.recordingWaitSeconds)) continue;
      await this.unparsed.append({ at: now, source: 'cdr-csv', file: r.file, offset: r.offset, why: 'Local ;2 row that matches no call', raw: r.raw });
      this.state.rows = this.state.rows.filter((p) => p.key !== r.key);
    }
    // Supplements whose rows never came: dropped after the late-change window.
    const window = this.ms(this.cfg.lateChangeWindowHours * 3600);
    const stale = (x: { seenAt: number; key: string }) => now - x.seenAt > window;
    const leftKeys = new Set([...left.customs, ...left.cels].filter(stale).map((x) => x.key));
    if (leftKeys.size) {
      this.state.customs = this.state.customs.filter((c) => !leftKeys.has(c.key));
      this.state.cels = this.state.cels.filter((c) => !leftKeys.has(c.key));
    }
  }

  private dropPending(g: Group): void {
    const rk = new Set(g.rows.map((r) => r.key));
    const ck = new Set(g.customs.map((r) => r.key));
    const ek = new Set(g.cels.map((r) => r.key));
    this.state.rows = this.state.rows.filter((r) => !rk.has(r.key));
    this.state.customs = this.state.customs.filter((r) => !ck.has(r.key));
    this.state.cels = this.state.cels.filter((r) => !ek.has(r.key));
  }

  /** Hashes each recording; false when a file changed meanwhile (try again next pass). */
  private async hashAll(recs: RecObs[], ctx: CorrelateContext): Promise<boolean> {
    for (const o of recs) {
      const sig = `${o.size}:${o.mtimeMs}:${o.ino}`;
      const cached = this.hashCache.get(o.path);
      if (cached && cached.sig === sig) {
        ctx.hashes.set(o.path, cached);
        continue;
      }
      const h = await sha256File(o.path);
      const st = await stat(o.path);
      if (h.size !== o.size || st.size !== o.size || st.mtimeMs !== o.mtimeMs) return false;
      this.hashCache.set(o.path, { sig, ...h });
      ctx.hashes.set(o.path, h);
    }
    return true;
  }

  private advanceCutoff(now: number): void {
    const window = this.ms(this.cfg.lateChangeWindowHours * 3600);
    const settled = this.settledPaths();
    // A week of margin: recording mtimes come from the PBX's clock, which may be off.
    let candidate = now - window - 7 * 86400e3;
    for (const o of this.scanner.obs.values()) {
      if (!sameSig(settled.get(o.path), sigOf(o))) candidate = Math.min(candidate, o.mtimeMs - 1);
    }
    const cur = this.state.scanCutoffMs ?? -Infinity;
    if (candidate > cur) this.state.scanCutoffMs = candidate;
    // Sealed calls whose files the scanner will no longer revisit need no context any more.
    for (const x of this.ledger.prune(Math.min(now - window, this.state.scanCutoffMs ?? -Infinity))) {
      for (const p of Object.keys(x.recs)) {
        this.scanner.forget(p);
        this.hashCache.delete(p);
      }
    }
  }

  private async persist(): Promise<void> {
    const settled = this.settledPaths();
    this.savePosition();
    this.state.recs = [...this.scanner.obs.values()].filter((o) => !sameSig(settled.get(o.path), sigOf(o)));
    const text = JSON.stringify(this.state);
    if (text === this.lastPersisted) return;
    await writeFileAtomic(join(this.dir, 'state.json'), text);
    this.lastPersisted = text;
  }

  private lastPersisted = '';
}
