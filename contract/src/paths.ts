/**
 * The agent API's paths, once. `AGENT_API_BASE` is where the centre mounts the agent routes; `AGENT_ROUTES` are
 * the route templates the centre registers (OpenAPI `{param}` syntax, relative to the base); `agentPaths` builds the
 * concrete, URL-encoded paths the agent requests from the same templates.
 */

export const API_BASE = '/api/v1';
export const AGENT_API_BASE = `${API_BASE}/agent`;

export const AGENT_ROUTES = {
  enroll: '/enroll',
  camera: '/cameras/{key}',
  segment: '/segments/{cameraKey}/{start}',
  segmentMeta: '/segments/{cameraKey}/{start}/meta',
  gaps: '/gaps',
  heartbeat: '/heartbeat',
  commandAck: '/commands/{id}/ack',
  callVersion: '/calls/{callKey}/versions/{version}',
  callRecording: '/calls/{callKey}/recordings/{name}',
  callLive: '/calls/{callKey}/live',
} as const;

type Params<T extends string> = T extends `${string}{${infer P}}${infer Rest}` ? P | Params<Rest> : never;

/** A route template with its `{param}`s filled in, each URL-encoded; the result is absolute (with the base). */
export function fillAgentRoute<T extends string>(template: T, params: Record<Params<T>, string | number>): string {
  const path = template.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = (params as Record<string, string | number | undefined>)[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${template}`);
    return encodeURIComponent(String(v));
  });
  return `${AGENT_API_BASE}${path}`;
}

const R = AGENT_ROUTES;
export const agentPaths = {
  enroll: () => fillAgentRoute(R.enroll, {}),
  camera: (key: string) => fillAgentRoute(R.camera, { key }),
  /** `start`: the segment's real UTC start, ISO 8601. */
  segment: (cameraKey: string, start: string) => fillAgentRoute(R.segment, { cameraKey, start }),
  segmentMeta: (cameraKey: string, start: string) => fillAgentRoute(R.segmentMeta, { cameraKey, start }),
  gaps: () => fillAgentRoute(R.gaps, {}),
  heartbeat: () => fillAgentRoute(R.heartbeat, {}),
  commandAck: (id: string) => fillAgentRoute(R.commandAck, { id }),
  callVersion: (callKey: string, version: number) => fillAgentRoute(R.callVersion, { callKey, version }),
  callRecording: (callKey: string, name: string) => fillAgentRoute(R.callRecording, { callKey, name }),
  callLive: (callKey: string) => fillAgentRoute(R.callLive, { callKey }),
};
