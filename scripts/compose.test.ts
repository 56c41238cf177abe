/**
 * compose.yaml and the Dockerfile name only things that exist and run. No container engine runs here, so each
 * service built from our image runs its compose command line outside a container, from the repository root (the
 * image's WORKDIR), with the compose environment: the same variables, with the compose host names (postgres, redis,
 * minio, server) pointed at the services on loopback, a throwaway database, bucket and queue prefix, and a port of
 * this test's range. Each must come up (migrate exits 0, the server's health check passes, the worker starts, the
 * demo store enrolls its agent) and is then stopped.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { createTestDatabase, TEST_ENV, uniqueName } from '../test-support/src/env.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const composeText = readFileSync(path.join(ROOT, 'compose.yaml'), 'utf8');
const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
type Service = { image?: string; build?: string; command?: string[] | string; entrypoint?: string[]; environment?: Record<string, string>; healthcheck?: { test: string[] }; profiles?: string[] };
const compose = parseYaml(composeText, { merge: true }) as { services: Record<string, Service> };
const envExample = Object.fromEntries(
  readFileSync(path.join(ROOT, '.env.example'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
);

/** Compose variable interpolation: `${V}`, `${V:-default}`, `${V:?message}`; `$$` is a literal `$`. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (m, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (m === '$$') return '$';
    const v = vars[name!];
    if (v !== undefined && v !== '') return v;
    if (op === ':?') throw new Error(`${name} is required: ${arg}`);
    return op === ':-' ? arg! : '';
  });
}

/** Paths our own files name: `Dockerfile` COPY sources, command arguments that are files, documents in comments. */
function referencedPaths(): string[] {
  const out = new Set<string>();
  for (const line of dockerfile.split('\n')) {
    const copy = /^COPY\s+(.+)$/.exec(line.trim());
    if (copy) for (const src of copy[1]!.split(/\s+/).slice(0, -1)) out.add(src.replace(/\/$/, ''));
  }
  const cmd = /^CMD\s+(\[.*\])$/m.exec(dockerfile);
  const argsOf = (a: string[]) => a.filter((x) => /^[\w.-]+(\/[\w.-]+)+\.\w+$/.test(x));
  if (cmd) for (const a of argsOf(JSON.parse(cmd[1]!) as string[])) out.add(a);
  for (const s of Object.values(compose.services)) {
    if (s.build) out.add(path.join(s.build, 'Dockerfile'));
    if (s.build && Array.isArray(s.command)) for (const a of argsOf(s.command)) out.add(a);
  }
  // Files the comments of compose.yaml and the Dockerfile send a reader to.
  for (const text of [composeText, dockerfile]) {
    for (const line of text.split('\n').filter((l) => l.trim().startsWith('#'))) for (const m of line.matchAll(/\b((?:docs|scripts|server|edge-agent|web)\/[\w./-]+\.(?:md|ts|sh))\b/g)) out.add(m[1]!);
  }
  return [...out].sort();
}

