/** A real agent Logger whose lines are also kept as parsed records, for tests that look at what was logged. */
import { createLogger, type Logger } from '../../src/lib/logger.ts';

export type LogRecord = Record<string, unknown> & { level: string; msg: string };

export function recordingLogger(onRecord?: (r: LogRecord) => void): Logger & { records: LogRecord[] } {
  const records: LogRecord[] = [];
  const log = createLogger({
    level: 'debug',
    write: (line) => {
      const r = JSON.parse(line) as LogRecord;
      records.push(r);
      onRecord?.(r);
    },
  });
  return Object.assign(log, { records });
}
