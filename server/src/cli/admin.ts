/**
 * Operator command line. Usage (from the repo root):
 *   npm run admin -- site:create --code shibuya --name "渋谷店" [--timezone Asia/Tokyo] [--address "..."]
 *   npm run admin -- site:list
 *   npm run admin -- token:issue --site shibuya [--ttl 3600]      prints a one-time enrollment token
 * Needs DATABASE_URL (the other centre variables are not required here).
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { systemClock } from '../adapters/clock.ts';
import { createDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { AppError } from '../http/errors.ts';
import { agentRepository } from '../repositories/agent.repository.ts';
import { siteRepository } from '../repositories/site.repository.ts';
import { agentAuthService } from '../services/agent-auth.service.ts';

const USAGE = `usage:
  admin site:create --code CODE --name NAME [--timezone Asia/Tokyo] [--address TEXT]
  admin site:list
  admin token:issue --site CODE [--ttl SECONDS]`;

const [command, ...rest] = process.argv.slice(2);
const { values } = parseArgs({
  args: rest,
  options: { code: { type: 'string' }, name: { type: 'string' }, timezone: { type: 'string' }, address: { type: 'string' }, site: { type: 'string' }, ttl: { type: 'string' }, json: { type: 'boolean' } },
  strict: true,
});

const url = z.string().url().safeParse(process.env.DATABASE_URL);
if (!url.success) {
  console.error('DATABASE_URL must be set to a postgres:// URL');
  process.exit(2);
}
const db = createDb(url.data, 1);
const sites = siteRepository(db);
const auth = agentAuthService({ agents: agentRepository(db), sites, clock: systemClock });

function isZone(tz: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

try {
  await migrateToLatest(db); // idempotent; the admin may run before the server ever started
  switch (command) {
    case 'site:create': {
      if (!values.code || !values.name) throw new Error('--code and --name are required');
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(values.code)) throw new Error('--code: lowercase letters, digits and dashes');
      const timezone = values.timezone ?? 'Asia/Tokyo';
      if (!isZone(timezone)) throw new Error(`--timezone: unknown IANA zone ${timezone}`);
      const existing = await sites.findByCode(values.code);
      const site = existing ?? (await sites.create({ code: values.code, name: values.name, timezone, address: values.address ?? null }));
      console.log(values.json ? JSON.stringify(site) : `${existing ? 'exists' : 'created'}: ${site.code} ${site.name} (${site.timezone}) id=${site.id}`);
      break;
    }
    case 'site:list':
      for (const s of await sites.list()) console.log(`${s.code}\t${s.name}\t${s.timezone}\t${s.id}`);
      break;
    case 'token:issue': {
      if (!values.site) throw new Error('--site is required');
      const ttl = values.ttl ? Number(values.ttl) : 3600;
      const t = await auth.issueEnrollmentToken(values.site, ttl, 'cli');
      console.log(values.json ? JSON.stringify(t) : `${t.token}\n(site ${t.siteCode}, single use, expires ${t.expiresAt.toISOString()})`);
      break;
    }
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
} catch (e) {
  console.error(e instanceof AppError ? `${e.code}: ${e.message}` : (e as Error).message);
  process.exitCode = 1;
} finally {
  await db.destroy();
}
