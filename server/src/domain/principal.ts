/** Who is asking. Services derive the site scope from it; nothing fetches by id without it. */
export type Principal =
  | { kind: 'admin-token' }
  | { kind: 'agent'; agentId: string; siteId: string }
  | { kind: 'user'; userId: string; role: string; siteIds: readonly string[] | 'all' };

/** Sites whose data a principal may read: 'all' or a list (possibly empty). */
export function readableSites(p: Principal): readonly string[] | 'all' {
  switch (p.kind) {
    case 'admin-token':
      return 'all';
    case 'agent':
      return [p.siteId];
    case 'user':
      return p.siteIds;
  }
}
