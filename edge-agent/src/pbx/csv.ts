/** CSV as PBXs write it: RFC-4180-ish, `""` escapes inside quotes, unquoted integers and empty fields. */

export type CsvLine = {
  fields: string[];
  /** Whether each field was written in double quotes (cdr_csv quotes strings, not integers or empty dates). */
  quoted: boolean[];
  /** False when the quoting was broken (unterminated quote, text after a closing quote). */
  wellFormed: boolean;
};

/** Parses one record that is already known to be on one line (cdr_csv never writes a newline inside a record). */
export function parseCsvLine(line: string, delimiter = ','): CsvLine {
  const fields: string[] = [];
  const quoted: boolean[] = [];
  let wellFormed = true;
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line[i] === '"') {
      let value = '';
      i++;
      let closed = false;
      while (i < n) {
        const c = line[i]!;
        if (c === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) wellFormed = false;
      // Anything between the closing quote and the next delimiter is junk; keep it rather than lose it.
      while (i < n && line[i] !== delimiter) {
        value += line[i];
        wellFormed = false;
        i++;
      }
      fields.push(value);
      quoted.push(true);
    } else {
      let j = line.indexOf(delimiter, i);
      if (j < 0) j = n;
      fields.push(line.slice(i, j));
      quoted.push(false);
      i = j;
    }
    if (i < n && line[i] === delimiter) {
      i++;
      continue;
    }
    break;
  }
  return { fields, quoted, wellFormed };
}

export type CsvRecord = CsvLine & { raw: string; start: number; end: number };

/**
 * Splits a whole CSV document into records, honouring quoted newlines (spreadsheet exports have them). `start`/`end`
 * are character offsets of each record in `text`; the record terminator (LF or CRLF) is not part of `raw`.
 */
export function parseCsvDocument(text: string, delimiter = ','): CsvRecord[] {
  const out: CsvRecord[] = [];
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (pos < text.length) {
    let i = pos;
    let inQuote = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (c === '"') inQuote = !inQuote;
      else if (c === '\n' && !inQuote) break;
    }
    let rawEnd = i;
    if (rawEnd > pos && text[rawEnd - 1] === '\r') rawEnd--;
    const raw = text.slice(pos, rawEnd);
    if (raw.length > 0) out.push({ ...parseCsvLine(raw, delimiter), raw, start: pos, end: rawEnd });
    pos = i + 1;
  }
  return out;
}
