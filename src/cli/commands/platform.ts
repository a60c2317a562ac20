import type { RoleMode } from '../../services/modes.ts';
import { CliFailure, CliUsageError } from '../client.ts';
import type { CommandSpec } from '../command.ts';
import { confirm } from '../input.ts';
import { when } from '../output.ts';

/**
 * A role's mode by hand: `maintenance:status`, `maintenance:on`, `maintenance:off` (Heroku's
 * `maintenance` topic). They read /api/v1/platform and set or clear a role's manual override;
 * planned maintenance is src/cli/commands/maintenance.ts.
 */

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
  flags: {
    role: { type: 'string', value: 'ROLE', help: 'the role to ask about (default: web)' },
    all: { type: 'boolean', help: 'every configured role' },
  },
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
  flags: {
    role: { type: 'string', value: 'ROLE', help: 'the role to switch (default: web)' },
    reason: { type: 'string', value: 'TEXT', help: 'why; shown to operators and gates as what holds the role' },
    mode: { type: 'string', value: 'MODE', help: 'maintenance (default) or read_only' },
    until: { type: 'string', value: 'TIME', help: 'when you expect to be done (ISO 8601 with a timezone); gates send it as Retry-After' },
    retry: { type: 'string', value: 'SECONDS', help: 'the same as --until, counted from now (Laravel\'s down --retry)' },
    yes: { type: 'boolean', short: 'y', help: 'do not ask for confirmation' },
  },
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
  flags: {
    role: { type: 'string', value: 'ROLE', help: 'the role (default: web)' },
    reason: { type: 'string', value: 'TEXT', help: 'why, for the audit log' },
  },
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

export const platformCommands: readonly CommandSpec[] = [maintenanceStatus, maintenanceOn, maintenanceOff];
