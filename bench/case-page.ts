/**
 * The case page in Chromium on loopback (issue 10): a case with 4 cameras of real H.264 footage (2 s segments) and
 * the fixture call's audio, against the real centre and worker. The centre (server and its worker) runs in a process of
 * its own (bench/case-centre.ts), as in a deployment, so that Playwright's client in this process does not take turns
 * with the server on one event loop; what is measured is the same: the browser's clock from navigation start. Per
 * round, in a fresh browser context (no cache):
 *   - first frame: from navigation start until every camera shows the frame of the linked moment (readyState ≥ 2,
 *     not seeking, media time within 0.1 s of the moment) and the audio is ready there too; the slowest element
 *     counts. Baseline in the same run: the single-camera page (/cameras/{id}) to its first frame.
 *   - seek, paused: from a click on the timeline until every element shows the clicked moment (same test).
 *   - seek, playing: from a click on the timeline until every element plays at the clicked moment, all within 0.1 s
 *     of each other.
 * Targets: first frame under 1.5 s, a timeline click under 0.5 s.
 *
 *   npm run build -w web && node --import tsx bench/case-page.ts [--rounds 5] [--cameras 4]
 *
 * `--trace FILE` records a Chromium trace of the case page's load in the last round (of each build: FILE, FILE.2, …)
 * and prints what the renderer's main thread did until the first frames (bench/trace-summary.ts).
 *
 * `--profile FILE` records a JavaScript CPU profile (CDP, 100 µs sampling) of the same load instead and prints the
 * functions with the most self time (the .cpuprofile opens in Chromium's DevTools).
 *
 * BENCH_WEB_BUILD=DIR serves another build; BENCH_WEB_BUILD=DIR1,DIR2 compares builds in one run: a centre (and
 * fixture) per build, and every round measures each build in turn (the order alternating from round to round), so
 * that the machine's drift falls on both alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CALL_START, FOOTAGE_START } from '../e2e/case-fixture.ts';
import type { CaseCentreInfo } from './case-centre.ts';
import { summariseProfile, summariseTrace, type CpuProfile } from './trace-summary.ts';
import { writeFile } from 'node:fs/promises';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, cameras: { type: 'string', default: '4' }, trace: { type: 'string' }, profile: { type: 'string' } } });
const ROUNDS = Number(values.rounds);
const CAMERAS = Number(values.cameras);
const WEB_BUILDS = (process.env.BENCH_WEB_BUILD ?? fileURLToPath(new URL('../web/build', import.meta.url))).split(',').filter(Boolean);
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'];

const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink', 'loading'];

const OPEN_AT = CALL_START + 10_000; // 18:05:10: every camera and the call have media
const SEEK_PAUSED = CALL_START + 18_000;
const SEEK_PLAYING = CALL_START + 4_000;

/**
 * Watches every media element (in the page) and resolves with the time (performance.now()) when they all satisfy
 * the condition for the moment: paused → each shows the moment's frame; playing → each plays, all within 0.1 s of
 * each other. It checks at each media event of the elements (loadeddata, canplay, seeked, playing, timeupdate) and
 * every 25 ms for elements still to come, so that watching takes little of the page's main thread (a check every 5 ms
 * did). Media time ↔ wall clock: cameras from FOOTAGE_START (one contiguous recording before the outage), the audio
 * from the call's start.
 */
const WATCH = `(opts) => new Promise((resolve, reject) => {
  const deadline = performance.now() + 20000;
  const watched = new WeakSet();
  let done = false;
  const check = () => {
    if (done) return;
    const t0 = performance.now();
    try { return inner(); } finally { window.__watchSpent = (window.__watchSpent || 0) + performance.now() - t0; window.__watchN = (window.__watchN || 0) + 1; }
  };
  const inner = () => {
    const els = [...document.querySelectorAll('[data-testid=case-video], [data-testid=case-audio], [data-testid=video]')];
    for (const e of els) {
      if (watched.has(e)) continue;
      watched.add(e);
      for (const type of ['loadeddata', 'canplay', 'seeked', 'playing', 'timeupdate']) e.addEventListener(type, check);
    }
    const walls = els.map((e) => (e.tagName === 'AUDIO' ? opts.callStart : opts.footageStart) + e.currentTime * 1000);
    const ok = els.length === opts.count && els.every((e, i) =>
      e.readyState >= 2 && !e.seeking && (opts.any ? true : opts.playing ? !e.paused : Math.abs(walls[i] - opts.at) <= 100));
    const together = !opts.playing || (Math.max(...walls) - Math.min(...walls) <= 100 && walls.every((w) => Math.abs(w - opts.at) < 3000));
    if (ok && together) {
      done = true;
      console.timeStamp('mamoru-there'); // the end of the window bench/trace-summary.ts summarises
      return resolve(performance.now());
    }
    if (performance.now() > deadline) {
      done = true;
      return reject(new Error('not there in 20 s: ' + JSON.stringify(els.map((e, i) => [e.tagName, e.readyState, e.seeking, e.paused, walls[i] - opts.at]))));
    }
  };
  const poll = () => {
    check();
    if (!done) setTimeout(poll, 25);
  };
  poll();
})`;

