/**
 * JSON-lines logger for the agent. Every line passes through a masker that replaces known secrets (camera
 * passwords, URL user-info, the agent credential) with `***`, so a stray field cannot leak them.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Adds strings that must never appear in a log line. */
  addSecrets(...secrets: (string | null | undefined)[]): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Replaces `user:pass@` in any URL-looking text with `***@`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']+@/gi, '$1***@');
}

export function createLogger(opts: { level?: LogLevel; write?: (line: string) => void; component?: string } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const secrets = new Set<string>();
  const mask = (s: string) => {
    let out = maskUrlCredentials(s);
    for (const secret of secrets) out = out.split(secret).join('***');
    return out;
  };
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const line: LogFields = { t: new Date().toISOString(), level, ...(opts.component && { component: opts.component }), msg, ...fields };
    let text: string;
    try {
      text = JSON.stringify(line, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, code: (v as NodeJS.ErrnoException).code } : v));
    } catch {
      text = JSON.stringify({ t: line.t, level, msg });
    }
    write(mask(text));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    addSecrets(...list) {
      // Very short strings would mask ordinary text; those are kept out of logs by never logging the fields.
      for (const s of list) if (s && s.length >= 4) secrets.add(s);
    },
  };
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, addSecrets() {} };
