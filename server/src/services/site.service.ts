import { listableSites, type Principal } from '../domain/principal.ts';
import { badRequest, conflict, notFound } from '../domain/errors.ts';
import type { Transactor } from '../repositories/index.ts';
import type { CameraNotice, SiteDetail, SitePatch, SiteRepository } from '../repositories/site.repository.ts';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkFields(s: { name?: string; timezone?: string; cameraNotice?: CameraNotice | null }) {
  if (s.name !== undefined && !s.name.trim()) throw badRequest('invalid_site_name', 'name: 1–200 characters');
  if (s.timezone !== undefined && !isZone(s.timezone)) throw badRequest('invalid_timezone', `unknown IANA zone ${s.timezone}`);
  if (s.cameraNotice?.since && Number.isNaN(Date.parse(`${s.cameraNotice.since}T00:00:00Z`))) throw badRequest('invalid_notice_date', 'cameraNotice.since: a calendar day YYYY-MM-DD');
}

/** Fields that differ, as `{ field: { from, to } }` for the audit event. */
function changesOf(before: SiteDetail, patch: SitePatch) {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const k of ['name', 'timezone', 'address', 'cameraNotice', 'pbxNoticeText'] as const) {
    if (patch[k] === undefined) continue;
    if (JSON.stringify(patch[k]) !== JSON.stringify(before[k])) changes[k] = { from: before[k], to: patch[k] };
  }
  return changes;
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
    /** One site with its address and notices, inside the caller's listable scope (else 404 as if missing). */
    async get(p: Principal, id: string): Promise<SiteDetail> {
      ensureCan(p, 'sites:list');
      const scope = listableSites(p);
      const site = UUID.test(id) && (scope === 'all' || scope.includes(id)) ? await sites.findDetail(id) : undefined;
      if (!site) throw notFound('site_not_found', 'site not found');
      await audit.record(p, { action: 'site.view', targetType: 'site', targetId: id, siteId: id });
      return site;
    },
    /** Every site with address and notices (admin page). */
    async listDetails(p: Principal): Promise<SiteDetail[]> {
      ensureCan(p, 'sites:manage');
      const rows = await sites.listDetails('all');
      await audit.record(p, { action: 'site.list', details: { count: rows.length, detail: true } });
      return rows;
    },
    /** Creates a site from the admin page; an existing code is a 409 (the command line's `create` returns it instead). */
    async createNew(p: Principal, s: { code: string; name: string; timezone: string; address: string | null; cameraNotice: CameraNotice | null; pbxNoticeText: string | null }): Promise<SiteDetail> {
      ensureCan(p, 'sites:manage');
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(s.code)) throw badRequest('invalid_site_code', 'code: lowercase letters, digits and dashes');
      checkFields(s);
      return tx(async (r) => {
        const row = await r.sites.createDetail({ ...s, name: s.name.trim() });
        if (!row) throw conflict('site_code_taken', `a site with code ${s.code} exists`);
        await audit.recordWithin(r, p, {
          action: 'site.create',
          targetType: 'site',
          targetId: row.id,
          siteId: row.id,
          details: { code: row.code, name: row.name, timezone: row.timezone, address: row.address, cameraNotice: row.cameraNotice, pbxNoticeText: row.pbxNoticeText },
        });
        return row;
      });
    },
    /** Name, zone, address and the two notices. The code stays (agents and paths know the site by it). */
    async update(p: Principal, id: string, patch: SitePatch): Promise<SiteDetail> {
      ensureCan(p, 'sites:manage');
      checkFields(patch);
      const norm = { ...patch, ...(patch.name !== undefined && { name: patch.name.trim() }) };
      return tx(async (r) => {
        const before = UUID.test(id) ? await r.sites.findDetail(id, true) : undefined;
        if (!before) throw notFound('site_not_found', 'site not found');
        const changes = changesOf(before, norm);
        if (Object.keys(changes).length) await r.sites.update(id, norm);
        await audit.recordWithin(r, p, { action: 'site.update', targetType: 'site', targetId: id, siteId: id, details: { changes } });
        return (await r.sites.findDetail(id))!;
      });
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
