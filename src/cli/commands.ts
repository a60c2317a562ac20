import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { IncidentView, UpdateView } from '../services/read-model.ts';
import type { RoleMode } from '../services/modes.ts';
import { CliFailure, CliUsageError, HeraldClient, newIdempotencyKey, resolveTarget } from './client.ts';
import { keyValues, oneLine, Output, paintMode, paintState, paintStatus, processIO, table, when, type CliIO } from './output.ts';

/**
 * The client commands: `herald maintenance…`, `incident:…`, `postmortem:publish`,
 * `maintenances:…`, `token:revoke|list` (and `token:create --url`), `console:link`. Each talks
 * to a Herald server over its HTTP API (HERALD_URL, HERALD_TOKEN; --url / --token win).
 * Conventions of the Heroku and Jets CLIs: stdout carries only the answer, everything else goes
 * to stderr; exit 0 when done, 1 when the server said no or could not be reached, 2 when the
 * command line is wrong.
 */

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
type Values = Record<string, string | boolean | string[] | undefined>;

interface Context {
  readonly name: string;
  readonly values: Values;
  readonly args: readonly string[];
  readonly o: Output;
  readonly io: CliIO;
  client(): HeraldClient;
  /** This invocation's Idempotency-Key (--idempotency-key, or random), one per write it sends. */
  key(suffix?: string): string;
  str(name: string): string | undefined;
  list(name: string): string[];
  flag(name: string): boolean;
}

interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line for `herald help`. */
  readonly summary: string;
  /** What follows `herald ` in the usage line. */
  readonly usage: string;
  readonly description?: readonly string[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  readonly optionHelp?: readonly (readonly [string, string])[];
  readonly examples: readonly string[];
  /** Positional arguments: [min, max]. */
  readonly args?: readonly [number, number];
  /** read: public GET; write: needs a token, sends an Idempotency-Key; local: not over HTTP. */
  readonly kind: 'read' | 'write' | 'local';
  /** A write whose route takes no Idempotency-Key (the token routes: their answers hold secrets). */
  readonly withoutKey?: true;
  readonly run?: (ctx: Context) => Promise<number | void>;
}

const COMMON_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // Heroku's -a/--app, which fingers type by habit: parsed only to be refused with a clear line.
  app: { type: 'string', short: 'a' },
};
const WRITE_OPTIONS: Record<string, OptionSpec> = { 'idempotency-key': { type: 'string' } };
const MESSAGE_OPTIONS: Record<string, OptionSpec> = { message: { type: 'string', short: 'm' }, 'message-file': { type: 'string' } };
const UPDATE_OPTIONS: Record<string, OptionSpec> = {
  ...MESSAGE_OPTIONS,
  status: { type: 'string', multiple: true },
  mode: { type: 'string', multiple: true },
  state: { type: 'string' },
  at: { type: 'string' },
};

const MESSAGE_HELP: [string, string][] = [
  ['-m, --message TEXT', 'the update people read (Markdown); `-` reads it from stdin'],
  ['--message-file FILE', 'read the message from FILE (`-` for stdin)'],
];
const UPDATE_HELP: [string, string][] = [
  ...MESSAGE_HELP,
  ['--status ENV=STATUS', 'an environment\'s status: green, yellow, red or blue (repeat, or ENV=S,ENV=S)'],
  ['--mode ROLE=MODE', 'a role\'s mode: full, read_only or maintenance (repeat, or ROLE=M,ROLE=M)'],
  ['--at ISO', 'when it happened, e.g. 2026-11-21T02:00:00Z (may be backdated, never in the future)'],
];

/* ------------------------------------------------------------------ helpers */

const ID = /^[1-9]\d{0,9}$/;

function idArg(ctx: Context, what = 'ID'): string {
  const raw = ctx.args[0] ?? '';
  if (!ID.test(raw)) throw new CliUsageError(`${what} must be a positive number (got ${JSON.stringify(raw)})`);
  return raw;
}

