/**
 * Components as data: Herald's environments (Heroku's systems, Statuspage's components), their
 * groups, and the one order every surface lists them in. Pure: the rows come from
 * src/db/queries/environments.ts.
 */
import { byCodePoint } from './order.ts';

export interface Component {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  /** The slug of its group, or null. */
  readonly group: string | null;
  /** Among the top-level items (groups and ungrouped components), or within its group. */
  readonly position: number;
  readonly only_show_if_degraded: boolean;
  readonly showcase: boolean;
  /** YYYY-MM-DD: the first day its bars and uptime count; null: as far back as there is history. */
  readonly start_date: string | null;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly retired_at: Date | null;
}

export interface ComponentGroup {
  readonly slug: string;
  readonly name: string;
  readonly description: string | null;
  readonly position: number;
  readonly created_at: Date;
  readonly updated_at: Date;
  readonly retired_at: Date | null;
}

/** Every component and group, retired ones included (history still names them). */
export interface Catalog {
  readonly components: readonly Component[];
  readonly groups: readonly ComponentGroup[];
}

/** A top-level item of the page: a group with its live members in order, or an ungrouped component. */
export type Item = { readonly group: ComponentGroup; readonly members: readonly Component[] } | { readonly component: Component };

/** Page order: by position, then by slug. */
export const byPosition = <T extends { readonly position: number; readonly slug: string }>(a: T, b: T) => a.position - b.position || byCodePoint(a.slug, b.slug);

/**
 * The live (not retired) items in page order: groups and ungrouped components by position
 * together, each group's members by position within it. A group without live members is left
 * out; a component whose group is retired is shown ungrouped, where its group was.
 */
export function pageItems(catalog: Catalog): Item[] {
  const liveGroups = new Map(catalog.groups.filter((g) => g.retired_at === null).map((g) => [g.slug, g]));
  const members = new Map<string, Component[]>();
  const top: ({ position: number; slug: string } & ({ group: ComponentGroup } | { component: Component }))[] = [];
  for (const c of catalog.components) {
    if (c.retired_at !== null) continue;
    const group = c.group === null ? undefined : liveGroups.get(c.group);
    if (group) {
      const list = members.get(group.slug);
      if (list) list.push(c);
      else members.set(group.slug, [c]);
    } else {
      const orphan = c.group === null ? undefined : catalog.groups.find((g) => g.slug === c.group);
      top.push({ position: orphan ? orphan.position : c.position, slug: orphan ? `${orphan.slug}/${c.slug}` : c.slug, component: c });
    }
  }
  for (const g of liveGroups.values()) if (members.has(g.slug)) top.push({ position: g.position, slug: g.slug, group: g });
  return top.sort(byPosition).map((t) => ('group' in t ? { group: t.group, members: members.get(t.group.slug)!.sort(byPosition) } : { component: t.component }));
}

/** The live components in page order (groups flattened). */
export function liveComponents(catalog: Catalog): Component[] {
  return pageItems(catalog).flatMap((i) => ('group' in i ? i.members : [i.component]));
}

/** Display names of every component, retired ones included: history names them. */
export function componentNames(catalog: Catalog): Map<string, string> {
  return new Map(catalog.components.map((c) => [c.slug, c.name]));
}

/** The configuration as the components in `catalog` make it: live environments in page order, and the retired ones. */
export function withCatalog<C extends { readonly environments: readonly { slug: string; name: string }[] }>(config: C, catalog: Catalog): C & { readonly retired: readonly { slug: string; name: string }[] } {
  return {
    ...config,
    environments: liveComponents(catalog).map((c) => ({ slug: c.slug, name: c.name })),
    retired: catalog.components.filter((c) => c.retired_at !== null).map((c) => ({ slug: c.slug, name: c.name })),
  };
}