type Figures = { baseline: number[]; first: number[]; seekPaused: number[]; seekPlaying: number[] };

async function clickTimeline(page: Page, at: number): Promise<number> {
  const track = page.locator('[data-testid=case-timeline]');
  const box = (await track.boundingBox())!;
  const [min, max] = (await Promise.all([track.getAttribute('aria-valuemin'), track.getAttribute('aria-valuemax')])).map(Number) as [number, number];
  // Where the pointer goes down, as the page's clock sees it.
  await page.evaluate(`document.querySelector('[data-testid=case-timeline]').addEventListener('pointerdown', (e) => (window.__down = performance.now()), { once: true, capture: true })`);
  await track.click({ position: { x: ((at - min) / (max - min)) * box.width, y: box.height / 2 } });
  return (await page.evaluate('window.__down')) as number;
}

/** A centre with the case fixture serving a build, in its own process (bench/case-centre.ts). */
async function startCentre(webRoot: string): Promise<{ info: CaseCentreInfo; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./case-centre.ts', import.meta.url)), '--cameras', String(CAMERAS), '--web', webRoot], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`the centre exited (${code}) before it was ready`))));
  const line = createInterface({ input: proc.stdout! })[Symbol.asyncIterator]().next().then((r) => r.value as string);
  return { info: JSON.parse(await Promise.race([line, exited])) as CaseCentreInfo, proc };
}

async function stopCentre(proc: ChildProcess) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.stdin!.end();
  await exited;
}

/** One round against one centre: the single-camera baseline, then the case page's first frame and two clicks. */
async function round(browser: Browser, fx: CaseCentreInfo, figures: Figures, traceFile: string | null): Promise<Record<string, number>> {
  // Baseline: one camera on the camera page, from the same moment.
  {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'ja-JP' });
    await context.addCookies([fx.cookie]);
    const page = await context.newPage();
    const from = new Date(OPEN_AT).toISOString();
    const to = new Date(OPEN_AT + 60_000).toISOString();
    await page.goto(`${fx.url}/cameras/${fx.cameraIds[0]}?from=${from}&to=${to}`, { waitUntil: 'commit' });
    // It plays by itself from the range's start (its playlist starts there, so its media time counts from the
    // range, not from the footage): the first decoded frame is the baseline.
    const at = (await page.evaluate(`(${WATCH})(${JSON.stringify({ count: 1, at: OPEN_AT, any: true, footageStart: FOOTAGE_START, callStart: CALL_START })})`)) as number;
    figures.baseline.push(at);
    await context.close();
  }
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, locale: 'ja-JP' });
  await context.addCookies([fx.cookie]);
  const page = await context.newPage();
  const count = CAMERAS + 1;
  const profiling = traceFile && values.profile ? await page.context().newCDPSession(page) : null;
  if (profiling) {
    await profiling.send('Profiler.enable');
    await profiling.send('Profiler.setSamplingInterval', { interval: 100 });
    await profiling.send('Profiler.start');
  } else if (traceFile) await browser.startTracing(page, { path: traceFile, categories: TRACE_CATEGORIES });
  await page.goto(`${fx.url}/incidents/${fx.caseId}?t=${new Date(OPEN_AT).toISOString()}`, { waitUntil: 'commit' });
  // performance.now() counts from navigation start.
  figures.first.push((await page.evaluate(`(${WATCH})(${JSON.stringify({ count, at: OPEN_AT, playing: false, footageStart: FOOTAGE_START, callStart: CALL_START })})`)) as number);
  if (profiling) {
    const { profile } = (await profiling.send('Profiler.stop')) as { profile: CpuProfile };
    await writeFile(traceFile!, JSON.stringify(profile));
    console.log(summariseProfile(profile));
  } else if (traceFile) {
    const trace = await browser.stopTracing();
    console.log(summariseTrace(trace.toString('utf8'), /\/incidents\/[^/]+\?t=/, 'mamoru-there'));
    console.log('watcher:', await page.evaluate('[window.__watchSpent, window.__watchN]'));
  }
  // Where the time went (ms from navigation start, when each answer was complete).
  const steps = (await page.evaluate(`(() => {
    const r = performance.getEntriesByType('resource');
    const end = (re) => Math.max(0, ...r.filter((e) => re.test(e.name)).map((e) => e.responseEnd));
    const first = (re) => Math.min(...r.filter((e) => re.test(e.name)).map((e) => e.responseEnd));
    const segs = r.filter((e) => /media\\/segments/.test(e.name)).sort((a, b) => a.startTime - b.startTime);
    const CAMERAS = ${CAMERAS};
    const asked = (re) => Math.min(...r.filter((e) => re.test(e.name)).map((e) => e.startTime));
    const nav = performance.getEntriesByType('navigation')[0];
    return { html: nav.responseEnd, domReady: nav.domContentLoadedEventEnd, me: end(/auth\\/me/), timeline: end(/\\/timeline/), playlists: end(/playlist\\.m3u8/), appCode: end(/\\/_app\\/immutable\\/.*\\.js$/), segmentAsked: asked(/media\\/segments/), firstSegment: first(/media\\/segments/), firstSegments: segs.length >= CAMERAS ? Math.max(...segs.slice(0, CAMERAS).map((e) => e.responseEnd)) : -1, ttfb: Math.max(...segs.slice(0, CAMERAS).map((e) => e.responseStart - e.startTime)), audioAsked: asked(/playable/), audio: first(/playable/) };
  })()`)) as Record<string, number>;

  const down = await clickTimeline(page, SEEK_PAUSED);
  // The click lands on a pixel: the moment the page took is what every element must show.
  const landed = Number(await page.locator('[data-testid=case-moment]').getAttribute('data-utc'));
  const there = (await page.evaluate(`(${WATCH})(${JSON.stringify({ count, at: landed, playing: false, footageStart: FOOTAGE_START, callStart: CALL_START })})`)) as number;
  figures.seekPaused.push(there - down);

  await page.click('[data-testid=play-toggle]');
  await page.locator('[data-testid=clock-state][data-state=playing]').waitFor();
  await page.waitForTimeout(1500);
  const down2 = await clickTimeline(page, SEEK_PLAYING);
  const landed2 = Number(await page.locator('[data-testid=case-moment]').getAttribute('data-utc'));
  const there2 = (await page.evaluate(`(${WATCH})(${JSON.stringify({ count, at: landed2, playing: true, footageStart: FOOTAGE_START, callStart: CALL_START })})`)) as number;
  figures.seekPlaying.push(there2 - down2);
  await context.close();
  return steps;
}

