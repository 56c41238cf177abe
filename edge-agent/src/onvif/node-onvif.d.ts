/**
 * The parts of node-onvif 0.1.7 (futomi, unmaintained since 2018, no types of its own) that our adapter uses.
 * Only `node-onvif-gateway.ts` imports the module; everything else goes through `OnvifGateway`.
 */
declare module 'node-onvif' {
  import type { EventEmitter } from 'node:events';

  namespace onvif {
    type DeviceInformation = {
      Manufacturer?: string;
      Model?: string;
      FirmwareVersion?: string;
      SerialNumber?: string;
      HardwareId?: string;
    };

    type Profile = {
      token: string;
      name: string;
      /** Empty string when GetSnapshotUri failed. */
      snapshot: string;
      /** Each is '' when GetStreamUri failed for that protocol. */
      stream: { udp: string; http: string; rtsp: string };
      video: {
        source: { token: string; name: string; bounds: { width: number; height: number; x: number; y: number } } | null;
        encoder: {
          token: string;
          name: string;
          resolution: { width: number; height: number };
          quality: number;
          framerate: number;
          bitrate: number;
          encoding: string;
        } | null;
      };
      audio: {
        source: { token: string; name: string } | null;
        encoder: { token: string; name: string; bitrate: number; samplerate: number; encoding: string } | null;
      };
    };

    type ProbeResult = {
      urn: string;
      name: string;
      hardware: string;
      location: string;
      types: string[] | string;
      xaddrs: string[];
      scopes: string[];
    };

    interface OnvifDeviceConstructor {
      /** Throws synchronously on a bad xaddr, or a user/pass with '<', '>' or non-ASCII characters. */
      new (params: { xaddr: string; user?: string; pass?: string } | { address: string; user?: string; pass?: string }): OnvifDevice;
    }

    interface OnvifDevice extends EventEmitter {
      /** GetSystemDateAndTime, GetCapabilities, GetDeviceInformation, GetProfiles, GetStreamUri x3 per profile, GetSnapshotUri. */
      init(): Promise<DeviceInformation>;
      getInformation(): DeviceInformation | null;
      getProfileList(): Profile[];
      getCurrentProfile(): Profile | null;
      changeProfile(indexOrToken: number | string): Profile | null;
    }

    interface Onvif {
      OnvifDevice: OnvifDeviceConstructor;
      /** Multicasts 9 probes (150 ms apart), then resolves after `_DISCOVERY_WAIT` ms. Module-wide state: one at a time. */
      startProbe(): Promise<ProbeResult[]>;
      stopProbe(): Promise<void>;
      /** Private in node-onvif; the only way to set the probe's wait (default 3000 ms). */
      _DISCOVERY_WAIT: number;
    }
  }

  const onvif: onvif.Onvif;
  export = onvif;
}
