/**
 * The HLS player the case page loads with its code (not after it): hls.js's light build, without what the centre's
 * playlists never use (subtitles, DRM, alternate audio, CMCD, interstitials), about 40 % less to fetch and compile.
 */
import Hls from 'hls.js/light';

export default Hls;
