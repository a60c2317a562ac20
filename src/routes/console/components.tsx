import { Hono, type Context } from 'hono';
import { byPosition, type Catalog } from '../../domain/components.ts';
import * as components from '../../services/components.ts';
import type { Deps } from '../../services/deps.ts';
import { requireScope } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import {
  ComponentEditPage,
  ComponentsPage,
  GroupEditPage,
  type ComponentValues,
  type ComponentVM,
  type GroupValues,
  type GroupVM,
  type ItemVM,
} from '../../../templates/console/components-page.tsx';
import { attempt, consoleMeta, formCommand, newFormKey, page, readForm, seeOther, text, type Form } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

type Status = 200 | 400 | 403 | 404 | 409 | 422;

const NOTICES: Readonly<Record<string, string>> = {
  'component-added': 'Component added. It is on the status page now.',
  'component-saved': 'Component saved. The status page shows it now.',
  'component-moved': 'Component moved.',
  'component-retired': 'Component retired. Its incidents and bars stay; restore it to bring it back.',
  'component-restored': 'Component restored, last among its siblings.',
  'group-added': 'Group added. Edit a component to put it in the group.',
  'group-saved': 'Group saved.',
  'group-moved': 'Group moved.',
  'group-retired': 'Group retired.',
  'group-restored': 'Group restored, last among the top-level items.',
};

const EMPTY_COMPONENT: ComponentValues = { slug: '', name: '', description: '', group: '', only_show_if_degraded: false, start_date: '' };
const EMPTY_GROUP: GroupValues = { slug: '', name: '', description: '' };

const keys = () => ({ up: newFormKey(), down: newFormKey(), retire: newFormKey(), restore: newFormKey() });

function componentValues(form: Form): ComponentValues {
  return {
    slug: text(form, 'slug').trim(),
    name: text(form, 'name'),
    description: text(form, 'description'),
    group: text(form, 'group'),
    only_show_if_degraded: text(form, 'only_show_if_degraded') !== '',
    start_date: text(form, 'start_date').trim(),
  };
}

const groupValues = (form: Form): GroupValues => ({ slug: text(form, 'slug').trim(), name: text(form, 'name'), description: text(form, 'description') });

/** The page as the console shows it: top-level items in page order, each with what its buttons may do. */
function pageView(catalog: Catalog, active: Parameters<typeof components.componentList>[1]) {
  const all = components.componentList(catalog, active, true);
  const groups = components.groupList(catalog, active, true);
  const liveGroups = groups.filter((g) => g.retired_at === null);
  const live = all.filter((c) => c.retired_at === null);
  const top = [...liveGroups.map((g) => ({ kind: 'group' as const, slug: g.slug, position: g.position })), ...live.filter((c) => c.group === null).map((c) => ({ kind: 'component' as const, slug: c.slug, position: c.position }))].sort(byPosition);
  const componentVM = (c: components.ComponentView, first: boolean, last: boolean): ComponentVM => ({ ...c, canUp: !first, canDown: !last, keys: keys() });
  const groupVM = (g: components.GroupView, first: boolean, last: boolean): GroupVM => {
    const members = live.filter((c) => c.group === g.slug);
    return { ...g, members: members.map((c, i) => componentVM(c, i === 0, i === members.length - 1)), canUp: !first, canDown: !last, keys: keys() };
  };
  const items: ItemVM[] = top.map((t, i) => {
    const first = i === 0;
    const last = i === top.length - 1;
    return t.kind === 'group' ? { group: groupVM(liveGroups.find((g) => g.slug === t.slug)!, first, last) } : { component: componentVM(live.find((c) => c.slug === t.slug)!, first, last) };
  });
  return {
    items,
    retired: {
      components: all.filter((c) => c.retired_at !== null).map((c) => componentVM(c, true, true)),
      groups: groups.filter((g) => g.retired_at !== null).map((g) => groupVM(g, true, true)),
    },
    groups: liveGroups.map((g) => [g.slug, g.name] as const),
  };
}

/**
 * /console/components: the components and groups in page order, with forms to add, edit, move
 * up or down, retire and restore them; /console/component-groups/… for a group's own forms. Any
 * session may look; changing needs components:write (or admin). The same use cases as the API.
 */
