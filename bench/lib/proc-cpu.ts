/**
 * CPU time of process trees from /proc, for the benches.
 *
 * The kernel's per-task `schedstat` (nanoseconds on a CPU, every thread) is exact; the tick counters of `stat`
 * (utime/stime, 100 Hz) are sampled, and for ffmpeg processes that each use a fraction of a percent their noise was
 * ±10 % over a 45 s window. Both are read: `cpuSeconds` is schedstat of the living tasks plus, for children reaped
 * during the window (their tasks are gone), the growth of the parent's `cutime + cstime` ticks.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ on Linux

export function procStat(pid: number): { ppid: number; ticks: number; childTicks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), childTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** Nanoseconds on a CPU of every thread of a process (0 if it is gone). */
export function schedNs(pid: number): number {
  let ns = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns;
}

export function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Memory of a process in KiB: RSS (counts every shared page whole, so N ffmpeg processes sharing libav count it N
 * times) and PSS (shared pages divided among the processes sharing them: the sum over processes is the real total).
 */
export function memKb(pid: number): { rss: number; pss: number } {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return { rss: Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0), pss: Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0) };
  } catch {
    return { rss: rssKb(pid), pss: 0 };
  }
}

/** The pid and all its descendants alive now. */
export function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(Number(d));
    if (st) children.set(st.ppid, [...(children.get(st.ppid) ?? []), Number(d)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** A snapshot of a set of process trees: exact CPU per living process, and the reaped-children ticks per process. */
export type CpuSnapshot = { at: number; ns: Map<number, number>; childTicks: Map<number, number> };

export function snapshot(roots: number[]): CpuSnapshot {
  const ns = new Map<number, number>();
  const childTicks = new Map<number, number>();
  for (const pid of roots.flatMap(tree)) {
    ns.set(pid, schedNs(pid));
    childTicks.set(pid, procStat(pid)?.childTicks ?? 0);
  }
  return { at: performance.now(), ns, childTicks };
}

/**
 * CPU seconds between two snapshots: processes alive at both ends count their exact growth; a process that started
 * meanwhile counts whole; the reaped-children ticks of processes alive at both ends are added (a short-lived child
 * such as ffprobe). `pick` limits the sum to some of the processes (e.g. only the root, or only its children).
 */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, pick: (pid: number) => boolean = () => true) {
  let ns = 0;
  let reapedTicks = 0;
  for (const [pid, v] of b.ns) {
    if (!pick(pid)) continue;
    ns += v - (a.ns.get(pid) ?? 0);
    if (a.childTicks.has(pid)) reapedTicks += (b.childTicks.get(pid) ?? 0) - a.childTicks.get(pid)!;
  }
  return { seconds: ns / 1e9 + reapedTicks / TICK, reapedSeconds: reapedTicks / TICK, wallSeconds: (b.at - a.at) / 1000 };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds a set of roots (and their descendants) used over `seconds`, and the peak RSS of the trees. */
export async function measure(roots: number[], seconds: number) {
  const a = snapshot(roots);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, roots.flatMap(tree).reduce((s, p) => s + rssKb(p), 0))), 1000);
  await sleep(seconds * 1000);
  clearInterval(sampler);
  const b = snapshot(roots);
  const c = cpuBetween(a, b);
  return { cpuPercentOfOneCore: Number(((100 * c.seconds) / c.wallSeconds).toFixed(2)), cpuSeconds: Number(c.seconds.toFixed(3)), wallSeconds: Number(c.wallSeconds.toFixed(1)), peakRssMB: Math.round(peakRss / 1024), a, b };
}

/**
 * Bytes written (`wchar`: every write(2), files and pipes) and context switches (voluntary, involuntary) summed over
 * `pids`, from /proc/<pid>/io and /proc/<pid>/status. A pid that is gone counts nothing.
 */
export function ioAndSwitches(pids: number[]): { wchar: number; voluntary: number; involuntary: number } {
  const out = { wchar: 0, voluntary: 0, involuntary: 0 };
  for (const pid of pids) {
    try {
      out.wchar += Number(/^wchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
      const st = readFileSync(`/proc/${pid}/status`, 'utf8');
      out.voluntary += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
      out.involuntary += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** ioAndSwitches over a window of `seconds`, per second, for the pids `pick` names at the window's start. */
export async function ioAndSwitchesOver(pick: () => number[], seconds: number) {
  const pids = pick();
  const a = ioAndSwitches(pids);
  await sleep(seconds * 1000);
  const b = ioAndSwitches(pids);
  const rate = (x: number) => Number((x / seconds).toFixed(1));
  return { processes: pids.length, writtenMBPerSecond: Number(((b.wchar - a.wchar) / seconds / 1e6).toFixed(3)), voluntarySwitchesPerSecond: rate(b.voluntary - a.voluntary), involuntarySwitchesPerSecond: rate(b.involuntary - a.involuntary) };
}
