import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { systemClock } from '../src/adapters/clock.ts';
import { buildAccessServices } from '../src/app.ts';
import { loadAuthSettings } from '../src/config.ts';
import { createDb, type Db } from '../src/db/connect.ts';
import { NO_ORIGIN } from '../src/domain/principal.ts';
import { createTestDatabase } from '../../test-support/src/env.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('operator command line: users and audit verification', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: Db;
  let dir: string;
  before(async () => {
    database = await createTestDatabase('cli');
    dir = await mkdtemp(path.join(tmpdir(), 'mamoru-cli-'));
  });
  after(async () => {
    await db?.destroy();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const admin = (args: string[], stdin?: string) =>
    new Promise<{ code: number; out: string; err: string }>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', 'server/src/cli/admin.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
      p.stdin.end(stdin ?? '');
    });

  test('creates the first admin with the password on standard input, then a store manager with sites; they can sign in', async () => {
    assert.equal((await admin(['site:create', '--code', 'shibuya', '--name', '渋谷店'])).code, 0);
    assert.equal((await admin(['site:create', '--code', 'shinjuku', '--name', '新宿店'])).code, 0);
    const first = await admin(['user:create', '--login', 'root-admin', '--name', '管理者', '--role', 'admin'], 'first admin password\n');
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /root-admin\t管理者\tadmin\tactive/);
    const pwFile = path.join(dir, 'pw');
    await writeFile(pwFile, 'store manager password\n');
    const sm = await admin(['user:create', '--login', 'boss', '--name', '店長', '--role', 'store_manager', '--sites', 'shibuya', '--password-file', pwFile]);
    assert.equal(sm.code, 0, sm.err);
    assert.match(sm.out, /\tshibuya\t/);

    db = createDb(database.url, 2);
    const s = buildAccessServices({ db, clock: systemClock, auth: loadAuthSettings({}) });
    const a = await s.auth.login({ login: 'root-admin', password: 'first admin password' }, NO_ORIGIN);
    assert.equal(a.user.role, 'admin');
    const b = await s.auth.login({ login: 'boss', password: 'store manager password' }, NO_ORIGIN);
    assert.deepEqual((b.user.sites as { code: string }[]).map((x) => x.code), ['shibuya']);
    const ev = await db.selectFrom('auditEvent').select(['actorType', 'actorId', 'action']).where('action', '=', 'user.create').execute();
    assert.equal(ev.length, 2);
    assert.ok(ev.every((e) => e.actorType === 'system' && e.actorId!.startsWith('cli:')));
  });

  test('user:assign replaces or adds sites; unknown sites and logins are refused', async () => {
    const r = await admin(['user:assign', '--login', 'boss', '--sites', 'shinjuku']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\tshinjuku\t/);
    const add = await admin(['user:assign', '--login', 'boss', '--sites', 'shibuya', '--add']);
    assert.match(add.out, /\tshibuya,shinjuku\t/);
    const bad = await admin(['user:assign', '--login', 'boss', '--sites', 'nowhere']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /no site with code nowhere/);
    const nobody = await admin(['user:assign', '--login', 'ghost', '--sites', 'shibuya']);
    assert.equal(nobody.code, 2);
    const admins = await admin(['user:assign', '--login', 'root-admin', '--sites', 'shibuya']);
    assert.equal(admins.code, 1);
    assert.match(admins.err, /sites_not_applicable/);
  });

  test('a password is never taken from a flag, and a weak one is refused with nothing created', async () => {
    const flag = await admin(['user:create', '--login', 'xx1', '--name', 'x', '--role', 'hq', '--password', 'a long enough password']);
    assert.equal(flag.code, 2);
    assert.match(flag.err, /Unknown option '--password'/);
    const weak = await admin(['user:create', '--login', 'xx2', '--name', 'x', '--role', 'hq'], 'short\n');
    assert.equal(weak.code, 1);
    assert.match(weak.err, /weak_password/);
    const role = await admin(['user:create', '--login', 'xx3', '--name', 'x', '--role', 'owner'], 'a long enough password\n');
    assert.equal(role.code, 2);
    const n = await db.selectFrom('appUser').select('login').where('login', 'in', ['xx1', 'xx2', 'xx3']).execute();
    assert.deepEqual(n, []);
  });

  test('audit:verify says the chain is intact, and after an edit in PostgreSQL exits 1 naming the broken event', async () => {
    const ok = await admin(['audit:verify']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /audit chain intact: \d+ events; head (\d+):([0-9a-f]{64})/);
    const [, headId, headHash] = /head (\d+):([0-9a-f]{64})/.exec(ok.out)!;
    const anchored = await admin(['audit:verify', '--anchor', `${headId}:${headHash}`, '--json']);
    assert.equal(anchored.code, 0);
    assert.equal((JSON.parse(anchored.out) as { ok: boolean }).ok, true);

    await db.transaction().execute(async (trx) => {
      await sql`ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update`.execute(trx);
      await sql`UPDATE audit_event SET actor_label = 'nobody' WHERE id = 3`.execute(trx);
      await sql`ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update`.execute(trx);
    });
    const broken = await admin(['audit:verify']);
    assert.equal(broken.code, 1);
    assert.match(broken.out, /audit chain BROKEN at event 3 \(hash_mismatch\)/);
    const bad = await admin(['audit:verify', '--anchor', 'nonsense']);
    assert.equal(bad.code, 2);
  });
});
