/** Watches a MixMonitor folder by polling (robust on NFS/CIFS mounts and across restarts, unlike inotify). */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isAudioFile, parseRecordingName, type RecordingName } from './recording-name.ts';
import { utcToZoned } from './time.ts';
import { inspectWav, type WavInfo } from './wav.ts';

export type RecObs = {
  path: string;
  name: string;
  size: number;
  mtimeMs: number;
  ino: number;
  /** Agent clock (ms) when first seen and when its size/mtime last changed. */
  firstSeenAt: number;
  changedAt: number;
  /** WAV header facts for the current (size, mtime); null when not inspected yet or not a WAV. */
  wav: WavInfo | null;
  wavFor: string | null;
  parsed: RecordingName;
};

const WAV_EXT = new Set(['wav', 'wav16', 'wav49']);
/** A day folder's mtime is trusted as "nothing new" only once it is this old (timestamp granularity, NFS). */
const DAY_QUIET_MS = 5_000;
export const isWavName = (p: RecordingName) => WAV_EXT.has(p.ext.toLowerCase());

function ymd(t: { y: number; mo: number; d: number }): string {
  return `${t.y}/${String(t.mo).padStart(2, '0')}/${String(t.d).padStart(2, '0')}`;
}

export class RecordingScanner {
  readonly obs = new Map<string, RecObs>();

  constructor(
    readonly root: string,
    private readonly zone: string,
  ) {}

  load(saved: RecObs[]): void {
    for (const o of saved) this.obs.set(o.path, o);
  }

  /** Files skipped by the last scan because they are older than the cutoff (history, or already handled). */
  skippedOld = 0;

  /** Day folder (`YYYY/MM/DD`) → its mtime when last listed, for the folders outside the current days. */
  private readonly dayMtimes = new Map<string, number>();

  /**
   * Lists the folder. A normal scan walks the day folders around `now` (UTC and PBX-local dates, ±1 day), every other
   * day folder whose mtime changed since it was last listed (a late copy, a PBX with a wrong clock: one `stat` per day
   * folder, so such a file is seen on the next poll), plus the files already being watched; a full scan walks every
   * day folder. Both skip day folders older than `cutoffMs` (minus a day and a half), and files whose mtime is older
   * than `cutoffMs` that are not watched yet (already handled).
   */
  async scan(now: number, full: boolean, cutoffMs: number, isSettled: (o: RecObs) => boolean = () => false): Promise<void> {
    const hot = new Set<string>();
    for (let dt = -26 * 3600e3; dt <= 26 * 3600e3; dt += 3600e3) {
      hot.add(ymd(utcToZoned(now + dt, 'UTC')));
      hot.add(ymd(utcToZoned(now + dt, this.zone)));
    }
    const cutoffDay = Number.isFinite(cutoffMs) ? ymd(utcToZoned(Math.max(0, cutoffMs - 36 * 3600e3), 'UTC')) : '0000/00/00';
    const visited = new Set<string>();
    this.skippedOld = 0;
    await this.walk(this.root, [], { now, full, cutoffMs, hot, cutoffDay, visited });
    for (const o of [...this.obs.values()]) {
      if (visited.has(o.path)) continue;
      // Files outside the current day folders: watched ones every pass, settled ones on full scans only.
      if (!full && isSettled(o)) continue;
      try {
        const st = await stat(o.path);
        this.update(o.path, o.name, st, now);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.obs.delete(o.path);
        else throw err;
      }
    }
  }

  /** Starts watching one file (a sealed call's recording that must be part of its next version). */
  async watch(path: string, now: number): Promise<void> {
    try {
      const st = await stat(path);
      this.update(path, path.split('/').pop()!, st, now);
    } catch {
      /* gone: the next version will not list it */
    }
  }

  forget(path: string): void {
    this.obs.delete(path);
  }

  private async walk(
    dir: string,
    rel: string[],
    c: { now: number; full: boolean; cutoffMs: number; hot: Set<string>; cutoffDay: string; visited: Set<string> },
  ): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (rel.length >= 4) continue;
        const parts = [...rel, e.name];
        const datePath = (parts[0] !== undefined && /^\d{4}$/.test(parts[0])) && parts.slice(1, 3).every((x) => /^\d{2}$/.test(x));
        if (datePath && parts.length <= 3) {
          const key = parts.join('/');
          if (key < c.cutoffDay.slice(0, key.length)) continue;
          if (parts.length === 3 && ![...c.hot].some((h) => h.startsWith(key))) {
            // A day folder outside the current days: listed when its mtime moved (a file was added or renamed in).
            let mtimeMs: number;
            try {
              mtimeMs = (await stat(p)).mtimeMs;
            } catch {
              continue;
            }
            if (!c.full && this.dayMtimes.get(key) === mtimeMs) continue;
            await this.walk(p, parts, c);
            // A folder changed within the last seconds may change again inside the file system's timestamp
            // granularity without its mtime moving: remember it only once it has been quiet for a while.
            if (Math.abs(c.now - mtimeMs) > DAY_QUIET_MS) this.dayMtimes.set(key, mtimeMs);
            else this.dayMtimes.delete(key);
            continue;
          }
        }
        await this.walk(p, parts, c);
      } else if (e.isFile() && isAudioFile(e.name)) {
        let st;
        try {
          st = await stat(p);
        } catch {
          continue;
        }
        if (!this.obs.has(p) && st.mtimeMs < c.cutoffMs) {
          this.skippedOld++;
          continue;
        }
        c.visited.add(p);
        this.update(p, e.name, st, c.now);
      }
    }
  }

  private update(path: string, name: string, st: { size: number; mtimeMs: number; ino: number }, now: number): void {
    const o = this.obs.get(path);
    if (!o) {
      const parsed = parseRecordingName(name);
      if (!parsed) return;
      this.obs.set(path, { path, name, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, firstSeenAt: now, changedAt: now, wav: null, wavFor: null, parsed });
      return;
    }
    if (o.size !== st.size || o.mtimeMs !== st.mtimeMs || o.ino !== st.ino) {
      o.size = st.size;
      o.mtimeMs = st.mtimeMs;
      o.ino = st.ino;
      o.changedAt = now;
      o.wav = null;
      o.wavFor = null;
    }
  }

  /**
   * Closed = unchanged for `quietMs` and, for WAV files, a final header; a WAV whose header never became final
   * counts as closed after `staleMs` unchanged (the PBX died while recording).
   */
  async isClosed(o: RecObs, now: number, quietMs: number, staleMs: number): Promise<boolean> {
    const stable = now - o.changedAt;
    if (stable < quietMs) return false;
    if (!isWavName(o.parsed)) return true;
    const tag = `${o.size}:${o.mtimeMs}`;
    if (o.wavFor !== tag) {
      try {
        o.wav = await inspectWav(o.path);
      } catch {
        o.wav = null;
      }
      o.wavFor = tag;
    }
    if (o.wav?.final) return true;
    return stable >= staleMs;
  }
}
