import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CliUsageError } from './client.ts';
import type { Context } from './command.ts';

/**
 * What a command reads besides its flags: an ID argument, NAME=VALUE pairs, a message from a
 * flag, a file or stdin, and a yes/no on the terminal. Every mistake is a CliUsageError (exit 2).
 */

const ID = /^[1-9]\d{0,9}$/;

export function idArg(ctx: Context, what = 'ID'): string {
  const raw = ctx.args[0] ?? '';
  if (!ID.test(raw)) throw new CliUsageError(`${what} must be a positive number (got ${JSON.stringify(raw)})`);
  return raw;
}

/** `--status production=red --status staging=yellow` or `--status production=red,staging=yellow`. */
export function pairs(ctx: Context, flag: string): Record<string, string> | undefined {
  const items = ctx.list(flag).flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([^=\s]+)\s*=\s*(\S+)$/.exec(item);
    if (!m) throw new CliUsageError(`--${flag} takes NAME=VALUE, e.g. ${flag === 'status' ? 'production=red' : 'web=read_only'} (got ${JSON.stringify(item)})`);
    if (Object.hasOwn(out, m[1]!)) throw new CliUsageError(`--${flag} names ${m[1]} twice`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

async function readStdin(ctx: Context, what: string): Promise<string> {
  if (ctx.io.stdin.isTTY) ctx.o.err(`Reading ${what} from stdin; end it with Ctrl-D.`);
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of FILE, or of stdin when FILE is `-`. */
export async function readTextFile(ctx: Context, flag: string, path: string, what: string): Promise<string> {
  if (path === '-') return readStdin(ctx, what);
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new CliUsageError(`cannot read ${flag} ${path}: ${why}`);
  }
}

/** --message TEXT, --message - (stdin) or --message-file FILE. */
export async function message(ctx: Context): Promise<string | undefined> {
  const text = ctx.str('message');
  const file = ctx.str('message-file');
  if (text !== undefined && file !== undefined) throw new CliUsageError('give --message or --message-file, not both');
  if (text === '-') return readStdin(ctx, 'the message');
  if (file !== undefined) return readTextFile(ctx, '--message-file', file, 'the message');
  return text;
}

/** The body of an incident update from --state, --status, --mode and --at. */
export function updateBody(ctx: Context, msg: string | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const state = ctx.str('state');
  if (state !== undefined) body.state = state;
  if (msg !== undefined) body.message = msg;
  const statuses = pairs(ctx, 'status');
  if (statuses) body.statuses = statuses;
  const modes = pairs(ctx, 'mode');
  if (modes) body.modes = modes;
  const at = ctx.str('at');
  if (at !== undefined) body.at = at;
  if (ctx.flag('no-notify')) body.notify = false;
  return body;
}

/** `incident:open needs --title and --message (or --message-file)`, when anything is missing. */
export function need(ctx: Context, missing: string[]): void {
  if (missing.length) throw new CliUsageError(`${ctx.name} needs ${missing.join(' and ')}`);
}

/**
 * Asks on the terminal. When stdin is not a terminal it never waits: it proceeds, so a script,
 * a cron job or CI cannot hang on a question nobody will answer (-y is then implied).
 */
export async function confirm(ctx: Context, question: string): Promise<boolean> {
  if (!ctx.io.stdin.isTTY) return true;
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr as NodeJS.WritableStream, terminal: ctx.io.stderr.isTTY === true });
  try {
    return await new Promise<boolean>((resolve) => {
      rl.on('SIGINT', () => resolve(false));
      rl.on('close', () => resolve(false));
      rl.question(`${question} [y/N] `, (answer) => resolve(/^\s*y(es)?\s*$/i.test(answer)));
    });
  } finally {
    rl.close();
  }
}
