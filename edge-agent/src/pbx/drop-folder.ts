/**
 * The `drop-folder` adapter: another system (3CX, Yeastar export, cloud PBX download script, any recorder) drops
 * `<name>.<audio>` + `<name>.json` sidecar pairs and/or CSV manifests into a folder. Schema: docs/pbx-drop-folder.md;
 * reading the files: drop-folder-parse.ts. Calls are rebuilt from the files on disk on every pass; the ledger
 * decides whether anything is new. Files are never moved, changed or deleted.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { sha256File } from '../state/file-hash.ts';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { Journal, readJsonFile } from './atomic.ts';
import type { DropFolderConfig } from './config.ts';
import { globToRegExp, orphanPayload, parseManifest, parseSidecar, sidecarPayload } from './drop-folder-parse.ts';
import type { AdapterDeps } from './index.ts';
import { SealLedger } from './ledger.ts';
import type { CallPayload, CallRecording, RecordingRole } from './payload.ts';
import { PolledAdapter } from './polled-adapter.ts';
import { isAudioFile } from './recording-name.ts';
import { inspectWav, type WavInfo } from './wav.ts';

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

export class DropFolderAdapter extends PolledAdapter {
  private readonly root: string;
  private state!: State;
  private obs = new Map<string, Obs>();
  private ledger!: SealLedger<DropExtra>;
  private rejected!: Journal;
  private readonly rejectedSeen = new Set<string>();
  private readonly manifestRe: RegExp | null;
  private lastPersisted = '';
  private readonly hashCache = new Map<string, { sig: string; sha256: string; size: number }>();

  constructor(
    private readonly cfg: DropFolderConfig,
    deps: AdapterDeps,
  ) {
    super(cfg, deps, 'drop-folder');
    this.root = resolve(cfg.dropDir);
    this.manifestRe = cfg.manifest ? globToRegExp(cfg.manifest.pattern) : null;
  }

  protected async open(): Promise<void> {
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

  protected async close(): Promise<void> {
    await this.ledger?.close().catch(() => undefined);
    await this.rejected?.close().catch(() => undefined);
  }

  protected async pass(): Promise<void> {
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
          build: (recs) => orphanPayload(this.cfg, callId, o, recs),
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
    const parsed = parseSidecar(bytes);
    if (!parsed.ok) {
      await this.reject(o.path, o, parsed.why);
      return null;
    }
    const { sidecar: s, text } = parsed;
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
      build: (recs) => sidecarPayload(this.cfg, s, text, file, recs),
    };
  }

  private async manifestDrafts(o: Obs, bytes: Buffer): Promise<Draft[]> {
    const parsed = parseManifest(this.cfg, bytes, o.path);
    if (!parsed.ok) {
      await this.reject(o.path, o, parsed.why);
      return [];
    }
    const dir = o.path.slice(0, o.path.lastIndexOf(sep));
    const drafts: Draft[] = [];
    for (const row of parsed.rows) {
      if (!row.ok) {
        await this.rejectRow(o, row.raw, row.why);
        continue;
      }
      const audio: Draft['audio'] = [];
      const missing: string[] = [];
      if (row.recording) {
        const p = join(dir, row.recording.replace(/\\/g, '/').split('/').pop()!);
        if (this.obs.has(p)) audio.push({ path: p, role: null });
        else missing.push(row.recording);
      }
      drafts.push({ callId: row.callId, metaPath: o.path, audio, missing, build: row.build });
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
