/**
 * Our view of ONVIF. Callers depend on these types and on `OnvifGateway` only; the implementation over node-onvif
 * 0.1.7 (`node-onvif-gateway.ts`) can be replaced (e.g. by agsh `onvif`) without touching them.
 */

/** What a WS-Discovery ProbeMatch told us about a device. */
export type DiscoveredDevice = {
  /** Endpoint reference, usually `urn:uuid:…`; stable per device. */
  urn: string;
  /** The device-service address to use (first http:// XAddr), or null when it announced none we can use. */
  xaddr: string | null;
  xaddrs: string[];
  /** From the scopes `onvif://www.onvif.org/name/…`, `/hardware/…`, `/location/…` (percent-decoded). */
  name: string | null;
  hardware: string | null;
  location: string | null;
  scopes: string[];
  types: string[];
};

/** Where a device is and how to log in. Either `xaddr` or `host` (+ `port`, default 80). */
export type OnvifTarget = {
  xaddr?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  /** Whole-describe deadline, ms (default 10 000). node-onvif also gives up on each request after 3 s. */
  timeoutMs?: number;
};

export type MediaProfile = {
  token: string;
  name: string;
  /** e.g. 'H264', 'H265', 'JPEG'; null when the profile has no video encoder. */
  encoding: string | null;
  resolution: { width: number; height: number } | null;
  fps: number | null;
  bitrateKbps: number | null;
  /**
   * The RTSP URI the device answered for this profile, with any user:password it embedded removed (credentials are
   * injected from our configuration by `resolveStreamUrl`). Null when the device gave none.
   */
  streamUri: string | null;
  snapshotUri: string | null;
};

/** How the camera was authenticated: what it asked for. 'none' for an open camera (or no credentials needed). */
export type OnvifAuthMethod = 'ws-security' | 'digest' | 'digest+ws-security' | 'none';

export type DeviceDescription = {
  /** Device-service address used. */
  xaddr: string;
  auth: OnvifAuthMethod;
  maker: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  hardwareId: string | null;
  profiles: MediaProfile[];
};

export interface OnvifGateway {
  /** WS-Discovery probe on the local network; resolves after `timeoutMs` with every device that answered. */
  discover(timeoutMs: number): Promise<DiscoveredDevice[]>;
  /** Device information, media profiles and each profile's stream URI. Throws an `OnvifError`. */
  describe(target: OnvifTarget): Promise<DeviceDescription>;
}

/** The `onvif` block of a camera in the agent's configuration. */
export type OnvifCameraConfig = {
  host: string;
  port?: number;
  username?: string;
  password?: string;
  /** Which media profile to record; default the one with the largest resolution. */
  profileToken?: string;
  timeoutMs?: number;
};
