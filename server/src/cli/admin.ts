/**
 * Operator command line. Usage (from the repo root):
 *   npm run admin -- site:create --code shibuya --name "渋谷店" [--timezone Asia/Tokyo] [--address "..."]
 *   npm run admin -- site:list
 *   npm run admin -- token:issue --site shibuya [--ttl 3600]      prints a one-time enrollment token
 *   npm run admin -- user:create --login L --name N --role R [--sites code,code] [--password-file F]
 *   npm run admin -- user:assign --login L --sites code,code [--add]
 *   npm run admin -- user:list | user:unlock --login L | user:password --login L [--password-file F]
 *   npm run admin -- user:update --login L [--name N] [--role R] [--active true|false]
 *   npm run admin -- audit:verify [--anchor ID:HASH ...] [--json]
 * Passwords come from --password-file or standard input (asked twice, unechoed, on a terminal); never from a flag.
 * Needs DATABASE_URL (the other centre variables are not required here). Every change is audited as `cli:<os user>`.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { systemClock } from '../adapters/clock.ts';
import { buildAccessServices } from '../app.ts';
import { ConfigError, loadAuthSettings } from '../config.ts';
import { createDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { ROLES, type Role, type SystemPrincipal } from '../domain/principal.ts';
import { DomainError } from '../domain/errors.ts';

const USAGE = `usage:
  admin site:create --code CODE --name NAME [--timezone Asia/Tokyo] [--address TEXT]
  admin site:list
  admin token:issue --site CODE [--ttl SECONDS]
  admin user:create --login LOGIN --name NAME --role ROLE [--sites CODE,CODE] [--password-file FILE]
  admin user:assign --login LOGIN --sites CODE,CODE [--add]
  admin user:update --login LOGIN [--name NAME] [--role ROLE] [--active true|false]
  admin user:password --login LOGIN [--password-file FILE]
  admin user:unlock --login LOGIN
  admin user:list
  admin audit:verify [--anchor ID:HASH ...] [--json]
roles: ${ROLES.join(', ')}
passwords: from --password-file, or standard input (asked twice on a terminal); never a flag.
every command takes --purpose TEXT (recorded in the audit log) and --json.`;

const [command, ...rest] = process.argv.slice(2);
let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    args: rest,
    options: {
      code: { type: 'string' },
      name: { type: 'string' },
      timezone: { type: 'string' },
      address: { type: 'string' },
      site: { type: 'string' },
      ttl: { type: 'string' },
      json: { type: 'boolean' },
      login: { type: 'string' },
      role: { type: 'string' },
      sites: { type: 'string' },
      add: { type: 'boolean' },
      active: { type: 'string' },
      'password-file': { type: 'string' },
      anchor: { type: 'string', multiple: true },
      purpose: { type: 'string' },
    },
    strict: true,
  });
}
try {
  values = parse().values;
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}

const url = z.string().url().safeParse(process.env.DATABASE_URL);
if (!url.success) {
  console.error('DATABASE_URL must be set to a postgres:// URL');
  process.exit(2);
}
let authSettings;
try {
  authSettings = loadAuthSettings(process.env);
} catch (e) {
  console.error(e instanceof ConfigError ? e.message : String(e));
  process.exit(2);
}
const db = createDb(url.data, 2);
const s = buildAccessServices({ db, clock: systemClock, auth: authSettings });
const operator: SystemPrincipal = {
  kind: 'system',
  name: `cli:${userInfo().username}`,
  origin: { ip: null, userAgent: 'mamoru-admin-cli', requestId: null, purpose: values.purpose ?? null },
};

class UsageError extends Error {}

function need<K extends keyof typeof values>(k: K): NonNullable<(typeof values)[K]> {
  const v = values[k];
  if (v === undefined || v === '') throw new UsageError(`--${String(k)} is required`);
  return v as NonNullable<(typeof values)[K]>;
}

function role(v: string): Role {
  if (!(ROLES as readonly string[]).includes(v)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  return v as Role;
}

async function siteIdsFor(codesArg: string): Promise<string[]> {
  const codes = [...new Set(codesArg.split(',').map((c) => c.trim()).filter(Boolean))];
  const rows = await s.repos.sites.findByCodes(codes);
  const missing = codes.filter((c) => !rows.some((r) => r.code === c));
  if (missing.length) throw new UsageError(`no site with code ${missing.join(', ')}`);
  return rows.map((r) => r.id);
}

async function promptHidden(question: string): Promise<string> {
  const mute = new Writable({ write: (_c, _e, cb) => cb() });
  const rl = createInterface({ input: process.stdin, output: mute, terminal: true });
  process.stderr.write(question);
  try {
    return await new Promise<string>((resolve) => rl.question('', resolve));
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/** From --password-file or standard input; one trailing newline is dropped. */
async function readPassword(): Promise<string> {
  const file = values['password-file'];
  if (file) return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  if (process.stdin.isTTY) {
    const a = await promptHidden('password: ');
    const b = await promptHidden('again: ');
    if (a !== b) throw new UsageError('the two passwords differ');
    return a;
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const pw = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!pw) throw new UsageError('no password on standard input (or use --password-file)');
  return pw;
}

