import { flagLabel, type CommandSpec } from './command.ts';
import { alertCommands } from './commands/alerts.ts';
import { componentCommands } from './commands/components.ts';
import { consoleCommands } from './commands/console.ts';
import { incidentCommands } from './commands/incidents.ts';
import { localCommands } from './commands/local.ts';
import { maintenanceCommands } from './commands/maintenance.ts';
import { platformCommands } from './commands/platform.ts';
import { subscriberCommands } from './commands/subscribers.ts';
import { tokenCommands } from './commands/tokens.ts';
import { webhookCommands } from './commands/webhooks.ts';
import { table } from './output.ts';

/**
 * Every herald command, in the order `herald help` lists them, and everything said about them:
 * `herald help`, `herald TOPIC`, `herald COMMAND --help`, and "did you mean" for a typo. A new
 * command is a spec in its area's file (src/cli/commands/AREA.ts) and nothing else.
 */

const AREAS = {
  platform: platformCommands,
  incidents: incidentCommands,
  maintenance: maintenanceCommands,
  components: componentCommands,
  webhooks: webhookCommands,
  alerts: alertCommands,
  subscribers: subscriberCommands,
  tokens: tokenCommands,
  console: consoleCommands,
  local: localCommands,
} as const;

/** The file a command is declared in: src/cli/commands/AREA.ts. */
export type Area = keyof typeof AREAS;

export interface Command extends CommandSpec {
  readonly area: Area;
}

/** Command name → its spec and area. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map(
  Object.entries(AREAS).flatMap(([area, specs]) => specs.map((spec): [string, Command] => [spec.name, { ...spec, area: area as Area }])),
);

const ALL: readonly Command[] = [...COMMANDS.values()];

/** Every command `herald help` knows, client and local. */
export const COMMAND_NAMES: readonly string[] = [...COMMANDS.keys()];

/** A command by its name or an alias (`maintenance` is maintenance:status). */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.get(name) ?? ALL.find((c) => c.aliases?.includes(name));
}

/** Is `name` a command runClientCommand handles (token:create only with --url / --remote)? */
export function isClientCommand(name: string | undefined, argv: readonly string[] = []): boolean {
  if (name === 'token:create') return argv.some((a) => a === '--remote' || a === '--url' || a.startsWith('--url='));
  const spec = name === undefined ? undefined : findCommand(name);
  return spec !== undefined && spec.kind !== 'local';
}

/** The line for Heroku's -a/--app, which has no meaning in Herald. */
export function noAppsProblem(commandName?: string): string {
  const spec = commandName === undefined ? undefined : findCommand(commandName);
  const role = spec?.flags && 'role' in spec.flags ? ': --role ROLE picks the role (e.g. --role web), and HERALD_URL (or --url) the Herald server' : ': HERALD_URL (or --url) picks the Herald server';
  return `Herald has no apps, so -a/--app means nothing here${role}`;
}

/* ------------------------------------------------------------------ help */

/** A command's topic: `incident` for incident:open (Heroku's word for the part before the colon). */
const topicOf = (name: string) => (name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined);

/** `herald help TOPIC`: the topic's commands, one line each. Undefined when no command has it. */
export function topicHelp(topic: string): string | undefined {
  const specs = ALL.filter((c) => topicOf(c.name) === topic);
  if (specs.length === 0) return undefined;
  return [
    `Commands in ${topic}:`,
    ...table(specs.map((c) => [c.name, c.summary])).map((l) => `  ${l}`),
    '',
    'herald COMMAND --help describes a command, with an example.',
  ].join('\n');
}

/** `herald COMMAND --help`: usage, what it does, options, an example. */
export function commandHelp(name: string): string | undefined {
  const spec = findCommand(name);
  if (!spec) return undefined;
  const lines = [`Usage: herald ${spec.usage}`, ''];
  lines.push(...(spec.description ?? [`${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`]), '');
  if (spec.kind === 'local') {
    lines.push('Configuration comes from the environment (DATABASE_URL, HERALD_DATA_DIR, PORT, ...); see README.md.', '');
  }
  const rows: (readonly [string, string])[] = Object.entries(spec.flags ?? {}).map(([flag, f]) => [flagLabel(flag, f), f.help]);
  // the flags every client command takes (run.ts parses them)
  if (spec.kind !== 'local') {
    rows.push(['--url URL', 'the Herald server (default: $HERALD_URL)']);
    if (spec.kind === 'write') {
      rows.push(['--token TOKEN', 'an API token (default: $HERALD_TOKEN; prefer the variable: flags show in ps)']);
      if (!spec.withoutKey) rows.push(['--idempotency-key KEY', 'the key for this write (default: random per run); reuse it to re-run safely']);
    }
    rows.push(['--json', 'print the server\'s JSON on stdout instead']);
  }
  rows.push(['-h, --help', 'this help']);
  lines.push('Options:', ...table(rows).map((l) => `  ${l}`), '');
  lines.push(spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map((e) => `  $ ${e}`));
  return lines.join('\n');
}

/**
 * The client commands' lines for the top-level usage. token:create is not among them: the
 * usage lists it with the commands on this machine's configuration (src/entry/cli.ts).
 */
export function clientUsage(): string {
  const rows = ALL.filter((c) => c.kind !== 'local' && c.name !== 'token:create').map((c) => [c.aliases?.length ? `${c.name} (${c.aliases.join(', ')})` : c.name, c.summary]);
  return [
    ...table(rows).map((l) => `  ${l}`),
    '',
    'These talk to a Herald server: HERALD_URL (or --url), and for writes HERALD_TOKEN (or --token).',
    'stdout carries only the answer (an id, on/off, a table; --json: the server\'s JSON), messages go to',
    'stderr. Exit codes: 0 done, 1 refused or unreachable, 2 wrong command line.',
    'herald COMMAND --help describes a command, with an example.',
  ].join('\n');
}

/* ------------------------------------------------------------------ did you mean */

/** The number of single-character edits (insert, delete, replace, swap two neighbours) from a to b. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * What a mistyped command probably meant: the nearest command, alias or topic within a few edits
 * (`incident:opne` → incident:open, `maintenace` → maintenance), or the one command whose name
 * ends the same way (`open` → incident:open). Undefined when nothing is close.
 */
export function suggestCommand(typed: string): string | undefined {
  const names = ALL.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  const words = [...new Set([...names, ...names.map(topicOf).filter((t): t is string => t !== undefined), 'help'])];
  const lower = typed.toLowerCase();
  let best: { word: string; distance: number } | undefined;
  for (const word of words) {
    const distance = editDistance(lower, word);
    if (!best || distance < best.distance) best = { word, distance };
  }
  if (best && best.distance <= Math.max(1, Math.min(3, Math.floor(lower.length / 3)))) return best.word;
  const endings = names.filter((n) => n.endsWith(`:${lower}`));
  return endings.length === 1 ? endings[0] : undefined;
}
