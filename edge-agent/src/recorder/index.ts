/**
 * The recorder as `run` sees it (cli/recorders.ts): a RecorderFactory over createCameraRecorder. ONVIF cameras get
 * their stream URL from the camera (GetStreamUri) before every ffmpeg start, so a camera that changed its URI after
 * a reboot is still recorded; a camera that does not answer counts as offline.
 */
import type { CameraHealth } from '@mamoru/contract/enums';
import type { RecorderFactory } from '../cli/recorders.ts';
import type { CameraConfig } from '../config.ts';
import { createFfmpegMediaTool } from '../media/ffmpeg-media-tool.ts';
import type { MediaTool } from '../media/media-tool.ts';
import { resolveStreamUrl } from '../onvif/stream-url.ts';
import { createCameraRecorder, type CameraRecorderOptions, type RecorderState } from './camera-recorder.ts';

export { createCameraRecorder } from './camera-recorder.ts';
export type { CameraRecorder, CameraRecorderOptions, RecorderHealth, RecorderState } from './camera-recorder.ts';

const HEALTH: Record<RecorderState, CameraHealth> = {
  starting: 'starting',
  recording: 'recording',
  offline: 'offline',
  stopped: 'unknown',
};

export type RecorderFactoryOptions = {
  /** Replaces ffmpeg (tests). Default: the binaries from `recording.ffmpegPath` / `ffprobePath`. */
  media?: MediaTool;
  /** Finds an ONVIF camera's RTSP URL (credentials injected). Default: ONVIF GetStreamUri via node-onvif. */
  resolveOnvifUrl?: (onvif: NonNullable<CameraConfig['onvif']>) => Promise<string>;
  /** Extra recorder settings for every camera (e.g. rtspTimeoutUs, backoff). */
  overrides?: Partial<Pick<CameraRecorderOptions, 'rtspTimeoutUs' | 'backoff' | 'stallMs' | 'audio'>>;
};

export function createRecorderFactory(opts: RecorderFactoryOptions = {}): RecorderFactory {
  const resolveOnvif = opts.resolveOnvifUrl ?? (async (onvif) => (await resolveStreamUrl(onvif)).url.reveal());
  return (camera, sink, clock, env) => {
    const media = opts.media ?? createFfmpegMediaTool({ ffmpegPath: env.recording.ffmpegPath, ffprobePath: env.recording.ffprobePath });
    const onvif = camera.onvif;
    const rtspUrl = camera.rtspUrl ?? (onvif ? () => resolveOnvif(onvif) : undefined);
    if (rtspUrl === undefined) throw new Error(`camera ${camera.key}: neither rtspUrl nor onvif`);
    const rec = createCameraRecorder({
      cameraKey: camera.key,
      rtspUrl,
      transport: camera.transport,
      spoolDir: env.dir,
      segmentSeconds: env.recording.segmentSeconds,
      sink,
      clockOffset: clock,
      media,
      log: env.log,
      ...(env.resume && { resume: env.resume }),
      ...opts.overrides,
    });
    return {
      start: () => rec.start(),
      stop: () => rec.stop(),
      health: () => HEALTH[rec.health().state],
    };
  };
}
