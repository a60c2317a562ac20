import type { WindowView } from '../../routes/maintenance.ts';
import type { MaintenanceInfo } from '../../services/maintenance.ts';
import { CliUsageError } from '../client.ts';
import { MESSAGE_FLAGS, type CommandSpec } from '../command.ts';
import { idArg, message } from '../input.ts';
import { keyValues, paintMode, paintState, table, when } from '../output.ts';

/**
 * Planned maintenance, as Heroku's `maintenances` topic: `maintenances:info|run` on
 * /api/v1/maintenances, and the weekly window (`maintenances:window[:update]`).
 */

const maintenancesInfo: CommandSpec = {
  name: 'maintenances:info',
  kind: 'read',
  args: [0, 1],
  summary: 'a planned maintenance, or the list of open ones',
  usage: 'maintenances:info [ID] [--all] [--limit N] [--cursor C] [--json]',
  description: ['Without ID: scheduled and running maintenance (with --all: every one), latest scheduled first. With ID: its details.'],
  flags: {
    all: { type: 'boolean', help: 'without ID: also completed and cancelled maintenance' },
    limit: { type: 'string', value: 'N', help: 'without ID: how many, 1 to 100 (default: 20)' },
    cursor: { type: 'string', value: 'C', help: 'without ID: the next page (printed on stderr when there is one)' },
  },
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
          ['Window', m.window ?? '-'],
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
  flags: { confirm: { type: 'string', value: 'NAME', help: 'the Herald instance\'s name, to confirm taking roles down' }, ...MESSAGE_FLAGS },
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
  flags: { 'duration-hours': { type: 'string', value: 'H', help: 'how long the window lasts, 0.25 to 24 (default: unchanged)' } },
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

export const maintenanceCommands: readonly CommandSpec[] = [maintenancesInfo, maintenancesRun, maintenancesWindow, maintenancesWindowUpdate];
