/** The agent's ONVIF adapter. Import from here; nothing outside this folder imports node-onvif. */
export type { DeviceDescription, DiscoveredDevice, MediaProfile, OnvifAuthMethod, OnvifCameraConfig, OnvifGateway, OnvifTarget } from './types.ts';
export {
  OnvifAuthError,
  OnvifError,
  OnvifNoStreamUriError,
  OnvifNotOnvifError,
  OnvifProfileNotFoundError,
  OnvifProtocolError,
  OnvifRefusedError,
  OnvifTargetError,
  OnvifTimeoutError,
  OnvifUnreachableError,
  type OnvifErrorCode,
} from './errors.ts';
export { maskCredentials, maskUri, SecretUrl, stripUserinfo, withCredentials } from './mask.ts';
export { createNodeOnvifGateway, DEFAULT_DESCRIBE_TIMEOUT_MS, targetXaddr } from './node-onvif-gateway.ts';
export { fetchSnapshot } from './soap-client.ts';
export { chooseProfile, resolveStreamUrl, type ResolvedStream } from './stream-url.ts';