async function userByLogin() {
  const u = await s.users.findByLogin(need('login'));
  if (!u) throw new UsageError(`no user with login ${values.login}`);
  return u;
}

const printUser = (u: { login: string; displayName: string; role: string; active: boolean; sites: { code: string }[]; lockedUntil: Date | null; id: string }) =>
  console.log(
    values.json
      ? JSON.stringify(u)
      : `${u.login}\t${u.displayName}\t${u.role}\t${u.active ? 'active' : 'inactive'}\t${u.sites.map((x) => x.code).join(',') || '-'}${u.lockedUntil ? `\tlocked until ${u.lockedUntil.toISOString()}` : ''}\t${u.id}`,
  );

try {
  await migrateToLatest(db); // idempotent; the admin may run before the server ever started
  switch (command) {
    case 'site:create': {
      const { site, created } = await s.sites.create(operator, { code: need('code'), name: need('name'), timezone: values.timezone ?? 'Asia/Tokyo', address: values.address ?? null });
      console.log(values.json ? JSON.stringify(site) : `${created ? 'created' : 'exists'}: ${site.code} ${site.name} (${site.timezone}) id=${site.id}`);
      break;
    }
    case 'site:list':
      for (const x of await s.sites.list(operator)) console.log(values.json ? JSON.stringify(x) : `${x.code}\t${x.name}\t${x.timezone}\t${x.id}`);
      break;
    case 'token:issue': {
      const ttl = values.ttl ? Number(values.ttl) : 3600;
      const t = await s.agentAuth.issueEnrollmentToken(need('site'), ttl, operator.name);
      console.log(values.json ? JSON.stringify(t) : `${t.token}\n(site ${t.siteCode}, single use, expires ${t.expiresAt.toISOString()})`);
      break;
    }
    case 'user:create': {
      const login = need('login');
      const name = need('name');
      const r = role(need('role'));
      const siteIds = values.sites ? await siteIdsFor(values.sites) : [];
      const password = await readPassword();
      printUser(await s.users.create(operator, { login, displayName: name, role: r, password, siteIds }));
      break;
    }
    case 'user:assign': {
      const u = await userByLogin();
      printUser(await s.users.setSites(operator, u.id, await siteIdsFor(need('sites')), values.add ? 'add' : 'replace'));
      break;
    }
    case 'user:update': {
      const u = await userByLogin();
      if (values.active !== undefined && !['true', 'false'].includes(values.active)) throw new UsageError('--active must be true or false');
      printUser(
        await s.users.update(operator, u.id, {
          ...(values.name !== undefined && { displayName: values.name }),
          ...(values.role !== undefined && { role: role(values.role) }),
          ...(values.active !== undefined && { active: values.active === 'true' }),
        }),
      );
      break;
    }
    case 'user:password': {
      const u = await userByLogin();
      await s.users.resetPassword(operator, u.id, await readPassword());
      console.log(`password set for ${u.login}; their sessions ended`);
      break;
    }
    case 'user:unlock': {
      const u = await userByLogin();
      printUser(await s.users.unlock(operator, u.id));
      break;
    }
    case 'user:list':
      for (const u of await s.users.list(operator)) printUser(u);
      break;
    case 'audit:verify': {
      const anchors = (values.anchor ?? []).map((a) => {
        const m = /^(\d{1,18}):([0-9a-f]{64})$/.exec(a);
        if (!m) throw new UsageError(`--anchor must be ID:HASH (64 lowercase hex), got ${a}`);
        return { id: m[1]!, hash: m[2]! };
      });
      const r = await s.audit.verify(operator, anchors);
      if (values.json) console.log(JSON.stringify(r));
      else if (r.ok) console.log(`audit chain intact: ${r.checked} events; head ${r.head.lastId}:${r.head.lastHash}\n(record the head outside this database to anchor it: --anchor ${r.head.lastId}:${r.head.lastHash})`);
      else console.log(`audit chain BROKEN at event ${r.firstBroken!.id} (${r.firstBroken!.reason}): ${r.firstBroken!.detail}\nlast intact event: ${r.lastGood.id}:${r.lastGood.hash}`);
      if (!r.ok) process.exitCode = 1;
      break;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
} catch (e) {
  if (e instanceof UsageError) {
    console.error(e.message);
    process.exitCode = 2;
  } else {
    console.error(e instanceof DomainError ? `${e.code}: ${e.message}` : (e as Error).message);
    process.exitCode = 1;
  }
} finally {
  await db.destroy();
}