export function consoleComponents(deps: Deps) {
  const app = new Hono<ConsoleEnv>();

  const canWrite = (c: Context<ConsoleEnv>) => {
    const { scopes } = c.get('actor');
    return scopes.includes('admin') || scopes.includes('components:write');
  };
  const writer = (c: Context<ConsoleEnv>) => requireScope(c.get('actor'), 'components:write');
  const meta = (c: Context<ConsoleEnv>) => ({ ...consoleMeta(c, deps, 'components'), notice: NOTICES[c.req.query('done') ?? ''] });

  async function overview(
    c: Context<ConsoleEnv>,
    options: { errors?: Errors; add?: { values: ComponentValues; errors: Errors }; addGroup?: { values: GroupValues; errors: Errors }; status?: Status } = {},
  ) {
    const { catalog, active } = await components.catalogNow(deps);
    return page(
      c,
      <ComponentsPage
        meta={meta(c)}
        {...pageView(catalog, active)}
        canWrite={canWrite(c)}
        errors={options.errors ?? {}}
        add={{ values: options.add?.values ?? EMPTY_COMPONENT, errors: options.add?.errors ?? {}, formKey: newFormKey() }}
        addGroup={{ values: options.addGroup?.values ?? EMPTY_GROUP, errors: options.addGroup?.errors ?? {}, formKey: newFormKey() }}
      />,
      options.status ?? 200,
    );
  }

  app.get('/components', (c) => overview(c));

  app.post('/components', async (c) => {
    writer(c);
    const form = await readForm(c);
    const values = componentValues(form);
    const body = {
      slug: values.slug,
      name: values.name,
      ...(values.description.trim() !== '' ? { description: values.description } : {}),
      ...(values.group !== '' ? { group: values.group } : {}),
      only_show_if_degraded: values.only_show_if_degraded,
      ...(values.start_date !== '' ? { start_date: values.start_date } : {}),
    };
    const done = await attempt(async () => components.createComponent(deps, await formCommand(c, form), body));
    if (!done.ok) return overview(c, { add: { values, errors: done.errors }, status: done.status });
    return seeOther(c, `/console/components?done=component-added#component-${done.value.value.slug}`);
  });

  /** The edit form of a live component (a retired one is restored first: 409 page). */
  async function editPage(c: Context<ConsoleEnv>, slug: string, values?: ComponentValues, errors: Errors = {}, status: Status = 200) {
    const { catalog } = await components.catalogNow(deps);
    const current = components.findComponent(catalog, slug);
    if (current.retired_at !== null) return overview(c, { errors: { '(form)': [`Component "${slug}" is retired: restore it first.`] }, status: 409 });
    const shown = values ?? {
      slug,
      name: current.name,
      description: current.description ?? '',
      group: current.group ?? '',
      only_show_if_degraded: current.only_show_if_degraded,
      start_date: current.start_date ?? '',
    };
    const groups = catalog.groups.filter((g) => g.retired_at === null).map((g) => [g.slug, g.name] as const);
    return page(c, <ComponentEditPage meta={meta(c)} slug={slug} values={shown} errors={errors} groups={groups} formKey={newFormKey()} />, status);
  }

  app.get('/components/:slug/edit', (c) => editPage(c, c.req.param('slug')));

  app.post('/components/:slug', async (c) => {
    writer(c);
    const slug = c.req.param('slug');
    const form = await readForm(c);
    const values = { ...componentValues(form), slug };
    const body = {
      name: values.name,
      description: values.description,
      group: values.group === '' ? null : values.group,
      only_show_if_degraded: values.only_show_if_degraded,
      start_date: values.start_date === '' ? null : values.start_date,
    };
    const done = await attempt(async () => components.updateComponent(deps, await formCommand(c, form), slug, body));
    if (!done.ok) return done.status === 404 || done.status === 409 ? overview(c, { errors: done.errors, status: done.status }) : editPage(c, slug, values, done.errors, done.status);
    return seeOther(c, `/console/components?done=component-saved#component-${slug}`);
  });

  /** Move up or down one place among its siblings. */
  app.post('/components/:slug/move', async (c) => {
    writer(c);
    const slug = c.req.param('slug');
    const form = await readForm(c);
    const { catalog } = await components.catalogNow(deps);
    const current = components.findComponent(catalog, slug);
    const position = Math.max(1, current.position + (text(form, 'direction') === 'up' ? -1 : 1));
    const done = await attempt(async () => components.updateComponent(deps, await formCommand(c, form), slug, { position }));
    if (!done.ok) return overview(c, { errors: done.errors, status: done.status });
    return seeOther(c, `/console/components?done=component-moved#component-${slug}`);
  });

  for (const [action, done] of [['retire', 'component-retired'], ['restore', 'component-restored']] as const) {
    app.post(`/components/:slug/${action}`, async (c) => {
      writer(c);
      const slug = c.req.param('slug');
      const form = await readForm(c);
      const write = action === 'retire' ? components.retireComponent : components.restoreComponent;
      const result = await attempt(async () => write(deps, await formCommand(c, form), slug, {}));
      if (!result.ok) return overview(c, { errors: result.errors, status: result.status });
      return seeOther(c, `/console/components?done=${done}#component-${slug}`);
    });
  }

  app.post('/component-groups', async (c) => {
    writer(c);
    const form = await readForm(c);
    const values = groupValues(form);
    const body = { slug: values.slug, name: values.name, ...(values.description.trim() !== '' ? { description: values.description } : {}) };
    const done = await attempt(async () => components.createGroup(deps, await formCommand(c, form), body));
    if (!done.ok) return overview(c, { addGroup: { values, errors: done.errors }, status: done.status });
    return seeOther(c, `/console/components?done=group-added#group-${done.value.value.slug}`);
  });

  async function groupEditPage(c: Context<ConsoleEnv>, slug: string, values?: GroupValues, errors: Errors = {}, status: Status = 200) {
    const { catalog } = await components.catalogNow(deps);
    const current = components.findGroup(catalog, slug);
    if (current.retired_at !== null) return overview(c, { errors: { '(form)': [`Group "${slug}" is retired: restore it first.`] }, status: 409 });
    const shown = values ?? { slug, name: current.name, description: current.description ?? '' };
    return page(c, <GroupEditPage meta={meta(c)} slug={slug} values={shown} errors={errors} formKey={newFormKey()} />, status);
  }

  app.get('/component-groups/:slug/edit', (c) => groupEditPage(c, c.req.param('slug')));

  app.post('/component-groups/:slug', async (c) => {
    writer(c);
    const slug = c.req.param('slug');
    const form = await readForm(c);
    const values = { ...groupValues(form), slug };
    const done = await attempt(async () => components.updateGroup(deps, await formCommand(c, form), slug, { name: values.name, description: values.description }));
    if (!done.ok) return done.status === 404 || done.status === 409 ? overview(c, { errors: done.errors, status: done.status }) : groupEditPage(c, slug, values, done.errors, done.status);
    return seeOther(c, `/console/components?done=group-saved#group-${slug}`);
  });

  app.post('/component-groups/:slug/move', async (c) => {
    writer(c);
    const slug = c.req.param('slug');
    const form = await readForm(c);
    const { catalog } = await components.catalogNow(deps);
    const current = components.findGroup(catalog, slug);
    const position = Math.max(1, current.position + (text(form, 'direction') === 'up' ? -1 : 1));
    const done = await attempt(async () => components.updateGroup(deps, await formCommand(c, form), slug, { position }));
    if (!done.ok) return overview(c, { errors: done.errors, status: done.status });
    return seeOther(c, `/console/components?done=group-moved#group-${slug}`);
  });

  for (const [action, done] of [['retire', 'group-retired'], ['restore', 'group-restored']] as const) {
    app.post(`/component-groups/:slug/${action}`, async (c) => {
      writer(c);
      const slug = c.req.param('slug');
      const form = await readForm(c);
      const write = action === 'retire' ? components.retireGroup : components.restoreGroup;
      const result = await attempt(async () => write(deps, await formCommand(c, form), slug, {}));
      if (!result.ok) return overview(c, { errors: result.errors, status: result.status });
      return seeOther(c, `/console/components?done=${done}#group-${slug}`);
    });
  }

  return app;
}
