/** Recording file names: the FreePBX scheme `<type>-<dst>-<src>-<YYYYMMDD>-<HHMMSS>-<uniqueid>[-rx|-tx].<ext>`. */

export const AUDIO_EXTENSIONS = ['wav', 'wav16', 'wav49', 'gsm', 'mp3', 'ogg', 'opus', 'm4a', 'sln', 'sln16', 'ulaw', 'alaw', 'g722', 'g729', 'raw', 'flac'];

export type RecordingSide = 'rx' | 'tx' | 'in' | 'out';

export type RecordingName = {
  /** File name without the side suffix and extension: the key shared by the mixed file and its -rx/-tx files. */
  base: string;
  ext: string;
  side: RecordingSide | null;
  /** FreePBX fields when the name follows the scheme. */
  type: string | null;
  dst: string | null;
  src: string | null;
  /** `YYYYMMDD-HHMMSS`, PBX local time when the recording started. */
  timestr: string | null;
  /** The uniqueid of the recorded channel (FreePBX scheme), or an `epoch.n` token found in the name. */
  uid: string | null;
};

const FREEPBX_RE =
  /^(?<type>[a-z]+)-(?<dst>[^-]*)-(?<src>[^-]*)-(?<date>\d{8})-(?<time>\d{6})-(?<uid>.+?)(?:-(?<side>rx|tx|in|out))?\.(?<ext>[A-Za-z0-9]+)$/;

export function isAudioFile(name: string): boolean {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return false;
  return AUDIO_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

export function parseRecordingName(name: string): RecordingName | null {
  if (!isAudioFile(name)) return null;
  const m = FREEPBX_RE.exec(name);
  if (m?.groups && AUDIO_EXTENSIONS.includes(m.groups.ext!.toLowerCase())) {
    const g = m.groups;
    const side = (g.side as RecordingSide | undefined) ?? null;
    const ext = g.ext!;
    const base = name.slice(0, name.length - ext.length - 1 - (side ? side.length + 1 : 0));
    return { base, ext, side, type: g.type!, dst: g.dst!, src: g.src!, timestr: `${g.date}-${g.time}`, uid: g.uid! };
  }
  const dot = name.lastIndexOf('.');
  const ext = name.slice(dot + 1);
  let stem = name.slice(0, dot);
  let side: RecordingSide | null = null;
  const s = /-(rx|tx|in|out)$/.exec(stem);
  if (s) {
    side = s[1] as RecordingSide;
    stem = stem.slice(0, stem.length - s[0].length);
  }
  const uid = /(?:^|[^0-9])(\d{9,11}\.\d+)(?:$|[^0-9])/.exec(stem)?.[1] ?? null;
  return { base: stem, ext, side, type: null, dst: null, src: null, timestr: null, uid };
}
