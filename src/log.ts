/**
 * Herald's one log format: one logfmt line per event, `level=… msg=…` first, then the fields.
 *
 *   log.warn('scheduler pass failed', { error: 'connection refused' })
 *   → level=warn msg="scheduler pass failed" error="connection refused"
 *
 * Every line parses with a strict logfmt parser: a value is bare only when it has no space, `"`,
 * `=`, `\` or control character, else it is a double-quoted string with JSON escapes (`\"`, `\\`,
 * `\n`, `\u001b`, …). Keys are reduced to `[A-Za-z0-9_.-]`.
 *
 * Logs end up in places people paste into tickets, so a line never carries a secret or an email
 * address: fields named like secrets (token, secret, password, authorization, cookie) are
 * replaced, and Herald tokens, email addresses and passwords in URLs are masked in every value.
 * The one deliberate exception is a link whose whole purpose is to be read from the log (the
 * first-run setup link): its secret is in the path, which nothing here masks.
 *
 * Runtime-neutral (Node and Workers): a logger writes whole lines to the function it is given.
 */

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type FieldValue = string | number | boolean | null | undefined;
export type Fields = Readonly<Record<string, FieldValue>>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

const SECRET_KEY = /token|secret|password|passwd|authorization|cookie|api[_-]?key/i;
const HERALD_TOKEN = /hrd_[0-9a-f]{12}_[A-Za-z0-9_-]{43}/g;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
/** A subscriber's link token (src/subscribers/links.ts), e.g. in a request path. */
const SUBSCRIBER_LINK = /[A-Za-z0-9_-]{22}\.[cmu](?:\.\d{1,12})?\.[A-Za-z0-9_-]{43}/g;

/** Masks what must never reach a log: Herald tokens, URL passwords, email addresses, subscribers' links. */
export function scrub(text: string): string {
  return text.replace(HERALD_TOKEN, 'hrd_[redacted]').replace(URL_CREDENTIALS, '$1[redacted]@').replace(EMAIL, '[email]').replace(SUBSCRIBER_LINK, '[link]');
}

// eslint-disable-next-line no-control-regex
const BARE = /^[^\s"=\\\u0000-\u001f\u007f-\u009f\u2028\u2029]+$/;
/** What JSON.stringify leaves raw but a terminal or a log shipper may act on. */
const RAW_CONTROL = /[\u007f-\u009f\u2028\u2029]/g;

/** A logfmt value: bare when that is unambiguous, else quoted with JSON's escapes. */
function value(v: Exclude<FieldValue, undefined>): string {
  const s = v === null ? 'null' : String(v);
  if (BARE.test(s)) return s;
  return JSON.stringify(s).replace(RAW_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const key = (k: string) => k.replace(/[^A-Za-z0-9_.-]/g, '_') || '_';

/** One logfmt line (without the newline). Fields whose value is undefined are left out. */
export function logLine(level: Level, msg: string, fields: Fields = {}): string {
  const parts = [`level=${level}`, `msg=${value(scrub(msg))}`];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || k === 'level' || k === 'msg') continue;
    const shown = typeof v === 'string' ? (SECRET_KEY.test(k) ? '[redacted]' : scrub(v)) : v;
    parts.push(`${key(k)}=${value(shown)}`);
  }
  return parts.join(' ');
}

/** A logger that hands each line to `write` (stderr on Node, console on Workers, an array in tests). */
export function createLogger(write: (line: string) => void): Logger {
  const at = (level: Level) => (msg: string, fields?: Fields) => write(logLine(level, msg, fields));
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The process's logger: one line per event on stderr (console.error, which Workers also capture). */
export const log: Logger = createLogger((line) => console.error(line));
