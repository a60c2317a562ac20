/**
 * How the client commands speak: stdout carries only the answer (an id, `on`/`off`, a table, JSON),
 * everything meant for people goes to stderr. Colour only on a terminal, never with NO_COLOR
 * (FORCE_COLOR overrides both).
 */

export interface OutStream {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
  readonly columns?: number | undefined;
}

export interface InStream extends NodeJS.ReadableStream {
  readonly isTTY?: boolean | undefined;
}

/** The process's streams and environment, passed in so nothing below reads globals. */
export interface CliIO {
  readonly stdin: InStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

let pipeGuard = false;

export function processIO(): CliIO {
  if (!pipeGuard) {
    pipeGuard = true;
    // `herald incident:list | head -1`: the reader left; stop quietly, as cat and grep do
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
}

/**
 * Colour on a terminal only, unless the environment says otherwise. FORCE_COLOR (force-color.org)
 * set to anything non-empty turns it on even on a pipe (CI logs, `less -R`), and `0` or `false`
 * turns it off; as in Node itself, it wins over NO_COLOR. NO_COLOR (no-color.org) set to anything
 * non-empty turns it off; so does TERM=dumb.
 */
export function colourEnabled(stream: OutStream, env: CliIO['env']): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !/^(0|false)$/i.test(force.trim());
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], blue: [34, 39], cyan: [36, 39] } as const;
export type Style = keyof typeof CODES;
export type Painter = Record<Style, (s: string) => string>;

export function painter(enabled: boolean): Painter {
  const out = {} as Record<Style, (s: string) => string>;
  for (const [name, [open, close]] of Object.entries(CODES) as [Style, readonly [number, number]][]) {
    out[name] = enabled ? (s: string) => (s === '' ? s : `\u001b[${open}m${s}\u001b[${close}m`) : (s: string) => s;
  }
  return out;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
export const visibleLength = (s: string) => [...s.replace(ANSI, '')].length;

/**
 * Rows in aligned columns separated by two spaces. The last column is not padded, so a long
 * message runs on instead of leaving trailing blanks.
 */
export function table(rows: readonly (readonly string[])[], header?: readonly string[], paint?: Painter): string[] {
  const all = header ? [header.map((h) => (paint ? paint.bold(h) : h)), ...rows] : [...rows];
  const columns = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((r) => visibleLength(r[i] ?? ''))));
  return all.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd(),
  );
}

/** `Key:  value` lines with the values aligned (Heroku's `apps:info` style). */
export function keyValues(pairs: readonly (readonly [string, string])[], paint?: Painter): string[] {
  const width = Math.max(0, ...pairs.map(([k]) => k.length + 1));
  return pairs.map(([k, v]) => `${paint ? paint.bold(`${k}:`) : `${k}:`}${' '.repeat(width - k.length - 1)}  ${v}`.trimEnd());
}

/** Writers bound to one invocation: `out` for the answer, `err` for everything else. */
export class Output {
  readonly colour: { stdout: Painter; stderr: Painter };
  constructor(readonly io: CliIO) {
    this.colour = { stdout: painter(colourEnabled(io.stdout, io.env)), stderr: painter(colourEnabled(io.stderr, io.env)) };
  }
  out(...lines: string[]): void {
    for (const line of lines) this.io.stdout.write(`${line}\n`);
  }
  err(...lines: string[]): void {
    for (const line of lines) this.io.stderr.write(`${line}\n`);
  }
  /** One problem, one line, prefixed like every herald error. */
  problem(line: string): void {
    this.io.stderr.write(`herald: ${line}\n`);
  }
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

const STATUS_STYLE: Record<string, Style> = { green: 'green', yellow: 'yellow', orange: 'red', red: 'red', blue: 'blue' };
const MODE_STYLE: Record<string, Style> = { full: 'green', read_only: 'yellow', maintenance: 'red' };
const STATE_STYLE: Record<string, Style> = {
  investigating: 'red',
  identified: 'yellow',
  monitoring: 'blue',
  resolved: 'green',
  scheduled: 'blue',
  in_progress: 'yellow',
  verifying: 'yellow',
  completed: 'green',
  cancelled: 'dim',
};

export const paintStatus = (p: Painter, s: string) => (STATUS_STYLE[s] ? p[STATUS_STYLE[s]](s) : s);
export const paintMode = (p: Painter, m: string) => (MODE_STYLE[m] ? p[MODE_STYLE[m]](m) : m);
export const paintState = (p: Painter, s: string) => (STATE_STYLE[s] ? p[STATE_STYLE[s]](s) : s);

/** "2026-11-21 02:25 UTC" from an ISO instant; "-" for none. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '-';
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** A message on one line: whitespace (newlines included) collapsed. */
export const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
