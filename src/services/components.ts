import * as z from 'zod';
import * as e from '../db/queries/environments.ts';
import * as q from '../db/queries/incidents.ts';
import { byPosition, liveComponents, type Catalog, type Component, type ComponentGroup } from '../domain/components.ts';
import { isActive } from '../domain/timeline.ts';
import { worstStatus, type Status } from '../domain/vocabulary.ts';
import { AppError } from '../errors.ts';
import type { Deps } from './deps.ts';
import { incidentViews } from './read-model.ts';
import { inTransaction, parseInput, type Command, type Work } from './unit-of-work.ts';
import { byCodePoint } from '../domain/order.ts';

/**
 * Components (Herald's environments, Heroku's systems) and their groups as data: added, renamed,
 * described, grouped, reordered, retired and restored at run time, from the API, the console and
 * the CLI. History is never rewritten: an incident keeps its statuses keyed by slug, so a rename
 * shows the new name everywhere and a retired component keeps its incidents and bars.
 *
 * Rules the use cases keep:
 * - Slugs are immutable and one namespace across components and groups, retired ones included:
 *   a slug once used is never used again.
 * - `position` is 1-based among an item's live siblings: the top-level items (groups and
 *   ungrouped components, ordered together) or the members of one group. A write that places an
 *   item renumbers its siblings 1..n in the same transaction; a position past the end means last.
 *   Retiring takes an item out of the numbering; restoring puts it last.
 * - A group is retired only once it has no live member (so no live component hides in one).
 */

export const SLUG = /^[a-z][a-z0-9_-]{0,39}$/;
export const LIMITS = { name: 100, description: 1000 } as const;

export interface ComponentView {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly group: string | null;
  readonly position: number;
  readonly only_show_if_degraded: boolean;
  readonly showcase: boolean;
  readonly start_date: string | null;
  readonly created_at: string;
  readonly updated_at: string;
  readonly retired_at: string | null;
  /** The current colour: the worst any open incident or running maintenance says of it. */
  readonly status: Status;
}

export interface GroupView {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly position: number;
  /** Its live members' slugs, in order. */
  readonly components: readonly string[];
  readonly created_at: string;
  readonly updated_at: string;
  readonly retired_at: string | null;
  /** The worst colour of its live members. */
  readonly status: Status;
}

/** What an active incident says now of each component (IncidentView.statuses). */
type Saying = { readonly statuses: Readonly<Record<string, Status>> };

const statusOf = (active: readonly Saying[], slug: string): Status => worstStatus(active.map((v) => v.statuses[slug] ?? 'green'));

export function componentView(c: Component, active: readonly Saying[]): ComponentView {
  return {
    slug: c.slug,
    name: c.name,
    description: c.description,
    group: c.group,
    position: c.position,
    only_show_if_degraded: c.only_show_if_degraded,
    showcase: c.showcase,
    start_date: c.start_date,
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
    retired_at: c.retired_at?.toISOString() ?? null,
    status: statusOf(active, c.slug),
  };
}

export function groupView(catalog: Catalog, g: ComponentGroup, active: readonly Saying[]): GroupView {
  const members = liveMembers(catalog, g.slug);
  return {
    slug: g.slug,
    name: g.name,
    description: g.description,
    position: g.position,
    components: members.map((m) => m.slug),
    created_at: g.created_at.toISOString(),
    updated_at: g.updated_at.toISOString(),
    retired_at: g.retired_at?.toISOString() ?? null,
    status: worstStatus(members.map((m) => statusOf(active, m.slug))),
  };
}

const byRetirement = <T extends { readonly retired_at: Date | null; readonly slug: string }>(a: T, b: T) => (a.retired_at?.getTime() ?? 0) - (b.retired_at?.getTime() ?? 0) || byCodePoint(a.slug, b.slug);

const liveMembers = (catalog: Catalog, group: string) => catalog.components.filter((c) => c.retired_at === null && c.group === group).sort(byPosition);

/** Live components in page order (as the status page lists them: `liveComponents`), then, if asked, retired ones by when they were retired. */
export function componentList(catalog: Catalog, active: readonly Saying[], includeRetired = false): ComponentView[] {
  const retired = includeRetired ? catalog.components.filter((c) => c.retired_at !== null).sort(byRetirement) : [];
  return [...liveComponents(catalog), ...retired].map((c) => componentView(c, active));
}

