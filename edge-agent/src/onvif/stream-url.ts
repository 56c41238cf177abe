/**
 * From a camera's `onvif` configuration to the RTSP URL the recorder opens.
 * The result carries the credentials inside a `SecretUrl`: it prints masked, and only the recorder calls `reveal()`.
 */
import { OnvifNoStreamUriError, OnvifProfileNotFoundError } from './errors.ts';
import { maskUri, SecretUrl, withCredentials } from './mask.ts';
import { createNodeOnvifGateway, targetXaddr } from './node-onvif-gateway.ts';
import type { DeviceDescription, MediaProfile, OnvifCameraConfig, OnvifGateway } from './types.ts';

export type ResolvedStream = {
  /** The RTSP URL with the configured credentials injected. Prints masked. */
  url: SecretUrl;
  /** Same URL, masked: for logs, heartbeats and the centre. */
  masked: string;
  profile: MediaProfile;
  device: Pick<DeviceDescription, 'xaddr' | 'maker' | 'model' | 'firmware' | 'serial'>;
};

const pixels = (p: MediaProfile) => (p.resolution ? p.resolution.width * p.resolution.height : 0);

/** The configured profile, or else the largest-resolution profile that has an RTSP URI (first on a tie). */
export function chooseProfile(desc: DeviceDescription, profileToken: string | undefined): MediaProfile {
  const device = maskUri(desc.xaddr);
  if (profileToken !== undefined) {
    const p = desc.profiles.find((x) => x.token === profileToken);
    if (!p) throw new OnvifProfileNotFoundError(device, profileToken, desc.profiles.map((x) => x.token));
    if (!p.streamUri) throw new OnvifNoStreamUriError(device, p.token);
    return p;
  }
  const usable = desc.profiles.filter((p) => p.streamUri);
  if (usable.length === 0) throw new OnvifNoStreamUriError(device, desc.profiles[0]?.token ?? '(none)');
  return usable.reduce((best, p) => (pixels(p) > pixels(best) ? p : best));
}

/**
 * Asks the camera (ONVIF) for the stream URI of the configured profile and injects the configured credentials.
 * Throws the typed `OnvifError`s (auth, unreachable, timeout, profile not found, no stream URI).
 */
export async function resolveStreamUrl(cfg: OnvifCameraConfig, gateway: OnvifGateway = createNodeOnvifGateway()): Promise<ResolvedStream> {
  const desc = await gateway.describe({
    xaddr: targetXaddr({ host: cfg.host, port: cfg.port }),
    username: cfg.username,
    password: cfg.password,
    timeoutMs: cfg.timeoutMs,
  });
  const profile = chooseProfile(desc, cfg.profileToken);
  let url: SecretUrl;
  try {
    url = withCredentials(profile.streamUri!, cfg.username, cfg.password);
  } catch {
    throw new OnvifNoStreamUriError(maskUri(desc.xaddr), profile.token, `unparseable URI ${maskUri(profile.streamUri!)}`);
  }
  return {
    url,
    masked: url.masked,
    profile,
    device: { xaddr: desc.xaddr, maker: desc.maker, model: desc.model, firmware: desc.firmware, serial: desc.serial },
  };
}
