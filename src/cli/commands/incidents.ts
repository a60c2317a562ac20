import type { IncidentView, UpdateView } from '../../services/read-model.ts';
import { CliFailure, CliUsageError } from '../client.ts';
import { MESSAGE_FLAGS, UPDATE_FLAGS, type CommandSpec, type Context } from '../command.ts';
import { idArg, message, need, readTextFile, updateBody } from '../input.ts';
import { keyValues, oneLine, paintMode, paintState, paintStatus, table, when } from '../output.ts';

/**
 * Incidents and their postmortems: `incident:open|update|resolve|show|list` and
 * `postmortem:publish`, on /api/v1/incidents. The answers are the API's own IncidentView.
 */

/** `production=red web=read_only`: what one update declared. */
function changes(u: UpdateView, ctx: Context): string {
  const p = ctx.o.colour.stdout;
  return [...Object.entries(u.statuses).map(([k, v]) => `${k}=${paintStatus(p, v)}`), ...Object.entries(u.modes).map(([k, v]) => `${k}=${paintMode(p, v)}`)].join(' ');
}

/** How long each environment was impaired and each role restricted, or `none`. */
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

const incidentOpen: CommandSpec = {
  name: 'incident:open',
  kind: 'write',
  summary: 'open an incident; stdout: its id',
  usage: 'incident:open --title TITLE --message TEXT [--status ENV=STATUS]... [--mode ROLE=MODE]... [--state STATE] [--at ISO] [--impact IMPACT]',
  description: ['Opens an incident with its first update. stdout: the new incident\'s id; its URL goes to stderr.'],
  flags: {
    title: { type: 'string', value: 'TITLE', help: 'what people see on the status page' },
    ...UPDATE_FLAGS,
    state: { type: 'string', value: 'STATE', help: 'investigating (default), identified, monitoring or resolved' },
    impact: { type: 'string', value: 'IMPACT', help: 'none, minor, major or critical (default: derived from the statuses)' },
  },
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
      body: { title, ...updateBody(ctx, msg), ...(ctx.str('impact') !== undefined ? { impact: ctx.str('impact') } : {}) },
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
  flags: { state: { type: 'string', value: 'STATE', help: 'investigating, identified, monitoring or resolved (default: unchanged)' }, ...UPDATE_FLAGS },
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
  flags: { ...MESSAGE_FLAGS, at: { type: 'string', value: 'ISO', help: 'when it was resolved (default: now)' } },
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

const incidentEdit: CommandSpec = {
  name: 'incident:edit',
  kind: 'write',
  args: [1, 1],
  summary: "change an incident's title or impact",
  usage: 'incident:edit ID [--title TITLE] [--impact none|minor|major|critical|derived]',
  description: ['Edits incident ID: its title, its impact, or both. `--impact derived` lets the statuses decide it again.'],
  flags: {
    title: { type: 'string', value: 'TITLE', help: 'the new title' },
    impact: { type: 'string', value: 'IMPACT', help: 'none, minor, major, critical, or derived' },
  },
  examples: ['herald incident:edit 42 --impact critical', 'herald incident:edit 42 --title "Database failover in eu-west"'],
  async run(ctx) {
    const id = idArg(ctx);
    const title = ctx.str('title');
    const impact = ctx.str('impact');
    need(ctx, title === undefined && impact === undefined ? ['--title or --impact'] : []);
    const res = await ctx.client().request<IncidentView>('PATCH', `/api/v1/incidents/${id}`, {
      auth: true,
      body: { ...(title !== undefined ? { title } : {}), ...(impact !== undefined ? { impact: impact === 'derived' ? null : impact } : {}) },
    });
    const v = res.body;
    if (ctx.flag('json')) ctx.o.json(v);
    else ctx.o.out(String(v.id));
    ctx.o.err(`Edited ${v.kind} #${v.id} "${v.title}"; impact: ${v.impact ?? 'derived from its statuses'}.`, v.url);
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
  flags: {
    state: { type: 'string', value: 'STATE', help: 'open, closed or all (default: all)' },
    kind: { type: 'string', value: 'KIND', help: 'incident or maintenance (default: both)' },
    limit: { type: 'string', value: 'N', help: 'how many, 1 to 100 (default: 20)' },
    cursor: { type: 'string', value: 'C', help: 'the next page (printed on stderr when there is one)' },
  },
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
  flags: {
    file: { type: 'string', short: 'f', value: 'FILE', help: 'the postmortem in Markdown; `-` reads it from stdin' },
  },
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

export const incidentCommands: readonly CommandSpec[] = [incidentOpen, incidentUpdate, incidentResolve, incidentEdit, incidentShow, incidentList, postmortemPublish];