/** Live groups by position (empty ones too: the page leaves those out), then, if asked, retired ones. */
export function groupList(catalog: Catalog, active: readonly Saying[], includeRetired = false): GroupView[] {
  const live = catalog.groups.filter((g) => g.retired_at === null).sort(byPosition);
  const retired = includeRetired ? catalog.groups.filter((g) => g.retired_at !== null).sort(byRetirement) : [];
  return [...live, ...retired].map((g) => groupView(catalog, g, active));
}

export function findComponent(catalog: Catalog, slug: string): Component {
  const c = catalog.components.find((x) => x.slug === slug);
  if (!c) throw new AppError('component.not_found', `Component "${slug}" was not found.`);
  return c;
}

export function findGroup(catalog: Catalog, slug: string): ComponentGroup {
  const g = catalog.groups.find((x) => x.slug === slug);
  if (!g) throw new AppError('group.not_found', `Group "${slug}" was not found.`);
  return g;
}

/* ------------------------------------------------------------------ order */

interface Sibling {
  readonly kind: 'component' | 'group';
  readonly slug: string;
  readonly position: number;
}

/** The live top-level items: groups and ungrouped components, ordered together. */
function topLevel(catalog: Catalog): Sibling[] {
  return [
    ...catalog.groups.filter((g) => g.retired_at === null).map((g): Sibling => ({ kind: 'group', slug: g.slug, position: g.position })),
    ...catalog.components.filter((c) => c.retired_at === null && c.group === null).map((c): Sibling => ({ kind: 'component', slug: c.slug, position: c.position })),
  ].sort(byPosition);
}

function siblingsOf(catalog: Catalog, group: string | null): Sibling[] {
  return group === null ? topLevel(catalog) : liveMembers(catalog, group).map((c): Sibling => ({ kind: 'component', slug: c.slug, position: c.position }));
}

type ItemRef = { readonly kind: Sibling['kind']; readonly slug: string };
const isItem = (item: ItemRef) => (s: Sibling) => s.kind === item.kind && s.slug === item.slug;

/** The siblings renumbered 1..n with `item` at `position` (1-based; absent or past the end: last). */
function placed(siblings: readonly Sibling[], item: ItemRef, position?: number): Sibling[] {
  const rest = siblings.filter((s) => !isItem(item)(s));
  const at = Math.min(position ?? rest.length + 1, rest.length + 1) - 1;
  return [...rest.slice(0, at), { ...item, position: 0 }, ...rest.slice(at)].map((s, i) => ({ ...s, position: i + 1 }));
}

/** The siblings renumbered 1..n once `item` has left them (retired, or moved to another group). */
function without(siblings: readonly Sibling[], item: ItemRef): Sibling[] {
  return siblings.filter((s) => !isItem(item)(s)).map((s, i) => ({ ...s, position: i + 1 }));
}

/** Writes the positions that changed (the placed item's own row is written by its insert or update). */
async function renumber(w: Work, before: readonly Sibling[], after: readonly Sibling[], except?: string) {
  const old = new Map(before.map((s) => [`${s.kind}:${s.slug}`, s.position]));
  const changed = after.filter((s) => s.slug !== except && old.get(`${s.kind}:${s.slug}`) !== s.position);
  await e.setPositions(w.db, 'environments', changed.filter((s) => s.kind === 'component'));
  await e.setPositions(w.db, 'environment_groups', changed.filter((s) => s.kind === 'group'));
}

/* ------------------------------------------------------------------ input */

