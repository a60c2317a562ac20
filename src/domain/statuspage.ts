/**
 * Atlassian Statuspage's public API v2, as Herald's data reads in it: the colour of each
 * component, the page's top-level status, an incident's impact and status, and the objects
 * (page, component, incident, incident update, scheduled maintenance) field for field and in
 * Statuspage's key order, so that tools written against a Statuspage page read Herald unchanged.
 * Pure: the route hands in the snapshot's data (docs/statuspage-api.md has the rules in a table).
 */
import { pageItems, type Catalog, type Component, type ComponentGroup } from './components.ts';
import { isActive, isClosing } from './timeline.ts';
import { worstStatus, type Impact, type Kind, type State, type Status } from './vocabulary.ts';
import { byCodePoint } from './order.ts';

export type { Impact };

export type ComponentStatus = 'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage' | 'under_maintenance';
export type Indicator = 'none' | 'minor' | 'major' | 'critical' | 'maintenance';

export const COMPONENT_STATUS: Readonly<Record<Status, ComponentStatus>> = {
  green: 'operational',
  yellow: 'degraded_performance',
  orange: 'partial_outage',
  red: 'major_outage',
  blue: 'under_maintenance',
};

export interface TopLevelStatus {
  readonly indicator: Indicator;
  readonly description: string;
}

const OPERATIONAL: TopLevelStatus = { indicator: 'none', description: 'All Systems Operational' };

/** What the worst colour present makes of the page: when some components have it, and when all do. */
const BY_WORST: Readonly<Record<Exclude<Status, 'green'>, { some: TopLevelStatus; all: TopLevelStatus }>> = {
  red: { some: { indicator: 'major', description: 'Partial System Outage' }, all: { indicator: 'critical', description: 'Major System Outage' } },
  orange: { some: { indicator: 'minor', description: 'Minor Service Outage' }, all: { indicator: 'major', description: 'Partial System Outage' } },
  yellow: { some: { indicator: 'minor', description: 'Partially Degraded Service' }, all: { indicator: 'minor', description: 'Degraded System Service' } },
  blue: { some: { indicator: 'maintenance', description: 'Service Under Maintenance' }, all: { indicator: 'maintenance', description: 'Service Under Maintenance' } },
};

/** What an unresolved incident of this impact raises the page to. */
const BY_IMPACT: Readonly<Record<Exclude<Impact, 'none'>, TopLevelStatus>> = {
  critical: { indicator: 'critical', description: 'Major System Outage' },
  major: { indicator: 'major', description: 'Partial System Outage' },
  minor: { indicator: 'minor', description: 'Minor Service Outage' },
};

const INDICATOR_RANK: Readonly<Record<Indicator, number>> = { none: 0, maintenance: 1, minor: 2, major: 3, critical: 4 };

/**
 * The page's top-level status, as Statuspage computes it: from the colours of every live
 * component (groups are not components here: a group's colour is its members'), the worst kind
 * present deciding and "all" of a kind reading worse than "some"; then an unresolved incident
 * whose impact is worse than that raises it. No components: "All Systems Operational", unless an
 * incident says otherwise.
 *
 * @example topLevelStatus(['green', 'yellow'], []) // { indicator: 'minor', description: 'Partially Degraded Service' }
 * @example topLevelStatus(['green', 'green'], ['major']) // { indicator: 'major', description: 'Partial System Outage' }
 */
export function topLevelStatus(colours: readonly Status[], unresolvedImpacts: readonly Impact[]): TopLevelStatus {
  const worst = worstStatus(colours);
  let status = worst === 'green' ? OPERATIONAL : colours.every((c) => c === worst) ? BY_WORST[worst].all : BY_WORST[worst].some;
  for (const impact of unresolvedImpacts) {
    if (impact === 'none') continue;
    const raised = BY_IMPACT[impact];
    if (INDICATOR_RANK[raised.indicator] > INDICATOR_RANK[status.indicator]) status = raised;
  }
  return status;
}