async function main() {
  const t0 = Date.now();
  const centres = await Promise.all(WEB_BUILDS.map((b) => startCentre(b)));
  console.log(`case with ${CAMERAS} cameras and a call ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${WEB_BUILDS.length > 1 ? `${WEB_BUILDS.length} centres, each in its own process` : 'the centre in its own process'}); ${ROUNDS} rounds; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const figures: Figures[] = WEB_BUILDS.map(() => ({ baseline: [], first: [], seekPaused: [], seekPlaying: [] }));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order = WEB_BUILDS.map((_, i) => i);
      if (r % 2 === 1) order.reverse();
      for (const b of order) {
        const f = figures[b]!;
        const out = values.trace ?? values.profile;
        const traceFile = out && r === ROUNDS - 1 ? (b === 0 ? out : `${out}.${b + 1}`) : null;
        const steps = await round(browser, centres[b]!.info, f, traceFile);
        const n = f.first.length - 1;
        console.log(`round ${r + 1}${WEB_BUILDS.length > 1 ? ` [${WEB_BUILDS[b]}]` : ''}: baseline ${f.baseline[n]!.toFixed(0)} ms, first frame of all ${f.first[n]!.toFixed(0)} ms, click (paused) ${f.seekPaused[n]!.toFixed(0)} ms, click (playing) ${f.seekPlaying[n]!.toFixed(0)} ms; answers complete at ${Object.entries(steps).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} ms`);
      }
    }
  } finally {
    await browser.close();
    await Promise.all(centres.map((c) => stopCentre(c.proc)));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const row = (name: string, xs: number[], target: number | null) =>
    `| ${name} | ${med(xs).toFixed(0)} | ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} | ${target === null ? '—' : `${target} (${med(xs) < target ? 'met' : 'missed'})`} |`;
  WEB_BUILDS.forEach((b, i) => {
    const f = figures[i]!;
    console.log(`\n${WEB_BUILDS.length > 1 ? `${b}\n` : ''}| measure (ms) | median | range | target |\n|---|---|---|---|`);
    console.log(row('single-camera page, first frame (baseline)', f.baseline, null));
    console.log(row(`case page, first frame of all ${CAMERAS} cameras and the audio`, f.first, 1500));
    console.log(row('timeline click while paused → every element on the new frame', f.seekPaused, 500));
    console.log(row('timeline click while playing → every element playing there, within 0.1 s', f.seekPlaying, 500));
    console.log(`ratio case page / single-camera page (first frame, medians): ${(med(f.first) / med(f.baseline)).toFixed(2)}`);
  });
  console.log(`\nload at the end ${os.loadavg()[0]!.toFixed(1)}`);
}

await main();