/** `--status production=red --status staging=yellow` or `--status production=red,staging=yellow`. */
function pairs(ctx: Context, flag: string): Record<string, string> | undefined {
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

async function readTextFile(ctx: Context, flag: string, path: string, what: string): Promise<string> {
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
async function message(ctx: Context): Promise<string | undefined> {
  const text = ctx.str('message');
  const file = ctx.str('message-file');
  if (text !== undefined && file !== undefined) throw new CliUsageError('give --message or --message-file, not both');
  if (text === '-') return readStdin(ctx, 'the message');
  if (file !== undefined) return readTextFile(ctx, '--message-file', file, 'the message');
  return text;
}

function updateBody(ctx: Context, msg: string | undefined): Record<string, unknown> {
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
  return body;
}

function need(ctx: Context, missing: string[]): void {
  if (missing.length) throw new CliUsageError(`${ctx.name} needs ${missing.join(' and ')}`);
}

/**
 * Asks on the terminal. When stdin is not a terminal it never waits: it proceeds, so a script,
 * a cron job or CI cannot hang on a question nobody will answer (-y is then implied).
 */
async function confirm(ctx: Context, question: string): Promise<boolean> {
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

const onOff = (mode: string) => (mode === 'maintenance' ? 'on' : 'off');
const MODE_WORDS: Record<string, string> = { full: 'fully available', read_only: 'read-only', maintenance: 'in maintenance' };

function describeSource(s: RoleMode['sources'][number]): string {
  const id = s.source.split(':')[1];
  const what = s.kind === 'override' ? `override "${s.title}"` : `${s.kind} #${id} "${s.title}"`;
  return s.until ? `${what} until ${when(s.until)}` : what;
}

/** "web is in maintenance since 2026-11-21 02:00 UTC, held by override "Upgrading Postgres"". */
function describeRole(r: RoleMode): string {
  const since = r.since ? ` since ${when(r.since)}` : '';
  if (r.mode === 'full') return `${r.role} is fully available${since}.`;
  const by = r.sources.length ? `, held by ${r.sources.map(describeSource).join('; ')}` : '';
  return `${r.role} is ${MODE_WORDS[r.mode] ?? r.mode}${since}${by}.`;
}

function changes(u: { statuses: Record<string, string>; modes: Record<string, string> }, ctx: Context): string {
  const p = ctx.o.colour.stdout;
  return [...Object.entries(u.statuses).map(([k, v]) => `${k}=${paintStatus(p, v)}`), ...Object.entries(u.modes).map(([k, v]) => `${k}=${paintMode(p, v)}`)].join(' ');
}

function impact(view: IncidentView): string {
  const parts: string[] = [];
  for (const e of view.scope_of_impact.environments) if (e.impaired_seconds > 0) parts.push(`${e.environment} impaired ${e.impaired}`);
  for (const r of view.scope_of_impact.roles) {
    if (r.read_only_seconds > 0) parts.push(`${r.role} read-only ${r.read_only}`);
    if (r.maintenance_seconds > 0) parts.push(`${r.role} in maintenance ${r.maintenance}`);
  }
  return parts.join('; ') || 'none';
}

const kindWord = (kind: string) => (kind === 'maintenance' ? 'Maintenance' : 'Incident');

/* ------------------------------------------------------------------ commands */

const maintenanceStatus: CommandSpec = {
  name: 'maintenance:status',
  aliases: ['maintenance'],
  kind: 'read',
  summary: 'is a role in maintenance? stdout: on or off',
  usage: 'maintenance:status [--role ROLE | --all] [--json]',
  description: [
    'Prints `on` when the role\'s effective mode is maintenance, else `off` (read-only is `off`);',
    'with --all, one `ROLE on|off` line per role. Why a role is restricted goes to stderr.',
  ],
  options: { role: { type: 'string' }, all: { type: 'boolean' } },
  optionHelp: [
    ['--role ROLE', 'the role to ask about (default: web)'],
    ['--all', 'every configured role'],
  ],
  examples: ['herald maintenance', 'if [ "$(herald maintenance --role worker)" = on ]; then echo "workers are paused"; fi', 'herald maintenance:status --all'],
  async run(ctx) {
    const all = ctx.flag('all');
    const role = ctx.str('role');
    if (all && role !== undefined) throw new CliUsageError('give --role or --all, not both');
    const res = await ctx.client().request<{ roles: RoleMode[] }>('GET', '/api/v1/platform', { query: { role: all ? undefined : (role ?? 'web') } });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    // the answers first, then why (a terminal shows both streams; keep the answer together)
    ctx.o.out(...res.body.roles.map((r) => (all ? `${r.role} ${onOff(r.mode)}` : onOff(r.mode))));
    ctx.o.err(...res.body.roles.filter((r) => r.mode !== 'full').map(describeRole));
  },
};

const maintenanceOn: CommandSpec = {
  name: 'maintenance:on',
  kind: 'write',
  summary: 'put a role into maintenance (or read-only) by hand',
  usage: 'maintenance:on [--role ROLE] [--reason TEXT] [--mode maintenance|read_only] [--until TIME | --retry SECONDS] [-y]',
  description: [
    'Sets the role\'s manual override. Gates in front of the role then refuse requests (maintenance)',
    'or writes (read_only) until `herald maintenance:off`. stdout: the resulting state, `on` or `off`.',
    'On a terminal it asks first unless -y is given. When stdin is not a terminal (scripts, CI)',
    'it never asks and never waits: it goes ahead.',
  ],
  options: { role: { type: 'string' }, reason: { type: 'string' }, mode: { type: 'string' }, until: { type: 'string' }, retry: { type: 'string' }, yes: { type: 'boolean', short: 'y' } },
  optionHelp: [
    ['--role ROLE', 'the role to switch (default: web)'],
    ['--reason TEXT', 'why; shown to operators and gates as what holds the role'],
    ['--mode MODE', 'maintenance (default) or read_only'],
    ['--until TIME', 'when you expect to be done (ISO 8601 with a timezone); gates send it as Retry-After'],
    ['--retry SECONDS', 'the same as --until, counted from now (Laravel\'s down --retry)'],
    ['-y, --yes', 'do not ask for confirmation'],
  ],
  examples: ['herald maintenance:on --role web --reason "Upgrading Postgres to 17" --retry 3600', 'herald maintenance:on --role worker --mode read_only --reason "Draining the queue" -y'],
  async run(ctx) {
    const role = ctx.str('role') ?? 'web';
    const mode = ctx.str('mode') ?? 'maintenance';
    if (mode !== 'maintenance' && mode !== 'read_only') throw new CliUsageError(`--mode must be maintenance or read_only (got ${JSON.stringify(mode)}); use maintenance:off to return to full`);
    const reason = ctx.str('reason') ?? (mode === 'maintenance' ? 'Maintenance mode switched on with herald maintenance:on.' : 'Read-only mode switched on with herald maintenance:on.');
    const retry = ctx.str('retry');
    if (retry !== undefined && ctx.str('until') !== undefined) throw new CliUsageError('give --until or --retry, not both');
    if (retry !== undefined && !/^[1-9]\d{0,7}$/.test(retry)) throw new CliUsageError(`--retry takes a number of seconds (got ${JSON.stringify(retry)})`);
    const until = retry !== undefined ? new Date(Date.now() + Number(retry) * 1000).toISOString() : ctx.str('until');
    if (!ctx.flag('yes')) {
      const what = mode === 'maintenance' ? `Put ${role} into maintenance? Its gates will refuse requests` : `Make ${role} read-only? Its gates will refuse writes`;
      if (!(await confirm(ctx, `${what} until \`herald maintenance:off --role ${role}\`.`))) {
        ctx.o.problem('cancelled; nothing was changed');
        return 1;
      }
    }
    const res = await ctx.client().request<{ role: RoleMode; message: string }>('PUT', `/api/v1/platform/roles/${encodeURIComponent(role)}/override`, {
      auth: true,
      body: { mode, reason, ...(until !== undefined ? { until } : {}) },
      idempotencyKey: ctx.key(),
    });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.out(onOff(res.body.role.mode));
    ctx.o.err(res.body.message);
  },
};

const maintenanceOff: CommandSpec = {
  name: 'maintenance:off',
  kind: 'write',
  summary: 'clear a role\'s manual override',
  usage: 'maintenance:off [--role ROLE] [--reason TEXT]',
  description: [
    'Clears the role\'s manual override. An open incident or running maintenance may still hold the',
    'role; the server\'s message (stderr) says so, and stdout is the resulting state, `off` or `on`.',
    'Like `heroku maintenance:off`, turning off what is not on is not an error (exit 0).',
  ],
  options: { role: { type: 'string' }, reason: { type: 'string' } },
  optionHelp: [
    ['--role ROLE', 'the role (default: web)'],
    ['--reason TEXT', 'why, for the audit log'],
  ],
  examples: ['herald maintenance:off --role web --reason "Upgrade done"'],
  async run(ctx) {
    const role = ctx.str('role') ?? 'web';
    const reason = ctx.str('reason');
    const client = ctx.client();
    try {
      const res = await client.request<{ role: RoleMode; message: string }>('DELETE', `/api/v1/platform/roles/${encodeURIComponent(role)}/override`, {
        auth: true,
        body: reason !== undefined ? { reason } : {},
        idempotencyKey: ctx.key(),
      });
      if (ctx.flag('json')) return ctx.o.json(res.body);
      ctx.o.out(onOff(res.body.role.mode));
      ctx.o.err(res.body.message);
    } catch (e) {
      // 409: there is no override to clear. The goal (no override) holds; say what the role is.
      if (!(e instanceof CliFailure && e.status === 409)) throw e;
      const now = await client.request<{ roles: RoleMode[] }>('GET', '/api/v1/platform', { query: { role } });
      const r = now.body.roles[0];
      if (ctx.flag('json')) return ctx.o.json(now.body);
      ctx.o.err(...e.lines);
      if (r) {
        ctx.o.out(onOff(r.mode));
        ctx.o.err(describeRole(r));
      }
    }
  },
};

const incidentOpen: CommandSpec = {
  name: 'incident:open',
  kind: 'write',
  summary: 'open an incident; stdout: its id',
  usage: 'incident:open --title TITLE --message TEXT [--status ENV=STATUS]... [--mode ROLE=MODE]... [--state STATE] [--at ISO]',
  description: ['Opens an incident with its first update. stdout: the new incident\'s id; its URL goes to stderr.'],
  options: { title: { type: 'string' }, ...UPDATE_OPTIONS },
  optionHelp: [
    ['--title TITLE', 'what people see on the status page'],
    ...UPDATE_HELP,
    ['--state STATE', 'investigating (default), identified, monitoring or resolved'],
  ],
  examples: [
    'ID=$(herald incident:open --title "Database failover" --message "Writes are failing; investigating." --status production=red --mode web=read_only)',
    'echo "Elevated latency in eu-west." | herald incident:open --title "Slow API" --message - --status production=yellow',
  ],
  async run(ctx) {
    const title = ctx.str('title');
    const msg = await message(ctx);
    need(ctx, [title === undefined ? '--title' : '', msg === undefined ? '--message (or --message-file)' : ''].filter(Boolean));
    const res = await ctx.client().request<IncidentView>('POST', '/api/v1/incidents', {
      auth: true,
      body: { title, ...updateBody(ctx, msg) },
      idempotencyKey: ctx.key(),
    });
    const v = res.body;
    if (ctx.flag('json')) ctx.o.json(v);
    else ctx.o.out(String(v.id));
    ctx.o.err(`Opened ${v.kind} #${v.id} "${v.title}" (${v.state}).`, v.url);
  },
};

const incidentUpdate: CommandSpec = {
  name: 'incident:update',
  kind: 'write',
  args: [1, 1],
  summary: 'post an update; stdout: the update\'s id',
  usage: 'incident:update ID --message TEXT [--state STATE] [--status ENV=STATUS]... [--mode ROLE=MODE]... [--at ISO]',
  description: [
    'Posts an update to incident ID. Environments and roles it does not name keep what they had.',
    'stdout: the new update\'s id; the incident\'s id and URL go to stderr.',
  ],
  options: UPDATE_OPTIONS,
  optionHelp: [['--state STATE', 'investigating, identified, monitoring or resolved (default: unchanged)'], ...UPDATE_HELP],
  examples: ['herald incident:update 42 --state identified --message "Failover to the replica is under way." --status production=yellow'],
  async run(ctx) {
    const id = idArg(ctx);
    const msg = await message(ctx);
    need(ctx, msg === undefined ? ['--message (or --message-file)'] : []);
    const res = await ctx.client().request<{ update: UpdateView; incident: IncidentView }>('POST', `/api/v1/incidents/${id}/updates`, {
      auth: true,
      body: updateBody(ctx, msg),
      idempotencyKey: ctx.key(),
    });
    const { update, incident } = res.body;
    if (ctx.flag('json')) ctx.o.json(res.body);
    else ctx.o.out(String(update.id));
    ctx.o.err(`Posted update #${update.id} to ${incident.kind} #${incident.id} "${incident.title}"; it is ${incident.state}.`, incident.url);
  },
};

const incidentResolve: CommandSpec = {
  name: 'incident:resolve',
  kind: 'write',
  args: [1, 1],
  summary: 'resolve an incident; stdout: the update\'s id',
  usage: 'incident:resolve ID [--message TEXT] [--at ISO]',
  description: ['Posts a `resolved` update: every status and mode the incident declared is withdrawn.'],
  options: { ...MESSAGE_OPTIONS, at: { type: 'string' } },
  optionHelp: [...MESSAGE_HELP, ['--at ISO', 'when it was resolved (default: now)']],
  examples: ['herald incident:resolve 42 --message "Writes are back; the API is fully available."'],
  async run(ctx) {
    const id = idArg(ctx);
    const msg = (await message(ctx)) ?? 'This incident has been resolved.';
    const at = ctx.str('at');
    const res = await ctx.client().request<{ update: UpdateView; incident: IncidentView }>('POST', `/api/v1/incidents/${id}/updates`, {
      auth: true,
      body: { state: 'resolved', message: msg, ...(at !== undefined ? { at } : {}) },
      idempotencyKey: ctx.key(),
    });
    const { update, incident } = res.body;
    if (ctx.flag('json')) ctx.o.json(res.body);
    else ctx.o.out(String(update.id));
    ctx.o.err(`Resolved ${incident.kind} #${incident.id} "${incident.title}" (update #${update.id}); impact: ${impact(incident)}.`, incident.url);
  },
};

const incidentShow: CommandSpec = {
  name: 'incident:show',
  kind: 'read',
  args: [1, 1],
  summary: 'an incident and its timeline',
  usage: 'incident:show ID [--json]',
  examples: ['herald incident:show 42', 'herald incident:show 42 --json | jq .scope_of_impact'],
  async run(ctx) {
    const id = idArg(ctx);
    const res = await ctx.client().request<IncidentView>('GET', `/api/v1/incidents/${id}`);
    if (ctx.flag('json')) return ctx.o.json(res.body);
    const v = res.body;
    const p = ctx.o.colour.stdout;
    ctx.o.out(p.bold(`=== ${kindWord(v.kind)} #${v.id}: ${v.title}`));
    ctx.o.out(
      ...keyValues(
        [
          ['State', `${paintState(p, v.state)} (${v.open ? 'open' : 'closed'})`],
          ['Started', when(v.started_at)],
          ['Resolved', when(v.resolved_at)],
          ...(v.scheduled_for ? ([['Scheduled', `${when(v.scheduled_for)} to ${when(v.scheduled_until)}`]] as [string, string][]) : []),
          ['Statuses', Object.entries(v.statuses).map(([k, s]) => `${k} ${paintStatus(p, s)}`).join(', ') || '-'],
          ['Modes', Object.entries(v.modes).map(([k, m]) => `${k} ${paintMode(p, m)}`).join(', ') || '-'],
          ['Impact', impact(v)],
          ['Postmortem', v.postmortem ? `published ${when(v.postmortem.published_at)}` : 'none published'],
          ['URL', v.url],
        ],
        p,
      ),
    );
    ctx.o.out('');
    ctx.o.out(
      ...table(
        v.updates.map((u) => [String(u.id), when(u.at), paintState(p, u.state), u.author, changes(u, ctx), oneLine(u.message)]),
        ['UPDATE', 'AT', 'STATE', 'BY', 'CHANGES', 'MESSAGE'],
        p,
      ),
    );
  },
};

const incidentList: CommandSpec = {
  name: 'incident:list',
  kind: 'read',
  summary: 'incidents and maintenance, newest first',
  usage: 'incident:list [--state open|closed|all] [--kind incident|maintenance] [--limit N] [--cursor C] [--json]',
  options: { state: { type: 'string' }, kind: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  optionHelp: [
    ['--state STATE', 'open, closed or all (default: all)'],
    ['--kind KIND', 'incident or maintenance (default: both)'],
    ['--limit N', 'how many, 1 to 100 (default: 20)'],
    ['--cursor C', 'the next page (printed on stderr when there is one)'],
  ],
  examples: ['herald incident:list --state open', 'herald incident:list --limit 100 --json | jq ".incidents[].title"'],
  async run(ctx) {
    const limit = ctx.str('limit');
    if (limit !== undefined && !/^\d+$/.test(limit)) throw new CliUsageError(`--limit must be a number (got ${JSON.stringify(limit)})`);
    const res = await ctx.client().request<{ incidents: IncidentView[]; next_cursor: string | null }>('GET', '/api/v1/incidents', {
      query: { state: ctx.str('state'), kind: ctx.str('kind'), limit, cursor: ctx.str('cursor') },
    });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    const p = ctx.o.colour.stdout;
    const list = res.body.incidents;
    if (list.length === 0) ctx.o.err('No incidents.');
    else {
      ctx.o.out(
        ...table(
          list.map((v) => [String(v.id), v.kind, paintState(p, v.state), when(v.started_at), when(v.resolved_at), v.title]),
          ['ID', 'KIND', 'STATE', 'STARTED', 'RESOLVED', 'TITLE'],
          p,
        ),
      );
    }
    if (res.body.next_cursor) ctx.o.err(`More: herald incident:list --cursor ${res.body.next_cursor}${limit ? ` --limit ${limit}` : ''}`);
  },
};

const postmortemPublish: CommandSpec = {
  name: 'postmortem:publish',
  kind: 'write',
  args: [1, 1],
  summary: 'write and publish an incident\'s postmortem from a Markdown file',
  usage: 'postmortem:publish ID --file FILE.md',
  description: ['Saves FILE as the postmortem (Markdown), then publishes it. The incident must be resolved.'],
  options: { file: { type: 'string', short: 'f' } },
  optionHelp: [['-f, --file FILE', 'the postmortem in Markdown; `-` reads it from stdin']],
  examples: ['herald postmortem:publish 42 --file postmortems/2026-11-21-database-failover.md'],
  async run(ctx) {
    const id = idArg(ctx);
    const file = ctx.str('file');
    need(ctx, file === undefined ? ['--file FILE'] : []);
    const markdown = await readTextFile(ctx, '--file', file!, 'the postmortem');
    const client = ctx.client();
    await client.request('PUT', `/api/v1/incidents/${id}/postmortem`, { auth: true, body: { markdown }, idempotencyKey: ctx.key('postmortem') });
    let res;
    try {
      res = await client.request<{ published_at: string }>('POST', `/api/v1/incidents/${id}/postmortem/publish`, { auth: true, body: {}, idempotencyKey: ctx.key('publish') });
    } catch (e) {
      if (e instanceof CliFailure) throw new CliFailure([...e.lines, `the draft is saved; run this command again to publish it`], e.status, e.body);
      throw e;
    }
    if (ctx.flag('json')) ctx.o.json(res.body);
    const view = await client.request<IncidentView>('GET', `/api/v1/incidents/${id}`);
    ctx.o.err(`Published the postmortem of ${view.body.kind} #${id} "${view.body.title}".`, view.body.url);
  },
};

interface MaintenanceInfo {
  id: number;
  title: string;
  status: string;
  window: string;
  scheduled_for: string | null;
  scheduled_until: string | null;
  required_by: string | null;
  method: string | null;
  auto_start: boolean;
  auto_complete: boolean;
  environments: string[];
  modes: Record<string, string>;
  started_at: string | null;
  completed_at: string | null;
  cancelled_at: string | null;
  duration: string | null;
}

const maintenancesInfo: CommandSpec = {
  name: 'maintenances:info',
  kind: 'read',
  args: [0, 1],
  summary: 'a planned maintenance, or the list of open ones',
  usage: 'maintenances:info [ID] [--all] [--limit N] [--cursor C] [--json]',
  description: ['Without ID: scheduled and running maintenance (with --all: every one), latest scheduled first. With ID: its details.'],
  options: { all: { type: 'boolean' }, limit: { type: 'string' }, cursor: { type: 'string' } },
  optionHelp: [
    ['--all', 'without ID: also completed and cancelled maintenance'],
    ['--limit N', 'without ID: how many, 1 to 100 (default: 20)'],
    ['--cursor C', 'without ID: the next page (printed on stderr when there is one)'],
  ],
  examples: ['herald maintenances:info', 'herald maintenances:info 7', 'herald maintenances:info --all --limit 100 --json | jq ".maintenances[].title"'],
  async run(ctx) {
    const p = ctx.o.colour.stdout;
    if (ctx.args.length === 0) {
      const limit = ctx.str('limit');
      if (limit !== undefined && !/^\d+$/.test(limit)) throw new CliUsageError(`--limit must be a number (got ${JSON.stringify(limit)})`);
      const all = ctx.flag('all');
      const res = await ctx.client().request<{ maintenances: MaintenanceInfo[]; next_cursor: string | null }>('GET', '/api/v1/maintenances', {
        query: { state: all ? 'all' : 'open', limit, cursor: ctx.str('cursor') },
      });
      if (ctx.flag('json')) return ctx.o.json(res.body);
      const list = res.body.maintenances;
      if (list.length === 0) ctx.o.err(all ? 'No maintenance.' : 'No open maintenance.');
      else {
        ctx.o.out(
          ...table(
            list.map((m) => [String(m.id), paintState(p, m.status), when(m.scheduled_for ?? m.started_at), when(m.scheduled_until), m.title]),
            ['ID', 'STATUS', 'FROM', 'UNTIL', 'TITLE'],
            p,
          ),
        );
      }
      if (res.body.next_cursor) ctx.o.err(`More: herald maintenances:info${all ? ' --all' : ''} --cursor ${res.body.next_cursor}${limit ? ` --limit ${limit}` : ''}`);
      return;
    }
    for (const flag of ['limit', 'cursor'] as const) if (ctx.str(flag) !== undefined) throw new CliUsageError(`--${flag} pages the list; give it without ID`);
    if (ctx.flag('all')) throw new CliUsageError('--all lists every maintenance; give it without ID');
    const id = idArg(ctx);
    const res = await ctx.client().request<MaintenanceInfo>('GET', `/api/v1/maintenances/${id}`);
    if (ctx.flag('json')) return ctx.o.json(res.body);
    const m = res.body;
    const yesNo = (b: boolean) => (b ? 'yes' : 'no');
    ctx.o.out(p.bold(`=== Maintenance #${m.id}: ${m.title}`));
    ctx.o.out(
      ...keyValues(
        [
          ['Status', paintState(p, m.status)],
          ['Scheduled for', when(m.scheduled_for)],
          ['Scheduled until', when(m.scheduled_until)],
          ['Required by', when(m.required_by)],
          ['Method', m.method ?? '-'],
          ['Auto start', yesNo(m.auto_start)],
          ['Auto complete', yesNo(m.auto_complete)],
          ['Environments', m.environments.join(', ') || '-'],
          ['Modes', Object.entries(m.modes).map(([k, v]) => `${k} ${paintMode(p, v)}`).join(', ') || '-'],
          ['Started', when(m.started_at)],
          ['Completed', when(m.completed_at)],
          ['Cancelled', when(m.cancelled_at)],
          ['Duration', m.duration ?? '-'],
          ['Window', m.window],
        ],
        p,
      ),
    );
  },
};

const maintenancesRun: CommandSpec = {
  name: 'maintenances:run',
  kind: 'write',
  args: [1, 1],
  summary: 'start a scheduled maintenance now',
  usage: 'maintenances:run ID [--confirm NAME] [--message TEXT]',
  description: [
    'Starts maintenance ID now. If that puts a role into maintenance, the server refuses unless',
    '--confirm gives this Herald\'s name (HERALD_NAME; the refusal says which).',
  ],
  options: { confirm: { type: 'string' }, ...MESSAGE_OPTIONS },
  optionHelp: [['--confirm NAME', 'the Herald instance\'s name, to confirm taking roles down'], ...MESSAGE_HELP],
  examples: ['herald maintenances:run 7 --confirm "Acme Cloud" --message "Starting the Postgres upgrade now."'],
  async run(ctx) {
    const id = idArg(ctx);
    const msg = await message(ctx);
    const confirmName = ctx.str('confirm');
    const res = await ctx.client().request<MaintenanceInfo>('POST', `/api/v1/maintenances/${id}/run`, {
      auth: true,
      body: { ...(confirmName !== undefined ? { confirm: confirmName } : {}), ...(msg !== undefined ? { message: msg } : {}) },
      idempotencyKey: ctx.key(),
    });
    if (ctx.flag('json')) ctx.o.json(res.body);
    const m = res.body;
    ctx.o.err(`Maintenance #${m.id} "${m.title}" is ${m.status} since ${when(m.started_at)}${m.scheduled_until ? `, planned until ${when(m.scheduled_until)}` : ''}.`);
  },
};

interface WindowView {
  day: string;
  time: string;
  duration_hours: number;
  description: string;
  next: string;
}

const maintenancesWindow: CommandSpec = {
  name: 'maintenances:window',
  kind: 'read',
  summary: 'the weekly maintenance window',
  usage: 'maintenances:window [--json]',
  examples: ['herald maintenances:window'],
  async run(ctx) {
    const res = await ctx.client().request<WindowView>('GET', '/api/v1/maintenance-window');
    if (ctx.flag('json')) return ctx.o.json(res.body);
    const w = res.body;
    ctx.o.out(...keyValues([['Window', w.description], ['Next', when(w.next)]], ctx.o.colour.stdout));
  },
};

const maintenancesWindowUpdate: CommandSpec = {
  name: 'maintenances:window:update',
  kind: 'write',
  args: [2, 2],
  summary: 'set the weekly maintenance window',
  usage: 'maintenances:window:update DAY HH:MM [--duration-hours H]',
  description: ['Sets the weekly window (a day and a UTC time) in which Herald schedules maintenance given a deadline.'],
  options: { 'duration-hours': { type: 'string' } },
  optionHelp: [['--duration-hours H', 'how long the window lasts, 0.25 to 24 (default: unchanged)']],
  examples: ['herald maintenances:window:update Sunday 14:30 --duration-hours 4'],
  async run(ctx) {
    const [day, time] = ctx.args as [string, string];
    const rawHours = ctx.str('duration-hours');
    const hours = rawHours === undefined ? undefined : Number(rawHours);
    if (hours !== undefined && (rawHours!.trim() === '' || !Number.isFinite(hours))) throw new CliUsageError(`--duration-hours must be a number (got ${JSON.stringify(rawHours)})`);
    const res = await ctx.client().request<WindowView>('PUT', '/api/v1/maintenance-window', {
      auth: true,
      body: { day, time, ...(hours !== undefined ? { duration_hours: hours } : {}) },
      idempotencyKey: ctx.key(),
    });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.err(`The maintenance window is now ${res.body.description}; next ${when(res.body.next)}.`);
  },
};

interface TokenView {
  id: number;
  name: string;
  scopes: string[];
  created_at: string;
  created_by: string;
  last_used_at: string | null;
  revoked_at: string | null;
  token?: string;
  /** On creation: a one-time link that signs the token's holder in to the web console. */
  signin_url?: string;
}

const tokenRevoke: CommandSpec = {
  name: 'token:revoke',
  kind: 'write',
  withoutKey: true,
  args: [1, 1],
  summary: 'revoke an API token (admin)',
  usage: 'token:revoke ID',
  description: ['Revokes token ID at once; the row stays for the audit log. `herald token:list` shows the ids.'],
  examples: ['herald token:revoke 3'],
  async run(ctx) {
    const id = idArg(ctx);
    const res = await ctx.client().request<TokenView>('DELETE', `/api/v1/tokens/${id}`, { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.err(`Revoked token #${res.body.id} "${res.body.name}" (${res.body.scopes.join(', ')}).`);
  },
};

const tokenList: CommandSpec = {
  name: 'token:list',
  kind: 'write', // reading tokens needs the admin scope
  withoutKey: true,
  summary: 'API tokens, without their secrets (admin)',
  usage: 'token:list [--json]',
  examples: ['herald token:list'],
  async run(ctx) {
    const res = await ctx.client().request<TokenView[]>('GET', '/api/v1/tokens', { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    if (res.body.length === 0) return ctx.o.err('No tokens.');
    const p = ctx.o.colour.stdout;
    ctx.o.out(
      ...table(
        res.body.map((t) => [String(t.id), t.name, t.scopes.join(','), when(t.created_at), when(t.last_used_at), t.revoked_at ? p.dim(`revoked ${when(t.revoked_at)}`) : 'active']),
        ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'STATE'],
        p,
      ),
    );
  },
};

/**
 * `token:create` through a server (HERALD_URL, --url), with an admin token. Where a token:create
 * goes (this, or straight into the database) is decided in token-target.ts; this spec is also
 * the command's help.
 */
const tokenCreateRemote: CommandSpec = {
  name: 'token:create',
  kind: 'write',
  withoutKey: true,
  summary: 'create an API token; stdout: only the secret',
  usage: 'token:create --name NAME --scopes LIST [--remote | --url URL | --local]',
  description: [
    'Creates an API token and prints its secret (only that) on stdout, with a one-time console',
    'sign-in link on stderr. LIST: comma-separated scopes among incidents:write, maintenance:write, admin.',
    '',
    'Where the token goes, so that it never lands in a database nobody meant:',
    '  --remote, --url URL  through the server at HERALD_URL (or URL), with an admin token',
    '                       (HERALD_TOKEN or --token)',
    '  --local              straight into this machine\'s database: DATABASE_URL, else the embedded',
    '                       one in HERALD_DATA_DIR or ./data (created if missing)',
    '  neither              HERALD_URL set: remote, like every client command. DATABASE_URL or',
    '                       HERALD_DATA_DIR set, or ./data exists: local. HERALD_URL together with',
    '                       a database, or nothing at all: refused, saying which flag to add.',
    '',
    'The first token: start the server and open the one-time setup link it prints, or run',
    '--local before starting it (the embedded database belongs to one process at a time).',
  ],
  options: { name: { type: 'string' }, scopes: { type: 'string' }, remote: { type: 'boolean' } },
  optionHelp: [
    ['--name NAME', 'who uses it; the author of their updates'],
    ['--scopes LIST', 'incidents:write, maintenance:write and/or admin'],
    ['--remote', 'create it through the server at HERALD_URL'],
    ['--local', 'create it in this machine\'s database (DATABASE_URL / HERALD_DATA_DIR / ./data)'],
  ],
  examples: [
    'herald token:create --remote --name deploy-bot --scopes maintenance:write',
    'export HERALD_TOKEN=$(herald token:create --local --name alice --scopes admin)',
  ],
  async run(ctx) {
    const name = ctx.str('name');
    const scopes = (ctx.str('scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    need(ctx, [name === undefined ? '--name NAME' : '', scopes.length === 0 ? '--scopes LIST' : ''].filter(Boolean));
    const client = ctx.client();
    if (!client.target.token) {
      throw new CliUsageError(
        `token:create goes to the Herald at ${client.target.url}, which needs an admin token: set HERALD_TOKEN (or --token). No token yet? Open the setup link that server printed when it started, or run token:create --local where its database is`,
      );
    }
    // Token creation takes no Idempotency-Key (its answer holds a secret the server does not keep).
    const res = await client.request<TokenView>('POST', '/api/v1/tokens', { auth: true, body: { name, scopes } });
    if (ctx.flag('json')) ctx.o.json(res.body);
    else ctx.o.out(res.body.token ?? '');
    ctx.o.err(`Created token #${res.body.id} "${res.body.name}" with scopes ${res.body.scopes.join(', ')}. It is shown once; store it now.`);
    if (res.body.signin_url) ctx.o.err(`Sign in to the console within 15 minutes: ${res.body.signin_url}`);
  },
};

/** `console:link`: a one-time sign-in link to the web console for the caller's own token. */
const consoleLink: CommandSpec = {
  name: 'console:link',
  kind: 'write', // needs a token (any scope); sends no Idempotency-Key: the answer is a secret
  withoutKey: true,
  summary: 'a one-time link that signs you in to the web console; stdout: the URL',
  usage: 'console:link [--json]',
  description: [
    'Asks the server for a link that signs its opener in to the web console (/console) as the token',
    'this command uses (HERALD_TOKEN or --token), with that token\'s scopes. The link works once and',
    'only for 15 minutes. stdout: the URL alone; --json: the server\'s JSON ({url, expires_at}).',
  ],
  examples: ['herald console:link', 'xdg-open "$(herald console:link)"'],
  async run(ctx) {
    const res = await ctx.client().request<{ url: string; expires_at: string }>('POST', '/api/v1/console/links', { auth: true });
    if (ctx.flag('json')) return ctx.o.json(res.body);
    ctx.o.out(res.body.url);
    ctx.o.err(`Open it by ${when(res.body.expires_at)}; it signs in once.`);
  },
};

/* ------------------------------------------------------------------ local commands (help only) */

const LOCAL: CommandSpec[] = [
  {
    name: 'serve',
    kind: 'local',
    summary: 'start the server (same as npm start)',
    usage: 'serve',
    description: ['Migrates the database, then serves HTTP on PORT until SIGINT or SIGTERM. Configured by the environment (see README.md).'],
    examples: ['PORT=8080 DATABASE_URL=postgres://herald@db/herald herald serve'],
  },
  {
    name: 'migrate',
    kind: 'local',
    summary: 'apply pending database migrations',
    usage: 'migrate',
    examples: ['DATABASE_URL=postgres://herald@db/herald herald migrate'],
  },
  {
    name: 'gate',
    kind: 'local',
    summary: 'a reverse proxy that enforces a role\'s mode in front of any HTTP API',
    usage:
      'gate --upstream URL --role ROLE [--port N] [--hostname ADDR] [--herald URL] [--status-url URL] [--allow-path PATH]... [--allow-ip CIDR]... [--bypass-secret S] [--maintenance-page-url URL] [--name NAME] [--trust-proxy]',
    description: [
      'Follows ROLE\'s mode on the Herald at --herald (or HERALD_URL) and refuses what the mode forbids.',
      'With --trust-proxy (or HERALD_GATE_TRUST_PROXY=true), the gate sits behind a proxy of yours: its X-Forwarded-* are kept, and --allow-ip checks the last X-Forwarded-For entry.',
    ],
    examples: [
      'herald gate --upstream http://127.0.0.1:8080 --role web --port 8000 --herald https://status.example.com --allow-path /healthz --allow-ip 10.0.0.0/8 --bypass-secret "$GATE_SECRET"',
    ],
  },
];

/* ------------------------------------------------------------------ registry, help, dispatch */

const CLIENT: CommandSpec[] = [
  maintenanceStatus,
  maintenanceOn,
  maintenanceOff,
  incidentOpen,
  incidentUpdate,
  incidentResolve,
  incidentShow,
  incidentList,
  postmortemPublish,
  maintenancesInfo,
  maintenancesRun,
  maintenancesWindow,
  maintenancesWindowUpdate,
  tokenCreateRemote,
  tokenRevoke,
  tokenList,
  consoleLink,
];

function find(name: string): CommandSpec | undefined {
  return [...CLIENT, ...LOCAL].find((c) => c.name === name || c.aliases?.includes(name));
}

/** A command's topic: `incident` for incident:open (Heroku's word for the part before the colon). */
const topicOf = (name: string) => (name.includes(':') ? name.slice(0, name.indexOf(':')) : undefined);

/** `herald help TOPIC`: the topic's commands, one line each. Undefined when no command has it. */
export function topicHelp(topic: string): string | undefined {
  const specs = [...CLIENT, ...LOCAL].filter((c) => topicOf(c.name) === topic);
  if (specs.length === 0) return undefined;
  return [
    `Commands in ${topic}:`,
    ...table(specs.map((c) => [c.name, c.summary])).map((l) => `  ${l}`),
    '',
    'herald COMMAND --help describes a command, with an example.',
  ].join('\n');
}

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
  const names = [...CLIENT, ...LOCAL].flatMap((c) => [c.name, ...(c.aliases ?? [])]);
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

/** The line for Heroku's -a/--app, which has no meaning in Herald. */
export function noAppsProblem(commandName?: string): string {
  const spec = commandName === undefined ? undefined : find(commandName);
  const role = spec?.options && 'role' in spec.options ? ': --role ROLE picks the role (e.g. --role web), and HERALD_URL (or --url) the Herald server' : ': HERALD_URL (or --url) picks the Herald server';
  return `Herald has no apps, so -a/--app means nothing here${role}`;
}

/** Is `name` a client command runClientCommand handles (token:create only with --url / --remote)? */
export function isClientCommand(name: string | undefined, argv: readonly string[] = []): boolean {
  if (name === 'token:create') return argv.some((a) => a === '--remote' || a === '--url' || a.startsWith('--url='));
  return name !== undefined && CLIENT.some((c) => c.name === name || c.aliases?.includes(name));
}

function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  if (spec.kind === 'local') return { help: COMMON_OPTIONS.help! };
  return { ...COMMON_OPTIONS, ...(spec.kind === 'write' && !spec.withoutKey ? WRITE_OPTIONS : {}), ...(spec.options ?? {}) };
}

/** `herald COMMAND --help`: usage, what it does, options, an example. */
export function commandHelp(name: string): string | undefined {
  const spec = find(name);
  if (!spec) return undefined;
  const lines = [`Usage: herald ${spec.usage}`, ''];
  lines.push(...(spec.description ?? [`${spec.summary.charAt(0).toUpperCase()}${spec.summary.slice(1)}.`]), '');
  if (spec.kind === 'local' && spec.name !== 'token:create') {
    lines.push('Configuration comes from the environment (DATABASE_URL, HERALD_DATA_DIR, PORT, ...); see README.md.', '');
  }
  const rows: (readonly [string, string])[] = [...(spec.optionHelp ?? [])];
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

/** The client commands' lines for the top-level usage. */
export function clientUsage(): string {
  const rows = CLIENT.filter((c) => c !== tokenCreateRemote).map((c) => [c.aliases?.length ? `${c.name} (${c.aliases.join(', ')})` : c.name, c.summary]);
  return [
    ...table(rows).map((l) => `  ${l}`),
    '',
    'These talk to a Herald server: HERALD_URL (or --url), and for writes HERALD_TOKEN (or --token).',
    'stdout carries only the answer (an id, on/off, a table; --json: the server\'s JSON), messages go to',
    'stderr. Exit codes: 0 done, 1 refused or unreachable, 2 wrong command line.',
    'herald COMMAND --help describes a command, with an example.',
  ].join('\n');
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
  const spec = CLIENT.find((c) => c.name === name || c.aliases?.includes(name));
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

/** Every command `herald help` knows, client and local. */
export const COMMAND_NAMES: readonly string[] = [...CLIENT, ...LOCAL].map((c) => c.name);