/** An incident's impact when its commander set none: from the worst colour it ever declared. */
export function derivedImpact(declared: Iterable<Status>): Impact {
  const worst = worstStatus(declared);
  return worst === 'red' ? 'critical' : worst === 'orange' ? 'major' : worst === 'yellow' ? 'minor' : 'none';
}

/** A Herald state as Statuspage names it (a cancelled maintenance is listed as completed). */
export function statuspageState(state: State): string {
  return state === 'cancelled' ? 'completed' : state;
}

/** Statuspage's ids are strings: an incident's and an update's are Herald's numbers, a component's its slug. */
export const incidentId = (id: number): string => String(id);
export const updateId = (id: number): string => String(id);
export const componentId = (slug: string): string => slug;

/** An incident's status: its state as Statuspage names it, `postmortem` once a resolved incident's postmortem is out. */
export function incidentStatus(kind: Kind, state: State, postmortemPublished: boolean): string {
  return kind === 'incident' && state === 'resolved' && postmortemPublished ? 'postmortem' : statuspageState(state);
}

/** A maintenance's impact is always `maintenance`; an incident's is its own. */
export function statuspageImpact(kind: Kind, impact: Impact): Impact | 'maintenance' {
  return kind === 'maintenance' ? 'maintenance' : impact;
}

// ——— The objects ———

/** What the mapping reads of one update (UpdateView fits). */
export interface UpdateInput {
  readonly id: number;
  readonly at: string;
  readonly created_at: string;
  readonly state: State;
  readonly message: string;
  readonly statuses: Readonly<Record<string, Status>>;
}

/** What the mapping reads of one incident or maintenance (IncidentView fits). */
export interface EventInput {
  readonly id: number;
  readonly kind: Kind;
  readonly title: string;
  /** The impact its commander set; null: derived from the worst status it declared. */
  readonly impact: Impact | null;
  readonly state: State;
  readonly open: boolean;
  readonly started_at: string;
  readonly resolved_at: string | null;
  readonly updated_at: string;
  readonly scheduled_for: string | null;
  readonly scheduled_until: string | null;
  readonly url: string;
  /** Visible updates, newest first. */
  readonly updates: readonly UpdateInput[];
  readonly postmortem: { readonly published_at: string } | null;
}

/** The page the objects belong to. */
export interface PageContext {
  readonly pageId: string;
  readonly name: string;
  readonly url: string;
  readonly catalog: Catalog;
  /** Each live component's colour now; absent: green. */
  readonly colours: ReadonlyMap<string, Status>;
  /** The newest change (ISO). */
  readonly updatedAt: string;
}

export interface PageObject {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly time_zone: 'Etc/UTC';
  readonly updated_at: string;
}

export interface ComponentObject {
  readonly id: string;
  readonly name: string;
  readonly status: ComponentStatus;
  readonly created_at: string;
  readonly updated_at: string;
  /** The 1-based place in the flattened page order (a group before its members); null for a retired component. */
  readonly position: number | null;
  readonly description: string | null;
  readonly showcase: boolean;
  readonly start_date: string | null;
  readonly group_id: string | null;
  readonly page_id: string;
  readonly group: boolean;
  readonly only_show_if_degraded: boolean;
  /** A group's members' ids. */
  readonly components?: readonly string[];
}

export interface AffectedComponent {
  readonly code: string;
  readonly name: string;
  readonly old_status: ComponentStatus;
  readonly new_status: ComponentStatus;
}

export interface UpdateObject {
  readonly id: string;
  readonly status: string;
  readonly body: string;
  readonly incident_id: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly display_at: string;
  readonly affected_components: readonly AffectedComponent[] | null;
  readonly deliver_notifications: boolean;
  readonly custom_tweet: null;
  readonly tweet_id: null;
  readonly twitter_updated_at: null;
}

