/**
 * Registers the configured cameras at the centre (PUT /api/v1/agent/cameras/{key}): name, place, upload mode and
 * how the device is reached — never the stream URI or a credential. The uploader calls ensureAll() before sending
 * and register() again when the centre answers 404 camera_not_found.
 */
import { agentPaths, type CameraBody } from '@mamoru/contract';
import { CAMERA_HEALTHS, type CameraHealth } from '@mamoru/contract/enums';
import type { Logger } from '../lib/logger.ts';
import { cameraDeviceInfo, type CameraConfig } from '../config.ts';
import type { CentreClient } from './centre-client.ts';

const isCameraHealth = (h: string): h is CameraHealth => (CAMERA_HEALTHS as readonly string[]).includes(h);

export type RegisterResult = { ok: true } | { ok: false; retryable: boolean; status: number | null; code: string | null; retryAfterMs: number | null };

export class CameraRegistrar {
  private readonly registered = new Set<string>();
  private readonly refused = new Set<string>();
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly client: CentreClient,
    private readonly cameras: readonly CameraConfig[],
    private readonly log: Logger,
    private readonly health: (key: string) => string = () => 'starting',
  ) {}

  get allRegistered(): boolean {
    return this.cameras.every((c) => this.registered.has(c.key) || this.refused.has(c.key));
  }

  /** Resolves once every camera is registered (or refused for good), or when `signal` aborts. */
  whenAllRegistered(signal?: AbortSignal): Promise<void> {
    if (this.allRegistered || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private settleWaiters() {
    if (this.allRegistered) for (const w of [...this.waiters]) w();
  }

  /** Registers every camera not yet registered; stops at the first retryable failure and returns it. */
  async ensureAll(signal?: AbortSignal): Promise<RegisterResult> {
    for (const c of this.cameras) {
      if (this.registered.has(c.key) || this.refused.has(c.key)) continue;
      const r = await this.register(c.key, signal);
      if (!r.ok && r.retryable) return r;
    }
    return { ok: true };
  }

  /**
   * Registers one camera. A key that is not (or no longer) in the config still gets a minimal registration so that
   * its pending footage can reach the centre.
   */
  async register(key: string, signal?: AbortSignal): Promise<RegisterResult> {
    const c = this.cameras.find((x) => x.key === key);
    const h = this.health(key);
    const body: CameraBody = c
      ? { name: c.name, place: c.place, uploadMode: c.uploadMode, device: cameraDeviceInfo(c), health: isCameraHealth(h) ? h : 'unknown' }
      : { name: key, place: null, uploadMode: 'continuous', device: {}, health: 'unknown' };
    const res = await this.client
      .request({ method: 'PUT', path: agentPaths.camera(key), json: body, ...(signal && { signal }) })
      .catch((e: Error) => {
        if (e.name === 'AbortedError') throw e;
        return { status: null, errorCode: e.name, retryAfterMs: null, message: e.message } as const;
      });
    if (res.status === 200 || res.status === 201) {
      this.registered.add(key);
      this.refused.delete(key);
      this.log.info('camera registered', { camera: key });
      this.settleWaiters();
      return { ok: true };
    }
    const retryable = res.status === null || res.status === 401 || res.status === 403 || res.status === 404 || res.status === 408 || res.status === 429 || res.status >= 500;
    if (!retryable) {
      // The centre refuses this camera's description: log it loudly and keep going with the others.
      this.refused.add(key);
      this.log.error('centre refused camera registration', { camera: key, status: res.status, code: res.errorCode });
      this.settleWaiters();
    }
    return { ok: false, retryable, status: res.status, code: res.errorCode, retryAfterMs: res.retryAfterMs };
  }

  /** Forget a camera's registration (the centre said it does not know it). */
  forget(key: string) {
    this.registered.delete(key);
  }
}
