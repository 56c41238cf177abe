/**
 * The HLS player the case page loads with its code (not after it): hls.js's light build, without what the centre's
 * playlists never use (subtitles, DRM, alternate audio, CMCD, interstitials), about 40 % less to fetch and compile.
 * Its UMD file, not the ES module: only that one can start its transmuxer in a worker made from its own code (a Blob
 * URL, allowed by the CSP's worker-src). The single-camera page uses that worker; the case page transmuxes on the
 * main thread instead (`enableWorker: false` in case/camera-player.svelte.ts), because the worker is started only
 * when the first fragment arrives and compiling the whole build in it delayed every camera's first frame.
 */
import Hls from 'hls.js/dist/hls.light.min.js';

export default Hls;