export interface IncidentObject {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly monitoring_at: string | null;
  readonly resolved_at: string | null;
  readonly impact: Impact | 'maintenance';
  readonly shortlink: string;
  readonly started_at: string;
  readonly page_id: string;
  readonly incident_updates: readonly UpdateObject[];
  readonly components: readonly ComponentObject[];
}

export interface MaintenanceObject extends IncidentObject {
  readonly scheduled_for: string | null;
  readonly scheduled_until: string | null;
}

export function pageObject(ctx: PageContext): PageObject {
  return { id: ctx.pageId, name: ctx.name, url: ctx.url, time_zone: 'Etc/UTC', updated_at: ctx.updatedAt };
}

/**
 * The live components and groups in page order, flattened (each group, then its members),
 * numbered from 1 in that order. A group is listed as a component with `group: true`, the ids of
 * its members and the worst of their colours.
 */
export function componentObjects(ctx: PageContext): ComponentObject[] {
  const out: ComponentObject[] = [];
  for (const item of pageItems(ctx.catalog)) {
    if ('group' in item) {
      const colour = worstStatus(item.members.map((m) => ctx.colours.get(m.slug) ?? 'green'));
      out.push(groupObject(ctx, item.group, colour, out.length + 1, item.members.map((m) => m.slug)));
      for (const m of item.members) out.push(componentObject(ctx, m, out.length + 1, item.group.slug));
    } else {
      out.push(componentObject(ctx, item.component, out.length + 1, null));
    }
  }
  return out;
}

function componentObject(ctx: PageContext, c: Component, position: number | null, groupId: string | null): ComponentObject {
  return {
    id: componentId(c.slug),
    name: c.name,
    status: COMPONENT_STATUS[c.retired_at === null ? (ctx.colours.get(c.slug) ?? 'green') : 'green'],
    created_at: c.created_at.toISOString(),
    updated_at: c.updated_at.toISOString(),
    position,
    description: c.description,
    showcase: c.showcase,
    start_date: c.start_date,
    group_id: groupId,
    page_id: ctx.pageId,
    group: false,
    only_show_if_degraded: c.only_show_if_degraded,
  };
}

function groupObject(ctx: PageContext, g: ComponentGroup, colour: Status, position: number, members: readonly string[]): ComponentObject {
  return {
    id: componentId(g.slug),
    name: g.name,
    status: COMPONENT_STATUS[colour],
    created_at: g.created_at.toISOString(),
    updated_at: g.updated_at.toISOString(),
    position,
    description: g.description,
    showcase: false,
    start_date: null,
    group_id: null,
    page_id: ctx.pageId,
    group: true,
    only_show_if_degraded: false,
    components: members,
  };
}

/** The page's top-level status from the snapshot: live components' colours and the unresolved incidents' impacts. */
export function pageStatus(ctx: PageContext, unresolvedImpacts: readonly Impact[]): TopLevelStatus {
  const live = componentObjects(ctx).filter((c) => !c.group);
  return topLevelStatus(live.map((c) => ctx.colours.get(c.id) ?? 'green'), unresolvedImpacts);
}

/**
 * Maps incidents and maintenances for one page: components are looked up by slug (retired ones
 * included, since history names them), and the order of a list of components is the page's.
 */
