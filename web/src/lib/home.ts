/** What the home page shows, from what the API answered: pure, so each role's view is tested without a browser. */
import type { Camera, Incident } from './api.ts';

const OPEN: readonly Incident['status'][] = ['draft', 'open', 'under_review', 'referred_to_police'];

/** Cases not closed, newest filed first (the API's order is kept). */
export function openIncidents(list: readonly Incident[]): Incident[] {
  return list.filter((i) => OPEN.includes(i.status));
}

export type StoreProblem = { siteId: string; siteName: string; timezone: string; offline: number; total: number; lastSegmentAt: string | null };

/** Stores where some camera is not recording, the worst first (most cameras down, then the longest silent). */
export function storesWithProblems(cameras: readonly Camera[]): StoreProblem[] {
  const by = new Map<string, StoreProblem>();
  for (const c of cameras) {
    const s = by.get(c.siteId) ?? { siteId: c.siteId, siteName: c.siteName, timezone: c.timezone, offline: 0, total: 0, lastSegmentAt: null };
    s.total += 1;
    if (c.health !== 'recording') s.offline += 1;
    if (c.lastSegmentAt && (!s.lastSegmentAt || c.lastSegmentAt > s.lastSegmentAt)) s.lastSegmentAt = c.lastSegmentAt;
    by.set(c.siteId, s);
  }
  return [...by.values()]
    .filter((s) => s.offline > 0)
    .sort((a, b) => b.offline / b.total - a.offline / a.total || (a.lastSegmentAt ?? '').localeCompare(b.lastSegmentAt ?? '') || a.siteName.localeCompare(b.siteName));
}

/** A count the list capped: `200+` when there were more pages. */
export function countLabel(n: number, more: boolean): string {
  return more ? `${n}+` : String(n);
}
