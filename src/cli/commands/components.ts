import type { ComponentView, GroupView } from '../../services/components.ts';
import { CliUsageError } from '../client.ts';
import type { CommandSpec, Context } from '../command.ts';
import { paintStatus, table, when, type Painter } from '../output.ts';

/**
 * Components (the status page's environments) and their groups, on /api/v1/components and
 * /api/v1/component-groups: `components` lists them in page order; `component:add|update|retire|
 * restore` and `group:add|update|retire|restore` change them (components:write or admin).
 * Listing needs a token too (any scope): it shows retired components, which public reads do not.
 */

const slugArg = (ctx: Context, what: string): string => {
  const slug = ctx.args[0];
  if (slug === undefined) throw new CliUsageError(`give the ${what}'s slug`);
  return slug;
};

const path = (kind: 'components' | 'component-groups', slug: string, action = '') => `/api/v1/${kind}/${encodeURIComponent(slug)}${action}`;

function positionOf(ctx: Context): number | undefined {
  const raw = ctx.str('position');
  if (raw === undefined) return undefined;
  if (!/^[1-9]\d{0,5}$/.test(raw)) throw new CliUsageError(`--position takes a whole number, 1 or more (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** Where a component sits, in words: "top level, position 3" or "group apps, position 1". */
const placeOf = (c: ComponentView) => `${c.group === null ? 'top level' : `group ${c.group}`}, position ${c.position}`;

function notes(c: ComponentView): string {
  return [c.only_show_if_degraded ? 'shown only when degraded' : '', c.showcase ? '' : 'no bars', c.retired_at ? `retired ${when(c.retired_at)}` : ''].filter(Boolean).join(', ');
}

/** The page as rows: top-level items by position, each group's members indented under it. */
function pageRows(components: readonly ComponentView[], groups: readonly GroupView[], p: Painter): string[][] {
  const row = (c: ComponentView, indent: string) => [`${indent}${c.slug}`, c.name, paintStatus(p, c.status), c.start_date ?? '-', notes(c)];
  const live = components.filter((c) => c.retired_at === null);
  const top: { position: number; rows: string[][] }[] = [];
  for (const c of live) if (c.group === null || !groups.some((g) => g.slug === c.group && g.retired_at === null)) top.push({ position: c.position, rows: [row(c, '')] });
  for (const g of groups.filter((x) => x.retired_at === null)) {
    const members = live.filter((c) => c.group === g.slug);
    top.push({ position: g.position, rows: [[`${g.slug}/`, p.bold(g.name), paintStatus(p, g.status), '', members.length ? 'group' : 'group, empty (not shown on the page)'], ...members.map((c) => row(c, '  '))] });
  }
  const retired = [
    ...groups.filter((g) => g.retired_at !== null).map((g) => [`${g.slug}/`, g.name, '-', '', `group, retired ${when(g.retired_at)}`]),
    ...components.filter((c) => c.retired_at !== null).map((c) => row(c, '')),
  ];
  return [...top.sort((a, b) => a.position - b.position).flatMap((t) => t.rows), ...retired];
}

const componentsList: CommandSpec = {
  name: 'components',
  kind: 'write', // listing needs a token (retired ones are not public); it writes nothing
  withoutKey: true,
  summary: 'the components and groups, in page order',
  usage: 'components [--all] [--json]',
  description: [
    'Lists the live components in the order the status page shows them: top-level items by',
    'position, each group (SLUG/) with its members indented under it. --all adds retired ones.',
    'Needs a token of any scope (HERALD_TOKEN).',
  ],
  flags: { all: { type: 'boolean', help: 'also retired components and groups' } },
  examples: ['herald components', 'herald components --all --json | jq -r ".components[].slug"'],
  async run(ctx) {
    const query = { include: ctx.flag('all') ? 'retired' : undefined };
    const client = ctx.client();
    const [c, g] = await Promise.all([
      client.request<{ components: ComponentView[] }>('GET', '/api/v1/components', { auth: true, query }),
      client.request<{ groups: GroupView[] }>('GET', '/api/v1/component-groups', { auth: true, query }),
    ]);
    if (ctx.flag('json')) return ctx.o.json({ components: c.body.components, groups: g.body.groups });
    const p = ctx.o.colour.stdout;
    const rows = pageRows(c.body.components, g.body.groups, p);
    if (rows.length === 0) return ctx.o.err('No components.');
    ctx.o.out(...table(rows, ['SLUG', 'NAME', 'STATUS', 'SINCE', 'NOTES'], p));
  },
};

const COMPONENT_FLAGS = {
  name: { type: 'string', value: 'NAME', help: 'the name people read (1 to 100 characters)' },
  description: { type: 'string', value: 'TEXT', help: 'a line under the name (at most 1000 characters; "" clears it)' },
  group: { type: 'string', value: 'GROUP', help: 'the slug of the group it belongs to' },
  position: { type: 'string', value: 'N', help: '1-based among its siblings (the top-level items, or its group\'s members); the others move down' },
  'only-show-if-degraded': { type: 'boolean', help: 'list it on the status page only while it is not green' },
  'start-date': { type: 'string', value: 'YYYY-MM-DD', help: 'the first day its bars and uptime count' },
} as const;

/** The body of an add or update from the flags given (a flag not given is left out). */
function componentBody(ctx: Context): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of ['name', 'description', 'group'] as const) if (ctx.str(field) !== undefined) body[field] = ctx.str(field);
  const position = positionOf(ctx);
  if (position !== undefined) body.position = position;
  if (ctx.flag('only-show-if-degraded')) body.only_show_if_degraded = true;
  if (ctx.str('start-date') !== undefined) body.start_date = ctx.str('start-date');
  return body;
}

async function writeComponent(ctx: Context, method: string, url: string, body: Record<string, unknown>, said: (c: ComponentView) => string) {
  const res = await ctx.client().request<ComponentView>(method, url, { auth: true, body, idempotencyKey: ctx.key() });
  if (ctx.flag('json')) return ctx.o.json(res.body);
  ctx.o.out(res.body.slug);
  ctx.o.err(said(res.body));
}

const componentAdd: CommandSpec = {
  name: 'component:add',
  kind: 'write',
  args: [1, 1],
  summary: 'add a component to the status page',
  usage: 'component:add SLUG --name NAME [--description TEXT] [--group GROUP] [--position N] [--only-show-if-degraded] [--start-date YYYY-MM-DD]',
  description: [
    'Adds a component. SLUG (lowercase letters, digits, - or _; at most 40) names it in the API and',
    'in incidents\' statuses, and never changes; components and groups share one set of slugs, and',
    'a slug is never used twice. It goes last among its siblings unless --position says where.',
    'Its bars start today (UTC) unless --start-date says otherwise. stdout: the slug.',
  ],
  flags: COMPONENT_FLAGS,
  examples: ['herald component:add billing --name "Billing API" --group apps --description "Invoices and payments"'],
  async run(ctx) {
    const slug = slugArg(ctx, 'component');
    if (ctx.str('name') === undefined) throw new CliUsageError('--name is required');
    await writeComponent(ctx, 'POST', '/api/v1/components', { slug, ...componentBody(ctx) }, (c) => `Added component ${c.slug} "${c.name}" (${placeOf(c)}).`);
  },
};

const componentUpdate: CommandSpec = {
  name: 'component:update',
  kind: 'write',
  args: [1, 1],
  summary: 'rename, describe, move, regroup or flag a component',
  usage: 'component:update SLUG [--name NAME] [--description TEXT] [--group GROUP | --no-group] [--position N] [--only-show-if-degraded | --always-show] [--start-date YYYY-MM-DD | --no-start-date]',
  description: [
    'Changes what the flags say and nothing else. A new name shows everywhere at once, history',
    'included (incidents name components by slug). --position moves it among its siblings, which',
    'are renumbered; with --group it moves into that group (last, or at --position).',
  ],
  flags: {
    ...COMPONENT_FLAGS,
    'no-group': { type: 'boolean', help: 'take it out of its group (top level, last unless --position)' },
    'always-show': { type: 'boolean', help: 'list it on the status page whatever its colour' },
    'no-start-date': { type: 'boolean', help: 'count its bars as far back as there is history' },
  },
  examples: ['herald component:update staging --name "Staging EU"', 'herald component:update billing --no-group --position 1'],
  async run(ctx) {
    const slug = slugArg(ctx, 'component');
    const body = componentBody(ctx);
    if (ctx.flag('no-group')) {
      if (body.group !== undefined) throw new CliUsageError('give --group or --no-group, not both');
      body.group = null;
    }
    if (ctx.flag('always-show')) {
      if (body.only_show_if_degraded) throw new CliUsageError('give --only-show-if-degraded or --always-show, not both');
      body.only_show_if_degraded = false;
    }
    if (ctx.flag('no-start-date')) {
      if (body.start_date !== undefined) throw new CliUsageError('give --start-date or --no-start-date, not both');
      body.start_date = null;
    }
    if (Object.keys(body).length === 0) throw new CliUsageError('nothing to change: give at least one option (see herald component:update --help)');
    await writeComponent(ctx, 'PATCH', path('components', slug), body, (c) => `Updated component ${c.slug} "${c.name}" (${placeOf(c)}).`);
  },
};

const componentRetire: CommandSpec = {
  name: 'component:retire',
  kind: 'write',
  args: [1, 1],
  summary: 'take a component off the status page, keeping its history',
  usage: 'component:retire SLUG',
  description: [
    'The component leaves the status page and the statuses an update may name; its incidents,',
    'bars and the scopes of impact that name it stay. `herald component:restore` brings it back.',
  ],
  examples: ['herald component:retire legacy-api'],
  async run(ctx) {
    const slug = slugArg(ctx, 'component');
    await writeComponent(ctx, 'POST', path('components', slug, '/retire'), {}, (c) => `Retired component ${c.slug} "${c.name}"; its history stays.`);
  },
};

const componentRestore: CommandSpec = {
  name: 'component:restore',
  kind: 'write',
  args: [1, 1],
  summary: 'bring a retired component back',
  usage: 'component:restore SLUG',
  description: ['It comes back last among its siblings (ungrouped if its group was retired meanwhile).'],
  examples: ['herald component:restore legacy-api'],
  async run(ctx) {
    const slug = slugArg(ctx, 'component');
    await writeComponent(ctx, 'POST', path('components', slug, '/restore'), {}, (c) => `Restored component ${c.slug} "${c.name}" (${placeOf(c)}).`);
  },
};

async function writeGroup(ctx: Context, method: string, url: string, body: Record<string, unknown>, said: (g: GroupView) => string) {
  const res = await ctx.client().request<GroupView>(method, url, { auth: true, body, idempotencyKey: ctx.key() });
  if (ctx.flag('json')) return ctx.o.json(res.body);
  ctx.o.out(res.body.slug);
  ctx.o.err(said(res.body));
}

const GROUP_FLAGS = {
  name: COMPONENT_FLAGS.name,
  description: COMPONENT_FLAGS.description,
  position: { type: 'string', value: 'N', help: '1-based among the top-level items (groups and ungrouped components); the others move down' },
} as const;

function groupBody(ctx: Context): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const field of ['name', 'description'] as const) if (ctx.str(field) !== undefined) body[field] = ctx.str(field);
  const position = positionOf(ctx);
  if (position !== undefined) body.position = position;
  return body;
}

const groupAdd: CommandSpec = {
  name: 'group:add',
  kind: 'write',
  args: [1, 1],
  summary: 'add a group of components ("Apps", "Data")',
  usage: 'group:add SLUG --name NAME [--description TEXT] [--position N]',
  description: [
    'Adds a group, last among the top-level items unless --position says where. Put components in',
    'it with `herald component:update SLUG --group GROUP`. The page shows a group once it has one.',
  ],
  flags: GROUP_FLAGS,
  examples: ['herald group:add data --name Data --description "Databases and queues"'],
  async run(ctx) {
    const slug = slugArg(ctx, 'group');
    if (ctx.str('name') === undefined) throw new CliUsageError('--name is required');
    await writeGroup(ctx, 'POST', '/api/v1/component-groups', { slug, ...groupBody(ctx) }, (g) => `Added group ${g.slug} "${g.name}" (position ${g.position}).`);
  },
};

const groupUpdate: CommandSpec = {
  name: 'group:update',
  kind: 'write',
  args: [1, 1],
  summary: 'rename, describe or move a group',
  usage: 'group:update SLUG [--name NAME] [--description TEXT] [--position N]',
  flags: GROUP_FLAGS,
  examples: ['herald group:update data --name "Data stores" --position 1'],
  async run(ctx) {
    const slug = slugArg(ctx, 'group');
    const body = groupBody(ctx);
    if (Object.keys(body).length === 0) throw new CliUsageError('nothing to change: give at least one option (see herald group:update --help)');
    await writeGroup(ctx, 'PATCH', path('component-groups', slug), body, (g) => `Updated group ${g.slug} "${g.name}" (position ${g.position}).`);
  },
};

const groupRetire: CommandSpec = {
  name: 'group:retire',
  kind: 'write',
  args: [1, 1],
  summary: 'retire an empty group',
  usage: 'group:retire SLUG',
  description: ['Refused while the group has live components (the answer names them): move them out or retire them first.'],
  examples: ['herald group:retire tools'],
  async run(ctx) {
    const slug = slugArg(ctx, 'group');
    await writeGroup(ctx, 'POST', path('component-groups', slug, '/retire'), {}, (g) => `Retired group ${g.slug} "${g.name}".`);
  },
};

const groupRestore: CommandSpec = {
  name: 'group:restore',
  kind: 'write',
  args: [1, 1],
  summary: 'bring a retired group back (last among the top-level items)',
  usage: 'group:restore SLUG',
  examples: ['herald group:restore tools'],
  async run(ctx) {
    const slug = slugArg(ctx, 'group');
    await writeGroup(ctx, 'POST', path('component-groups', slug, '/restore'), {}, (g) => `Restored group ${g.slug} "${g.name}" (position ${g.position}).`);
  },
};

export const componentCommands: readonly CommandSpec[] = [componentsList, componentAdd, componentUpdate, componentRetire, componentRestore, groupAdd, groupUpdate, groupRetire, groupRestore];
