/**
 * Japanese first, English on request (`?lang=en`). Plain dictionaries, one file per area under `./i18n/` (so that
 * areas are edited without touching each other); each area's type keeps its ja and en complete, and `Messages` is
 * all areas together. A new area: add `./i18n/<area>.ts` exporting its type, `ja` and `en`, and list it below.
 */
import * as calls from './i18n/calls.ts';
import * as cameras from './i18n/cameras.ts';
import * as cases from './i18n/cases.ts';
import * as common from './i18n/common.ts';
import * as disclosures from './i18n/disclosures.ts';
import * as admin from './i18n/admin.ts';
import * as home from './i18n/home.ts';
import * as incidents from './i18n/incidents.ts';
import * as packs from './i18n/packs.ts';

export type { GapReason, Problem, SearchProblemKey, UserRole } from './i18n/types.ts';

export type Lang = 'ja' | 'en';

export function langFromQuery(params: URLSearchParams): Lang {
  return params.get('lang') === 'en' ? 'en' : 'ja';
}

/** The same URL (path + query) with the language set; Japanese is the default and is not written. */
export function hrefWithLang(pathAndQuery: string, lang: Lang): string {
  const u = new URL(pathAndQuery, 'http://x');
  if (lang === 'ja') u.searchParams.delete('lang');
  else u.searchParams.set('lang', lang);
  const q = u.searchParams.toString();
  return `${u.pathname}${q ? `?${q}` : ''}${u.hash}`;
}

/** Every area's messages (the areas are checked to share no key: web/test/i18n.test.ts). */
export type Messages = common.CommonMessages &
  cameras.CameraMessages &
  calls.CallMessages &
  home.HomeMessages &
  incidents.IncidentMessages &
  cases.CaseMessages &
  admin.AdminMessages &
  packs.PackMessages &
  disclosures.DisclosureMessages;

/** The areas in the order they are merged; exported for the test that keeps their keys apart. */
export const areas = { common, cameras, calls, home, incidents, cases, admin, packs, disclosures } as const;

function all(lang: Lang): Messages {
  return { ...common[lang], ...cameras[lang], ...calls[lang], ...home[lang], ...incidents[lang], ...cases[lang], ...admin[lang], ...packs[lang], ...disclosures[lang] };
}

export const messages: Record<Lang, Messages> = { ja: all('ja'), en: all('en') };

/** A gap reason's label; an unknown code is shown as itself rather than hidden. */
export function gapReasonLabel(m: Messages, reason: string | undefined): string {
  if (reason === undefined) return m.gapReason.unreported;
  return (m.gapReason as Record<string, string>)[reason] ?? reason;
}

export function healthLabel(m: Messages, health: string): string {
  return m.health[health] ?? health;
}

/** A label from a table of codes; a code the table lacks is shown as itself rather than hidden. */
export function labelOf(table: Record<string, string>, code: string | null | undefined, missing = '—'): string {
  if (code === null || code === undefined || code === '') return missing;
  return table[code] ?? code;
}

/** A wait as people say it: `14 分 32 秒` / `14 min 32 s` (whole seconds, rounded up). */
export function waitText(lang: Lang, seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  const r = s % 60;
  if (lang === 'ja') return m === 0 ? `${r} 秒` : r === 0 ? `${m} 分` : `${m} 分 ${r} 秒`;
  return m === 0 ? `${r} s` : r === 0 ? `${m} min` : `${m} min ${r} s`;
}