export function eventMapper(ctx: PageContext) {
  const live = componentObjects(ctx);
  const bySlug = new Map(live.filter((c) => !c.group).map((c) => [c.id, c]));
  const order = new Map(live.map((c, i) => [c.id, i]));
  const catalogued = new Map(ctx.catalog.components.map((c) => [c.slug, c]));
  const byPageOrder = (a: string, b: string) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity) || byCodePoint(a, b);

  /** A component as history names it: live as listed, retired (or unknown) with no place on the page. */
  function named(slug: string): ComponentObject {
    const listed = bySlug.get(slug);
    if (listed) return listed;
    const c = catalogued.get(slug);
    if (c) return componentObject(ctx, c, null, null);
    const epoch = new Date(0).toISOString();
    return { id: componentId(slug), name: slug, status: 'operational', created_at: epoch, updated_at: epoch, position: null, description: null, showcase: false, start_date: null, group_id: null, page_id: ctx.pageId, group: false, only_show_if_degraded: false };
  }

  /**
   * What each update changed, oldest first: the colours in force before and after it (a
   * maintenance's colours are in force only while it runs; closing withdraws them all), listed
   * for every component whose colour changed; null when none did.
   */
  function changesOf(e: EventInput): Map<number, AffectedComponent[] | null> {
    const out = new Map<number, AffectedComponent[] | null>();
    let declared: Record<string, Status> = {};
    let before: Readonly<Record<string, Status>> = {};
    for (const u of [...e.updates].reverse()) {
      declared = { ...declared, ...u.statuses };
      if (isClosing(u.state)) declared = Object.fromEntries(Object.keys(declared).map((k) => [k, 'green' as const]));
      const after = isActive(e.kind, u.state) ? declared : {};
      const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
        .filter((slug) => (before[slug] ?? 'green') !== (after[slug] ?? 'green'))
        .sort(byPageOrder)
        .map((slug) => ({ code: componentId(slug), name: named(slug).name, old_status: COMPONENT_STATUS[before[slug] ?? 'green'], new_status: COMPONENT_STATUS[after[slug] ?? 'green'] }));
      out.set(u.id, changed.length ? changed : null);
      before = after;
    }
    return out;
  }

  /** When it last went into monitoring (incidents only), or null. */
  function monitoringAt(e: EventInput): string | null {
    if (e.kind !== 'incident') return null;
    let at: string | null = null;
    let previous: State | undefined;
    for (const u of [...e.updates].reverse()) {
      if (u.state === 'monitoring' && previous !== 'monitoring') at = u.at;
      previous = u.state;
    }
    return at;
  }

  function incident(e: EventInput): IncidentObject {
    const changes = changesOf(e);
    const id = incidentId(e.id);
    const updates = e.updates.map(
      (u): UpdateObject => ({
        id: updateId(u.id),
        status: statuspageState(u.state),
        body: u.message,
        incident_id: id,
        created_at: u.created_at,
        updated_at: u.created_at,
        display_at: u.at,
        affected_components: changes.get(u.id) ?? null,
        deliver_notifications: false,
        custom_tweet: null,
        tweet_id: null,
        twitter_updated_at: null,
      }),
    );
    const declared = e.updates.flatMap((u) => Object.entries(u.statuses));
    const affected = [...new Set(declared.filter(([, s]) => s !== 'green').map(([slug]) => slug))].sort(byPageOrder);
    const createdAt = e.updates.reduce((min, u) => (u.created_at < min ? u.created_at : min), e.updates.at(-1)?.created_at ?? e.started_at);
    return {
      id,
      name: e.title,
      status: incidentStatus(e.kind, e.state, Boolean(e.postmortem)),
      created_at: createdAt,
      updated_at: e.updated_at,
      monitoring_at: monitoringAt(e),
      resolved_at: e.resolved_at,
      impact: statuspageImpact(e.kind, e.impact ?? derivedImpact(declared.map(([, s]) => s))),
      shortlink: e.url,
      started_at: e.started_at,
      page_id: ctx.pageId,
      incident_updates: updates,
      components: affected.map(named),
    };
  }

  return {
    incident,
    maintenance: (e: EventInput): MaintenanceObject => ({ ...incident(e), scheduled_for: e.scheduled_for, scheduled_until: e.scheduled_until }),
  };
}

/** The impact an incident's unresolved presence raises the page with. */
export function impactOf(e: EventInput): Impact {
  return e.impact ?? derivedImpact(e.updates.flatMap((u) => Object.values(u.statuses)));
}
