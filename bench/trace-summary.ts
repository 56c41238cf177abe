/**
 * What a Chromium renderer's main thread did in a window of a trace (Playwright's `browser.startTracing`, JSON
 * format): busy time, and self time by task kind (scripts by file), largest first. Used by bench/case-page.ts
 * `--trace FILE`.
 */
type Ev = { name: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: { name?: string; data?: Record<string, unknown> } };

const fileOf = (u: unknown) => (typeof u === 'string' && u ? (u.split('?')[0]!.split('/').pop() ?? u) : '');

/** Self time (ms) by kind between the first request for `startUrl` and the first console.timeStamp(`endMark`). */
export function summariseTrace(traceJson: string, startUrl: RegExp, endMark: string, top = 25): string {
  const raw = JSON.parse(traceJson) as { traceEvents: Ev[] } | Ev[];
  const events = Array.isArray(raw) ? raw : raw.traceEvents;
  const start = events.find((e) => e.name === 'ResourceSendRequest' && startUrl.test(String(e.args?.data?.url ?? '')));
  const end = events.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === endMark);
  if (!start || !end) return `trace: start (${Boolean(start)}) or end mark (${Boolean(end)}) not found`;
  const inWindow = (e: Ev) => e.ph === 'X' && e.ts >= start.ts && e.ts < end.ts;
  // The page's main thread is the one that logged the end mark (console.timeStamp runs there).
  const main = events.filter((e) => inWindow(e) && e.pid === end.pid && e.tid === end.tid);
  main.sort((a, b) => a.ts - b.ts || (b.dur ?? 0) - (a.dur ?? 0));
  const label = (e: Ev) => {
    const d = e.args?.data ?? {};
    const f = fileOf(d.url ?? d.scriptName ?? (d as { stackTrace?: Array<{ url: string }> }).stackTrace?.[0]?.url);
    return f ? `${e.name} ${f}` : e.name;
  };
  // Self time: each event's duration less its direct children's (events nest by time on one thread).
  const self = new Map<string, number>();
  const stack: Array<{ e: Ev; endTs: number; child: number }> = [];
  let busy = 0;
  const pop = () => {
    const s = stack.pop()!;
    self.set(label(s.e), (self.get(label(s.e)) ?? 0) + ((s.e.dur ?? 0) - s.child));
  };
  for (const e of main) {
    while (stack.length && stack[stack.length - 1]!.endTs <= e.ts) pop();
    if (stack.length) stack[stack.length - 1]!.child += e.dur ?? 0;
    else busy += e.dur ?? 0;
    stack.push({ e, endTs: e.ts + (e.dur ?? 0), child: 0 });
  }
  while (stack.length) pop();
  const windowMs = (end.ts - start.ts) / 1000;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `renderer main thread, navigation → ${endMark}: ${windowMs.toFixed(0)} ms, busy ${(busy / 1000).toFixed(0)} ms (top-level tasks)`,
    ...rows.map(([k, us]) => `  ${(us / 1000).toFixed(1).padStart(7)} ms  ${k}`),
  ].join('\n');
}

export type CpuProfile = {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  samples: number[];
  timeDeltas: number[];
};

/** Self time by function (name, file, line) of a CDP CPU profile, largest first, and by file. */
export function summariseProfile(p: CpuProfile, top = 30): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i + 1] ?? 0;
    const f = byId.get(id)!.callFrame;
    const file = fileOf(f.url) || '(native)';
    const k = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    self.set(k, (self.get(k) ?? 0) + us);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
    total += us;
  });
  const rows = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, us]) => `  ${(us / 1000).toFixed(1).padStart(7)} ms  ${k}`);
  return [`CPU profile: ${(total / 1000).toFixed(0)} ms sampled; by file:`, ...rows(byFile, 12), 'by function (self):', ...rows(self, top)].join('\n');
}
