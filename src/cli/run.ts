import { parseArgs } from 'node:util';
import { CliFailure, CliUsageError, HeraldClient, newIdempotencyKey, resolveTarget } from './client.ts';
import type { CommandSpec, Context, Values } from './command.ts';
import { Output, processIO, type CliIO } from './output.ts';
import { commandHelp, findCommand, noAppsProblem } from './registry.ts';

/**
 * Runs a client command: parses its command line against its spec, then calls its `run` with a
 * Context. Conventions of the Heroku and Jets CLIs: stdout carries only the answer, everything
 * else goes to stderr; exit 0 when done, 1 when the server said no or could not be reached, 2
 * when the command line is wrong.
 */

type ParseOption = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };

/** The flags every client command takes; registry.ts's commandHelp lists them. */
const COMMON_OPTIONS: Record<string, ParseOption> = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // Heroku's -a/--app, which fingers type by habit: parsed only to be refused with a clear line.
  app: { type: 'string', short: 'a' },
};
const WRITE_OPTIONS: Record<string, ParseOption> = { 'idempotency-key': { type: 'string' } };

function optionsOf(spec: CommandSpec): Record<string, ParseOption> {
  if (spec.kind === 'local') return { help: COMMON_OPTIONS.help! };
  const own = Object.fromEntries(
    Object.entries(spec.flags ?? {}).map(([name, f]): [string, ParseOption] => [name, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) }]),
  );
  return { ...COMMON_OPTIONS, ...(spec.kind === 'write' && !spec.withoutKey ? WRITE_OPTIONS : {}), ...own };
}

function usageTail(spec: CommandSpec): string {
  return `Usage: herald ${spec.usage}\nSee \`herald ${spec.name} --help\`.`;
}

/** node:util parseArgs explains itself at length; one short line is enough. */
function parseProblem(spec: CommandSpec, code: string, message: string): string {
  const option = /'(?:-\w, )?(-{1,2}[\w-]+)/.exec(message)?.[1];
  if (option === '--app' || option === '-a') return noAppsProblem(spec.name);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /ambiguous/.test(message)) {
    return `${option} needs a value (for a value that starts with "-", write ${option}=VALUE)`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /missing/.test(message)) return `${option} needs a value`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /does not take an argument/.test(message)) return `${option} takes no value`;
  return message.split('\n')[0]!;
}

function parse(spec: CommandSpec, argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: optionsOf(spec), allowPositionals: true, strict: true });
  } catch (e) {
    if (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) throw new CliUsageError(parseProblem(spec, String(e.code), e.message));
    throw e;
  }
}

/**
 * Runs one client command to completion and returns its exit code. Never throws: every problem
 * is one `herald: …` line on stderr.
 */
export async function runClientCommand(name: string, argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const o = new Output(io);
  const spec = findCommand(name);
  if (!spec?.run) {
    o.problem(`unknown command "${name}"`);
    return 2;
  }
  try {
    const { values, positionals } = parse(spec, argv);
    if (values.help) {
      o.out(commandHelp(spec.name)!);
      return 0;
    }
    if (values.app !== undefined) throw new CliUsageError(noAppsProblem(spec.name));
    const [min, max] = spec.args ?? [0, 0];
    if (positionals.length < min) throw new CliUsageError(`${spec.name} needs ${spec.usage.split(' ').slice(1, 1 + min).join(' ')}`);
    if (positionals.length > max) throw new CliUsageError(`unexpected argument ${JSON.stringify(positionals[max])}`);
    let client: HeraldClient | undefined;
    const explicitKey = typeof values['idempotency-key'] === 'string' ? values['idempotency-key'] : undefined;
    const baseKey = explicitKey ?? newIdempotencyKey();
    const ctx: Context = {
      name: spec.name,
      values: values as Values,
      args: positionals,
      o,
      io,
      client: () =>
        (client ??= new HeraldClient(resolveTarget({ url: values.url as string | undefined, token: values.token as string | undefined }, io.env), {
          onRetry: (reason, attempt, of) => o.err(`${reason}; retrying (${attempt}/${of})…`),
        })),
      key: (suffix) => (suffix ? `${baseKey}:${suffix}` : baseKey),
      str: (n) => (typeof values[n] === 'string' ? (values[n] as string) : undefined),
      list: (n) => {
        const v = (values as Values)[n];
        return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
      },
      flag: (n) => values[n] === true,
    };
    const code = await spec.run(ctx);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (e instanceof CliUsageError) {
      o.problem(e.message);
      o.err(usageTail(spec));
      return 2;
    }
    if (e instanceof CliFailure) {
      for (const line of e.lines) o.problem(line);
      return 1;
    }
    o.problem(e instanceof Error ? e.message : String(e));
    return 1;
  }
}