describe('compose.yaml and the Dockerfile', () => {
  test('every path they name exists', () => {
    const paths = referencedPaths();
    for (const p of ['server/src/main.ts', 'server/src/worker.ts', 'server/src/cli/migrate.ts', 'scripts/demo-site.sh', 'docs/deploy.md', 'contract']) assert.ok(paths.includes(p), `expected ${p} among ${paths.join(', ')}`);
    const missing = paths.filter((p) => !existsSync(path.join(ROOT, p)));
    assert.deepEqual(missing, []);
    // `RUN npm run build -w web`: the web workspace has that script.
    assert.match(dockerfile, /npm run build -w web/);
    assert.ok((JSON.parse(readFileSync(path.join(ROOT, 'web/package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build);
  });

  test('the image installs what packs and disclosures run at run time', () => {
    // One `apt-get install` line (with continuations) in the Dockerfile; packs need ffmpeg (MP4 cuts), Chromium and a
    // Japanese font (the report PDF), disclosures python3-opencv and the Haar cascades (face detector).
    const apt = /apt-get install([^&]*)/.exec(dockerfile.replace(/\\\n/g, ' '))?.[1] ?? '';
    const pkgs = apt.split(/\s+/).filter((w) => w && !w.startsWith('-'));
    for (const p of ['ffmpeg', 'chromium', 'fonts-ipafont-gothic', 'python3-opencv', 'opencv-data', 'tini']) assert.ok(pkgs.includes(p), `Dockerfile installs no ${p}: ${pkgs.join(' ')}`);
    // The PDF renderer's Chromium is where Debian's package puts it.
    assert.match(dockerfile, /CHROMIUM_PATH=\/usr\/bin\/chromium/);
  });

  test('.env.example sets every variable compose requires', () => {
    const required = [...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*):\?/g)].map((m) => m[1]!);
    assert.ok(required.length > 0);
    for (const v of new Set(required)) assert.ok(envExample[v], `.env.example lacks ${v}`);
  });
});

// ---- each service built from our image, run outside a container ---------------------------------------------------

const PORT = 18100 + (process.pid % 50);
const children = new Set<ChildProcess>();

type Run = { child: ChildProcess; output: () => string; exited: Promise<number | null> };
function run(argv: string[], env: Record<string, string>): Run {
  let out = '';
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code))));
  return { child, output: () => out, exited };
}
/** Stops a run and everything it started (its process group), SIGTERM first. */
async function stop(r: Run) {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  try {
    process.kill(-r.child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const t = setTimeout(() => {
    try {
      process.kill(-r.child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 10_000);
  await r.exited;
  clearTimeout(t);
}
async function until(what: string, r: Run, ok: () => boolean | Promise<boolean>, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await ok()) return;
    if (r.child.exitCode !== null) assert.fail(`${what}: exited ${r.child.exitCode} before coming up\n${r.output().slice(-3000)}`);
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.fail(`${what}: not up after ${timeoutMs} ms\n${r.output().slice(-3000)}`);
}

describe('the services built from our image, outside a container', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let centreEnv: Record<string, string>;
  let server: Run | undefined;
  const bucket = uniqueName('compose').toLowerCase().replace(/_/g, '-');
  const demoDir = mkdtempSync(path.join(tmpdir(), 'mamoru-compose-demo-'));
  const commandOf = (name: string) => {
    const s = compose.services[name];
    assert.ok(s?.build, `${name} is built from our image`);
    assert.ok(Array.isArray(s.command), `${name} has a command line`);
    return s.command.map((a) => interpolate(a, {}));
  };

  before(async () => {
    db = await createTestDatabase('compose');
    const vars = { ...envExample, COOKIE_SECURE: 'false' };
    const env = Object.fromEntries(Object.entries(compose.services.server!.environment!).map(([k, v]) => [k, interpolate(String(v), vars)]));
    // The compose host names, pointed at the loopback services; everything else as compose sets it.
    const local: Record<string, string> = {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_ENV.redisUrl,
      S3_ENDPOINT: TEST_ENV.s3Endpoint,
      S3_ACCESS_KEY: TEST_ENV.s3AccessKey,
      S3_SECRET_KEY: TEST_ENV.s3SecretKey,
      S3_BUCKET: bucket,
      HOST: '127.0.0.1',
      PORT: String(PORT),
    };
    for (const k of Object.keys(local)) assert.ok(k in env, `compose's centre environment has ${k}`);
    assert.match(env.DATABASE_URL!, /@postgres:5432\//);
    assert.equal(env.REDIS_URL, 'redis://redis:6379');
    assert.equal(env.S3_ENDPOINT, 'http://minio:9000');
    // The Dockerfile's ENV, with the image's /app as this checkout.
    const imageEnv = Object.fromEntries([...dockerfile.matchAll(/^ENV\s+(.+)$/gm)].flatMap((m) => m[1]!.split(/\s+/).map((kv) => kv.split('=') as [string, string])).map(([k, v]) => [k, v.replace(/^\/app/, ROOT)]));
    centreEnv = { ...imageEnv, ...env, ...local, QUEUE_PREFIX: uniqueName('compose') };
  });

  after(async () => {
    if (server) await stop(server);
    for (const c of children) await stop({ child: c, output: () => '', exited: new Promise((r) => c.on('exit', r)) });
    rmSync(demoDir, { recursive: true, force: true });
    await db?.drop();
  });

  test('migrate: runs the migrations and exits 0', async () => {
    const r = run(commandOf('migrate'), centreEnv);
    const code = await r.exited;
    assert.equal(code, 0, r.output());
  });

  test('server: comes up, and its compose health check passes', async () => {
    server = run(commandOf('server'), centreEnv);
    const health = `http://127.0.0.1:${PORT}/api/v1/health`;
    await until('server', server, async () => (await fetch(health).catch(() => null))?.ok === true, 60_000);
    const check = compose.services.server!.healthcheck!.test;
    assert.equal(check[0], 'CMD');
    const hc = run(check.slice(1).map((a) => a.replace('127.0.0.1:8080', `127.0.0.1:${PORT}`)), {});
    assert.equal(await hc.exited, 0, `health check: ${hc.output()}`);
  });

  test('worker: starts on the same environment', async () => {
    const w = run(commandOf('worker'), centreEnv);
    await until('worker', w, () => w.output().includes('"worker started"'), 60_000);
    await stop(w);
  });

  test('demo-site: the demo store enrolls its agent with the centre', async () => {
    assert.ok(server, 'the server runs');
    const s = compose.services['demo-site']!;
    assert.deepEqual(s.profiles, ['demo']);
    const env = Object.fromEntries(Object.entries(s.environment!).map(([k, v]) => [k, interpolate(String(v), envExample)]));
    assert.equal(env.MAMORU_SERVER_URL, 'http://server:8080');
    const demo = run(commandOf('demo-site'), { ...env, MAMORU_SERVER_URL: `http://127.0.0.1:${PORT}`, DATABASE_URL: db.url, DEMO_DIR: demoDir, DEMO_CAMERAS: '1' });
    await until('demo-site', demo, () => existsSync(path.join(demoDir, 'agent-state', 'credential.json')), 90_000);
    await stop(demo);
  });
});