const text = (label: string, max: number) =>
  z
    .string({ message: `${label} must be a string` })
    .trim()
    .min(1, `${label} must not be empty`)
    .max(max, `${label} must be at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), `${label} must not contain NUL characters`);

/** Free text that may be cleared: "" or null both mean none. */
const description = z
  .string({ message: 'description must be a string or null' })
  .trim()
  .max(LIMITS.description, `description must be at most ${LIMITS.description} characters`)
  .refine((s) => !s.includes('\u0000'), 'description must not contain NUL characters')
  .transform((s) => (s === '' ? null : s))
  .nullable();

const slug = z.string({ message: 'slug must be a string' }).regex(SLUG, 'slug must be 1 to 40 lowercase letters, digits, - or _, starting with a letter');
const position = z.number({ message: 'position must be a whole number, 1 or more' }).int('position must be a whole number, 1 or more').min(1, 'position must be a whole number, 1 or more');
const flag = (label: string) => z.boolean({ message: `${label} must be true or false` });

/** A real calendar day (2026-02-30 is not one), not before 2000 (a mistyped year). */
export function isDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
const startDate = z
  .string({ message: 'start_date must be a date YYYY-MM-DD, or null' })
  .superRefine((s, ctx) => {
    if (!isDay(s)) ctx.addIssue({ code: 'custom', message: 'start_date must be a real date YYYY-MM-DD, e.g. 2026-03-01' });
    else if (s < '2000-01-01') ctx.addIssue({ code: 'custom', message: 'start_date must not be before 2000-01-01 (a mistyped year?)' });
  })
  .nullable();

/** A group a component may join: one that exists and is live. */
function groupRef(catalog: Catalog) {
  const live = catalog.groups.filter((g) => g.retired_at === null).map((g) => g.slug);
  return z
    .string({ message: 'group must be a group\'s slug, or null' })
    .superRefine((s, ctx) => {
      const g = catalog.groups.find((x) => x.slug === s);
      if (!g) ctx.addIssue({ code: 'custom', message: `unknown group "${s}" (${live.length ? `groups: ${live.join(', ')}` : 'there are no groups'})` });
      else if (g.retired_at !== null) ctx.addIssue({ code: 'custom', message: `group "${s}" is retired (restore it first)` });
    })
    .nullable();
}

const nothing = (v: object) => Object.values(v).every((x) => x === undefined);
const NOTHING = { message: 'nothing to change: give at least one field', path: [] };

function schemas(catalog: Catalog) {
  return {
    createComponent: z.strictObject({
      slug,
      name: text('name', LIMITS.name),
      description: description.optional(),
      group: groupRef(catalog).optional(),
      position: position.optional(),
      only_show_if_degraded: flag('only_show_if_degraded').optional(),
      showcase: flag('showcase').optional(),
      start_date: startDate.optional(),
    }),
    updateComponent: z
      .strictObject({
        name: text('name', LIMITS.name).optional(),
        description: description.optional(),
        group: groupRef(catalog).optional(),
        position: position.optional(),
        only_show_if_degraded: flag('only_show_if_degraded').optional(),
        showcase: flag('showcase').optional(),
        start_date: startDate.optional(),
      })
      .refine((v) => !nothing(v), NOTHING),
    createGroup: z.strictObject({ slug, name: text('name', LIMITS.name), description: description.optional(), position: position.optional() }),
    updateGroup: z
      .strictObject({ name: text('name', LIMITS.name).optional(), description: description.optional(), position: position.optional() })
      .refine((v) => !nothing(v), NOTHING),
    none: z.strictObject({}),
  };
}

/* ------------------------------------------------------------------ the use cases */

/** The catalog as this write sees it, with every other catalog write kept out until it commits. */
async function lockedCatalog(w: Work): Promise<Catalog> {
  await e.lockCatalog(w.db);
  return e.loadCatalog(w.db);
}

/** What open incidents and running maintenance say now, for the colours of the answer. */
async function activeNow(w: Work): Promise<Saying[]> {
  const views = await incidentViews(w.db, w.config, await q.openIncidents(w.db), w.now);
  return views.filter((v) => isActive(v.kind, v.state));
}

function checkFree(catalog: Catalog, wanted: string) {
  const c = catalog.components.find((x) => x.slug === wanted);
  const g = catalog.groups.find((x) => x.slug === wanted);
  const holder = c ? `component "${c.name}"` : g ? `group "${g.name}"` : undefined;
  if (holder) {
    const retired = (c ?? g)!.retired_at !== null ? ' (retired; a slug is never used twice)' : '';
    throw new AppError('component.exists', `The slug "${wanted}" is taken by ${holder}${retired}: components and groups share one namespace.`);
  }
}

function liveComponent(catalog: Catalog, slug: string): Component {
  const c = findComponent(catalog, slug);
  if (c.retired_at !== null) throw new AppError('component.retired', `Component "${slug}" is retired (since ${c.retired_at.toISOString()}): restore it first.`);
  return c;
}

function liveGroup(catalog: Catalog, slug: string): ComponentGroup {
  const g = findGroup(catalog, slug);
  if (g.retired_at !== null) throw new AppError('group.retired', `Group "${slug}" is retired (since ${g.retired_at.toISOString()}): restore it first.`);
  return g;
}

const today = (now: Date) => now.toISOString().slice(0, 10);

/** The component as the write left it, with its colour. */
async function componentAfter(w: Work, slug: string): Promise<ComponentView> {
  const catalog = await e.loadCatalog(w.db);
  return componentView(findComponent(catalog, slug), await activeNow(w));
}

async function groupAfter(w: Work, slug: string): Promise<GroupView> {
  const catalog = await e.loadCatalog(w.db);
  return groupView(catalog, findGroup(catalog, slug), await activeNow(w));
}

/** Adds a component: start_date defaults to today (UTC, by the clock), position to last among its siblings. */
export async function createComponent(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const input = parseInput(schemas(catalog).createComponent, body, 'component.invalid_input');
    checkFree(catalog, input.slug);
    const group = input.group ?? null;
    const siblings = siblingsOf(catalog, group);
    const order = placed(siblings, { kind: 'component', slug: input.slug }, input.position);
    const fields: e.ComponentFields = {
      name: input.name,
      description: input.description ?? null,
      group_slug: group,
      position: order.find((s) => s.slug === input.slug && s.kind === 'component')!.position,
      only_show_if_degraded: input.only_show_if_degraded ?? false,
      showcase: input.showcase ?? true,
      start_date: input.start_date === undefined ? today(now) : input.start_date,
    };
    await e.insertComponent(w.db, input.slug, fields, now);
    await renumber(w, siblings, order, input.slug);
    const after = await componentAfter(w, input.slug);
    await w.audit('component.create', `component:${input.slug}`, { after });
    w.emit({ name: 'component.created', component: input.slug });
    return after;
  });
}

/**
 * Edits a live component. A new group moves it there (last, or at `position`) and closes the gap
 * it left; `group: null` makes it top-level. Its slug never changes.
 */
export async function updateComponent(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = liveComponent(catalog, slug);
    const input = parseInput(schemas(catalog).updateComponent, body, 'component.invalid_input');
    const before = componentView(current, await activeNow(w));
    const group = input.group === undefined ? current.group : input.group;
    const fields: Partial<e.ComponentFields> = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.only_show_if_degraded !== undefined ? { only_show_if_degraded: input.only_show_if_degraded } : {}),
      ...(input.showcase !== undefined ? { showcase: input.showcase } : {}),
      ...(input.start_date !== undefined ? { start_date: input.start_date } : {}),
    };
    const item: ItemRef = { kind: 'component', slug };
    if (group !== current.group) {
      const left = siblingsOf(catalog, current.group);
      await renumber(w, left, without(left, item));
      const joined = siblingsOf(catalog, group);
      const order = placed(joined, item, input.position);
      await renumber(w, joined, order, slug);
      Object.assign(fields, { group_slug: group, position: order.find((s) => s.kind === 'component' && s.slug === slug)!.position });
    } else if (input.position !== undefined) {
      const siblings = siblingsOf(catalog, group);
      const order = placed(siblings, item, input.position);
      await renumber(w, siblings, order, slug);
      fields.position = order.find((s) => s.kind === 'component' && s.slug === slug)!.position;
    }
    await e.updateComponent(w.db, slug, fields, now);
    const after = await componentAfter(w, slug);
    await w.audit('component.update', `component:${slug}`, { before, after });
    w.emit({ name: 'component.updated', component: slug });
    return after;
  });
}

/**
 * Retires a component: it leaves the page, the lists and the statuses an update may name, and its
 * siblings close the gap. Its incidents, bars and the scopes of impact that name it stay.
 */
export async function retireComponent(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = findComponent(catalog, slug);
    parseInput(schemas(catalog).none, body, 'component.invalid_input');
    if (current.retired_at !== null) throw new AppError('component.retired', `Component "${slug}" is already retired (since ${current.retired_at.toISOString()}).`);
    const active = await activeNow(w);
    const before = componentView(current, active);
    const siblings = siblingsOf(catalog, current.group);
    await renumber(w, siblings, without(siblings, { kind: 'component', slug }));
    await e.updateComponent(w.db, slug, { retired_at: now }, now);
    const after = await componentAfter(w, slug);
    await w.audit('component.retire', `component:${slug}`, { before, after });
    w.emit({ name: 'component.was_retired', component: slug });
    return after;
  });
}

/**
 * Restores a retired component, last among its siblings. If its group was retired meanwhile it
 * comes back ungrouped (a live component is never hidden in a retired group).
 */
export async function restoreComponent(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = findComponent(catalog, slug);
    parseInput(schemas(catalog).none, body, 'component.invalid_input');
    if (current.retired_at === null) throw new AppError('component.not_retired', `Component "${slug}" is not retired.`);
    const before = componentView(current, await activeNow(w));
    const group = current.group !== null && catalog.groups.some((g) => g.slug === current.group && g.retired_at === null) ? current.group : null;
    const order = placed(siblingsOf(catalog, group), { kind: 'component', slug });
    await e.updateComponent(w.db, slug, { retired_at: null, group_slug: group, position: order.at(-1)!.position }, now);
    const after = await componentAfter(w, slug);
    await w.audit('component.restore', `component:${slug}`, { before, after });
    w.emit({ name: 'component.restored', component: slug });
    return after;
  });
}

/** Adds a group, last among the top-level items unless `position` says where. */
export async function createGroup(deps: Deps, command: Command, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const input = parseInput(schemas(catalog).createGroup, body, 'component.invalid_input');
    checkFree(catalog, input.slug);
    const siblings = topLevel(catalog);
    const order = placed(siblings, { kind: 'group', slug: input.slug }, input.position);
    const at = order.find((s) => s.kind === 'group' && s.slug === input.slug)!.position;
    await e.insertGroup(w.db, input.slug, { name: input.name, description: input.description ?? null, position: at }, now);
    await renumber(w, siblings, order, input.slug);
    const after = await groupAfter(w, input.slug);
    await w.audit('group.create', `group:${input.slug}`, { after });
    w.emit({ name: 'group.created', group: input.slug });
    return after;
  });
}

export async function updateGroup(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = liveGroup(catalog, slug);
    const input = parseInput(schemas(catalog).updateGroup, body, 'component.invalid_input');
    const active = await activeNow(w);
    const before = groupView(catalog, current, active);
    const fields: Partial<e.GroupFields> = {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
    };
    if (input.position !== undefined) {
      const siblings = topLevel(catalog);
      const order = placed(siblings, { kind: 'group', slug }, input.position);
      await renumber(w, siblings, order, slug);
      fields.position = order.find((s) => s.kind === 'group' && s.slug === slug)!.position;
    }
    await e.updateGroup(w.db, slug, fields, now);
    const after = await groupAfter(w, slug);
    await w.audit('group.update', `group:${slug}`, { before, after });
    w.emit({ name: 'group.updated', group: slug });
    return after;
  });
}

/** Retires an empty group (refused while it has live members: move or retire them first). */
export async function retireGroup(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = findGroup(catalog, slug);
    parseInput(schemas(catalog).none, body, 'component.invalid_input');
    if (current.retired_at !== null) throw new AppError('group.retired', `Group "${slug}" is already retired (since ${current.retired_at.toISOString()}).`);
    const members = liveMembers(catalog, slug);
    if (members.length > 0) {
      throw new AppError('group.not_empty', `Group "${slug}" still has live components: ${members.map((m) => m.slug).join(', ')}. Move them out (group: null) or retire them first.`);
    }
    const before = groupView(catalog, current, []);
    const siblings = topLevel(catalog);
    await renumber(w, siblings, without(siblings, { kind: 'group', slug }));
    await e.updateGroup(w.db, slug, { retired_at: now }, now);
    const after = await groupAfter(w, slug);
    await w.audit('group.retire', `group:${slug}`, { before, after });
    w.emit({ name: 'group.was_retired', group: slug });
    return after;
  });
}

/** Restores a retired group, last among the top-level items (empty: its members were moved or retired). */
export async function restoreGroup(deps: Deps, command: Command, slug: string, body: unknown) {
  const now = deps.clock.now();
  return inTransaction(deps, command, now, async (w) => {
    const catalog = await lockedCatalog(w);
    const current = findGroup(catalog, slug);
    parseInput(schemas(catalog).none, body, 'component.invalid_input');
    if (current.retired_at === null) throw new AppError('group.not_retired', `Group "${slug}" is not retired.`);
    const before = groupView(catalog, current, []);
    const order = placed(topLevel(catalog), { kind: 'group', slug });
    await e.updateGroup(w.db, slug, { retired_at: null, position: order.at(-1)!.position }, now);
    const after = await groupAfter(w, slug);
    await w.audit('group.restore', `group:${slug}`, { before, after });
    w.emit({ name: 'group.restored', group: slug });
    return after;
  });
}

/** The catalog and what open incidents say now, read outside any write (the console's pages). */
export async function catalogNow(deps: Pick<Deps, 'db' | 'config' | 'clock'>): Promise<{ catalog: Catalog; active: Saying[] }> {
  const [catalog, open] = await Promise.all([e.loadCatalog(deps.db), q.openIncidents(deps.db)]);
  const views = await incidentViews(deps.db, deps.config, open, deps.clock.now());
  return { catalog, active: views.filter((v) => isActive(v.kind, v.state)) };
}
