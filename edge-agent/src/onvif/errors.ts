/**
 * Typed ONVIF failures. Messages name the device by its masked address and never contain a password; `detail` is the
 * underlying library's message with credentials masked.
 */

export type OnvifErrorCode =
  | 'onvif_auth_failed'
  | 'onvif_unreachable'
  | 'onvif_refused'
  | 'onvif_not_onvif'
  | 'onvif_timeout'
  | 'onvif_protocol'
  | 'onvif_bad_target'
  | 'onvif_profile_not_found'
  | 'onvif_no_stream_uri';

export class OnvifError extends Error {
  constructor(
    public readonly code: OnvifErrorCode,
    message: string,
    /** Masked address of the device (no credentials). */
    public readonly device: string | null,
    /** The library's own message, masked. */
    public readonly detail: string | null = null,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON() {
    return { code: this.code, message: this.message, device: this.device, detail: this.detail };
  }
}

/** The device refused our credentials (wrong username or password, or none given to a device that needs them). */
export class OnvifAuthError extends OnvifError {
  constructor(device: string, detail: string | null) {
    super('onvif_auth_failed', `ONVIF device ${device} refused the credentials (wrong or missing username/password)`, device, detail);
  }
}

/** Nothing answers at that address (connection refused, no route, unknown host). */
export class OnvifUnreachableError extends OnvifError {
  constructor(device: string, detail: string | null) {
    super('onvif_unreachable', `ONVIF device ${device} is unreachable`, device, detail);
  }
}

/** The host answered but nothing listens on that port (connection refused): a wrong port, or ONVIF turned off or still starting. */
export class OnvifRefusedError extends OnvifError {
  constructor(device: string, detail: string | null) {
    super('onvif_refused', `nothing listens at ${device} (connection refused): wrong port, or the device's ONVIF service is off or still starting`, device, detail);
  }
}

/** Something answers at that address, but not ONVIF: not HTTP at all, or HTTP without SOAP (a web page, a 404). */
export class OnvifNotOnvifError extends OnvifError {
  constructor(
    device: string,
    /** What answered instead: 'not_http' (not an HTTP server), 'not_soap' (HTTP, but no SOAP envelope). */
    public readonly answered: 'not_http' | 'not_soap',
    detail: string | null,
  ) {
    super(
      'onvif_not_onvif',
      answered === 'not_http'
        ? `${device} does not speak HTTP, so it is no ONVIF device service (wrong port?)`
        : `${device} answers HTTP but not ONVIF (no SOAP envelope): not a camera's ONVIF service, or a wrong path or port`,
      device,
      detail,
    );
  }
}

/** The device accepted the connection but did not answer in time. */
export class OnvifTimeoutError extends OnvifError {
  constructor(device: string, timeoutMs: number, detail: string | null = null) {
    super('onvif_timeout', `ONVIF device ${device} did not answer within ${timeoutMs} ms`, device, detail);
  }
}

/** The device answered something we cannot use (a SOAP fault other than auth, a malformed answer). */
export class OnvifProtocolError extends OnvifError {
  constructor(device: string | null, message: string, detail: string | null) {
    super('onvif_protocol', message, device, detail);
  }
}

/** Our own configuration is unusable (bad address, credentials node-onvif cannot send). */
export class OnvifTargetError extends OnvifError {
  constructor(message: string, device: string | null = null) {
    super('onvif_bad_target', message, device);
  }
}

export class OnvifProfileNotFoundError extends OnvifError {
  constructor(
    device: string,
    public readonly profileToken: string,
    public readonly available: string[],
  ) {
    super('onvif_profile_not_found', `ONVIF device ${device} has no media profile "${profileToken}" (it has: ${available.join(', ') || 'none'})`, device);
  }
}

export class OnvifNoStreamUriError extends OnvifError {
  constructor(device: string, profileToken: string, detail: string | null = null) {
    super('onvif_no_stream_uri', `ONVIF device ${device} gave no usable RTSP URI for profile "${profileToken}"`, device, detail);
  }
}
