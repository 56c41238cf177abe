/** Pure helpers of the disclosure page: the masking a person types, turned into what the API takes. */

export type TimeRange = { fromS: number; toS: number };
export type Region = { x: number; y: number; w: number; h: number; fromS: number; toS: number };

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const RANGE = new RegExp(String.raw`^\s*${NUM}\s*[-–〜~]\s*${NUM}\s*$`);

/** "3-7.5, 12-14" → ranges in seconds; null when any part is not `from-to` with from < to. Empty text → []. */
export function parseRanges(text: string): TimeRange[] | null {
  const t = text.trim();
  if (!t) return [];
  const out: TimeRange[] = [];
  for (const part of t.split(/[,、，]/)) {
    const m = RANGE.exec(part);
    if (!m) return null;
    const fromS = Number(m[1]);
    const toS = Number(m[2]);
    if (!(toS > fromS)) return null;
    out.push({ fromS, toS });
  }
  return out;
}

/** Ranges back to the text form (for editing a saved decision). */
export function formatRanges(r: readonly TimeRange[]): string {
  return r.map((x) => `${x.fromS}-${x.toS}`).join(', ');
}

/** A region typed in percent of the frame (left, top, width, height) and seconds → fractions; null when outside the frame or empty. */
export function regionFromPercent(p: { left: number; top: number; width: number; height: number; fromS: number; toS: number }): Region | null {
  const vals = [p.left, p.top, p.width, p.height, p.fromS, p.toS];
  if (vals.some((v) => !Number.isFinite(v) || v < 0)) return null;
  if (p.width <= 0 || p.height <= 0 || p.left + p.width > 100 || p.top + p.height > 100) return null;
  if (!(p.toS > p.fromS)) return null;
  const f = (v: number) => Math.round(v * 100) / 10_000;
  return { x: f(p.left), y: f(p.top), w: f(p.width), h: f(p.height), fromS: p.fromS, toS: p.toS };
}

/** A search window from calendar dates in Japan (+09:00): from the start of `from` to the end of `to`; blanks left out. */
export function searchWindow(from: string, to: string): { searchFrom?: string; searchTo?: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const out: { searchFrom?: string; searchTo?: string } = {};
  if (day.test(from)) out.searchFrom = new Date(`${from}T00:00:00+09:00`).toISOString();
  if (day.test(to)) out.searchTo = new Date(Date.parse(`${to}T00:00:00+09:00`) + 86_400_000).toISOString();
  return out;
}
