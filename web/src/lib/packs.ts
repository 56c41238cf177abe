/** Pure helpers for the evidence packs page: sizes, polling, share URLs and the request body from the form. */
import type { EvidencePack, PackRequest } from './api.ts';

/** A byte count for people: 1 KB = 1024 bytes, one decimal below 10 units. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Whether any pack is still being built (the page keeps polling while so). */
export function anyBuilding(packs: Pick<EvidencePack, 'status'>[]): boolean {
  return packs.some((p) => p.status === 'queued' || p.status === 'building');
}

/** The full address of a share link from the path the centre returned and the page's origin. */
export function shareUrl(origin: string, path: string): string {
  return new URL(path, origin).toString();
}

export type PackForm = { purpose: PackRequest['purpose']; reference: string; legalBasis: string; scope: 'all' | 'chosen'; windowIds: string[]; callIds: string[] };

/** The request body from the form, or the name of the problem: a missing field or an empty choice. */
export function packRequestBody(f: PackForm): { body: PackRequest } | { problem: 'reference' | 'legalBasis' | 'scope' } {
  const reference = f.reference.trim();
  const legalBasis = f.legalBasis.trim();
  if (!reference) return { problem: 'reference' };
  if (!legalBasis) return { problem: 'legalBasis' };
  if (f.scope === 'all') return { body: { purpose: f.purpose, reference, legalBasis } };
  if (f.windowIds.length === 0 && f.callIds.length === 0) return { problem: 'scope' };
  return { body: { purpose: f.purpose, reference, legalBasis, cameraWindowIds: [...f.windowIds], callIds: [...f.callIds] } };
}
