/**
 * The HLS player the case page loads with its code (not after it): hls.js's light build, without what the centre's
 * playlists never use (subtitles, DRM, alternate audio, CMCD, interstitials), about 40 % less to fetch and compile.
 * Its UMD file, not the ES module: only that one can start its transmuxer in a worker made from its own code (a Blob
 * URL, allowed by the CSP's worker-src), so turning MPEG-TS into MP4 fragments stays off the page's main thread,
 * which is busy drawing the case page, with no extra file to fetch.
 */
import Hls from 'hls.js/dist/hls.light.min.js';

export default Hls;
