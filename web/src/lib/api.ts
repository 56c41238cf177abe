/** The centre's read API, as the browser calls it (same origin, bearer token). */

export type Camera = {
  id: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  timezone: string;
  key: string;
  name: string;
  place: string | null;
  uploadMode: string;
  health: string;
  lastSegmentAt: string | null;
};

export type Segment = { id: string; start: string; end: string; durationMs: number; byteSize: number; sha256: string; stored: boolean; runId: string | null };
export type Gap = { id: string; start: string; end: string; reason: string; detail: string | null };
export type Timeline = { cameraId: string; camera: Camera; segments: Segment[]; gaps: Gap[] };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Api = ReturnType<typeof apiClient>;

/** `onUnauthorized` runs when the centre rejects the token (the app then asks for it again). */
export function apiClient(token: string, onUnauthorized: () => void, base = '') {
  async function get<T>(path: string): Promise<T> {
    let r: Response;
    try {
      r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' } });
    } catch (e) {
      throw new ApiError(0, 'network_error', (e as Error).message);
    }
    if (r.ok) return (await r.json()) as T;
    let code = `http_${r.status}`;
    let message = r.statusText;
    try {
      const body = (await r.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not our JSON error shape
    }
    if (r.status === 401) onUnauthorized();
    throw new ApiError(r.status, code, message);
  }
  const range = (from: Date, to: Date) => new URLSearchParams({ from: from.toISOString(), to: to.toISOString() }).toString();
  return {
    cameras: () => get<{ cameras: Camera[] }>('/api/v1/cameras').then((b) => b.cameras),
    camera: (id: string) => get<{ camera: Camera }>(`/api/v1/cameras/${encodeURIComponent(id)}`).then((b) => b.camera),
    timeline: (id: string, from: Date, to: Date) => get<Timeline>(`/api/v1/cameras/${encodeURIComponent(id)}/timeline?${range(from, to)}`),
    playlistUrl: (id: string, from: Date, to: Date) => `${base}/api/v1/cameras/${encodeURIComponent(id)}/playlist.m3u8?${range(from, to)}`,
  };
}
