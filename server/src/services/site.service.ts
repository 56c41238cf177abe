import { listableSites, type Principal } from '../domain/principal.ts';
import { badRequest } from '../domain/errors.ts';
import type { Transactor } from '../repositories/index.ts';
import type { SiteRepository } from '../repositories/site.repository.ts';
import { ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

function isZone(tz: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Sites (stores) as metadata: names, codes, zones. Media stays behind each service's own scope check. */
export function siteService(deps: { tx: Transactor; sites: SiteRepository; audit: AuditService }) {
  const { tx, sites, audit } = deps;
  return {
    async list(p: Principal) {
      ensureCan(p, 'sites:list');
      const rows = await sites.listInSites(listableSites(p));
      await audit.record(p, { action: 'site.list', details: { count: rows.length } });
      return rows;
    },
    /** Creates a site (the operator's command line for now). Returns the existing one for a known code. */
    async create(p: Principal, s: { code: string; name: string; timezone: string; address?: string | null }) {
      ensureCan(p, 'sites:manage');
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(s.code)) throw badRequest('invalid_site_code', 'code: lowercase letters, digits and dashes');
      if (!isZone(s.timezone)) throw badRequest('invalid_timezone', `unknown IANA zone ${s.timezone}`);
      const existing = await sites.findByCode(s.code);
      if (existing) return { site: existing, created: false };
      const site = await tx(async (r) => {
        const row = await r.sites.create(s);
        await audit.recordWithin(r, p, { action: 'site.create', targetType: 'site', targetId: row.id, siteId: row.id, details: { code: row.code, name: row.name, timezone: row.timezone } });
        return row;
      });
      return { site, created: true };
    },
  };
}
export type SiteService = ReturnType<typeof siteService>;
