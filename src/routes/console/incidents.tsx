import { Hono, type Context } from 'hono';
import type { Config } from '../../config.ts';
import * as q from '../../db/queries/incidents.ts';
import { statesOf, type Kind } from '../../domain/vocabulary.ts';
import { AppError } from '../../errors.ts';
import { renderMarkdown } from '../../render/markdown.ts';
import type { Deps } from '../../services/deps.ts';
import * as incidents from '../../services/incidents.ts';
import { incidentViews, type IncidentView } from '../../services/read-model.ts';
import { requireScope } from '../../services/tokens.ts';
import type { Errors } from '../../../templates/console/forms.tsx';
import type { ChoicesVM, UpdateFormVM } from '../../../templates/console/incident-forms.tsx';
import { ConsoleIncidentPage, type Rejected } from '../../../templates/console/incident-page.tsx';
import { IncidentsPage, NewIncidentPage, type IncidentRowVM } from '../../../templates/console/incidents-page.tsx';
import { PostmortemPage } from '../../../templates/console/postmortem-page.tsx';
import { MODE_WORDS, STATUS_WORDS } from '../../../templates/format.ts';
import { idParam } from '../http.ts';
import { incidentVM } from '../view-models.ts';
import { attempt, checkedUnlessPosted, consoleMeta, formCommand, newFormKey, page, readForm, seeOther, text, utcInput, type Form } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

/** Closed incidents per page of the list. */
const CLOSED_PER_PAGE = 25;

/** "1733000000000.42": where a page of closed incidents ends (started_at in ms, id). */
function parseBefore(raw: string | undefined): { at: Date; id: number } | undefined {
  const m = /^(\d{1,15})\.(\d{1,10})$/.exec(raw ?? '');
  return m ? { at: new Date(Number(m[1])), id: Number(m[2]) } : undefined;
}

/** Incidents in the console: the list, opening one, updates, resolving, the title, the postmortem. */
export function consoleIncidents(deps: Deps) {
  const { db, config, clock } = deps;
  const app = new Hono<ConsoleEnv>();

  const choicesFor = (config: Config, kind: Kind): ChoicesVM => ({ states: statesOf(kind), environments: config.environments, roles: config.roles });

  /** The form's values, each environment and role falling back to `baseline` (what the incident says now). */
  function updateForm(config: Config, form: Form, baseline: { state: string; statuses: Readonly<Record<string, string>>; modes: Readonly<Record<string, string>> }): UpdateFormVM {
    const key = text(form, '_key');
    return {
      state: text(form, 'state') || baseline.state,
      message: text(form, 'message'),
      statuses: Object.fromEntries(config.environments.map((e) => [e.slug, text(form, `statuses.${e.slug}`) || (baseline.statuses[e.slug] ?? 'green')])),
      modes: Object.fromEntries(config.roles.map((r) => [r, text(form, `modes.${r}`) || (baseline.modes[r] ?? 'full')])),
      at: text(form, 'at'),
      notify: checkedUnlessPosted(form, 'notify'),
      key: /^[A-Za-z0-9_-]{16,64}$/.test(key) ? key : newFormKey(),
    };
  }

  /** What the update asks for: only the environments and roles it changes from `baseline`. */
  function updateInput(f: UpdateFormVM, baseline: { statuses: Readonly<Record<string, string>>; modes: Readonly<Record<string, string>> }) {
    const changed = (now: Readonly<Record<string, string>>, before: Readonly<Record<string, string>>, rest: string) =>
      Object.fromEntries(Object.entries(now).filter(([k, v]) => v !== (before[k] ?? rest)));
    const statuses = changed(f.statuses, baseline.statuses, 'green');
    const modes = changed(f.modes, baseline.modes, 'full');
    return {
      state: f.state,
      message: f.message,
      ...(Object.keys(statuses).length ? { statuses } : {}),
      ...(Object.keys(modes).length ? { modes } : {}),
      ...(utcInput(f.at) !== undefined ? { at: utcInput(f.at) } : {}),
      ...(f.notify ? {} : { notify: false }),
    };
  }

  const previewOf = (markdown: string) => (markdown.trim() === '' ? '<p><em>Nothing to preview yet: the message is empty.</em></p>' : renderMarkdown(markdown));

  async function viewOf(id: number): Promise<{ view: IncidentView; row: NonNullable<Awaited<ReturnType<typeof q.findIncident>>> }> {
    const row = await q.findIncident(db, id);
    if (!row) throw new AppError('incident.not_found', `Incident ${id} was not found.`);
    const [view] = await incidentViews(db, config, [row], clock.now());
    return { view: view!, row };
  }

  const postmortemState = (row: { postmortem: string | null; postmortem_published_at: Date | null }) =>
    row.postmortem_published_at ? 'published' : row.postmortem !== null ? 'draft' : 'none';

  async function incidentPage(
    c: Context<ConsoleEnv>,
    id: number,
    options: { form?: Form; preview?: string | null; rejected?: Rejected; status?: 200 | 400 | 403 | 404 | 409 | 422 } = {},
  ) {
    const { view, row } = await viewOf(id);
    // Only the update form's own submissions (preview, rejection) come back with what was typed.
    const config = c.get('config');
    const update = updateForm(config, options.form ?? {}, view);
    return page(
      c,
      <ConsoleIncidentPage
        meta={consoleMeta(c, deps, view.kind === 'maintenance' ? 'maintenance' : 'incidents')}
        vm={{
          incident: incidentVM(config, view),
          authors: Object.fromEntries(view.updates.map((u) => [u.id, u.author])),
          choices: choicesFor(config, view.kind),
          update,
          resolveKey: newFormKey(),
          preview: options.preview ?? null,
          rejected: options.rejected ?? null,
          postmortem: postmortemState(row),
        }}
      />,
      options.status ?? 200,
    );
  }

  app.get('/', async (c) => {
    const now = clock.now();
    const before = parseBefore(c.req.query('before'));
    const open = await q.listIncidents(db, { limit: 200, state: 'open', kind: 'incident' });
    const closed = await q.listIncidents(db, { limit: CLOSED_PER_PAGE + 1, state: 'closed', kind: 'incident', ...(before ? { before } : {}) });
    const shown = closed.slice(0, CLOSED_PER_PAGE);
    const views = await incidentViews(db, config, [...open, ...shown], now);
    const live = c.get('config');
    const names = Object.fromEntries([...(live.retired ?? []), ...live.environments].map((e) => [e.slug, e.name]));
    const rowOf = (v: IncidentView, i: number, rows: typeof open): IncidentRowVM => ({
      id: v.id,
      kind: v.kind,
      title: v.title,
      state: v.state,
      open: v.open,
      startedAt: v.started_at,
      resolvedAt: v.resolved_at,
      updatedAt: v.updates[0]?.at ?? v.updated_at,
      impact: [
        ...Object.entries(v.statuses).filter(([, s]) => s !== 'green').map(([e, s]) => `${names[e] ?? e}: ${STATUS_WORDS[s]}`),
        ...Object.entries(v.modes).filter(([, m]) => m !== 'full').map(([r, m]) => `${r}: ${MODE_WORDS[m]}`),
      ].join(' · '),
      postmortem: postmortemState(rows[i]!),
    });
    const last = shown.at(-1);
    return page(
      c,
      <IncidentsPage
        meta={consoleMeta(c, deps, 'incidents')}
        open={views.slice(0, open.length).map((v, i) => rowOf(v, i, open))}
        closed={views.slice(open.length).map((v, i) => rowOf(v, i, shown))}
        older={closed.length > CLOSED_PER_PAGE && last ? `/console/incidents?before=${last.started_at.getTime()}.${last.id}` : null}
        newer={before ? '/console/incidents' : null}
      />,
    );
  });

  function newPage(c: Context<ConsoleEnv>, form: Form, errors: Errors, preview: string | null, status: 200 | 400 | 403 | 404 | 409 | 422 = 200) {
    return page(
      c,
      <NewIncidentPage
        meta={consoleMeta(c, deps, 'incidents')}
        title={text(form, 'title')}
        form={updateForm(c.get('config'), form, { state: 'investigating', statuses: {}, modes: {} })}
        choices={choicesFor(c.get('config'), 'incident')}
        errors={errors}
        preview={preview}
      />,
      status,
    );
  }

  app.get('/new', (c) => {
    requireScope(c.get('actor'), 'incidents:write');
    return newPage(c, {}, {}, null);
  });

  app.post('/', async (c) => {
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const f = updateForm(c.get('config'), form, { state: 'investigating', statuses: {}, modes: {} });
    if (text(form, 'intent') === 'preview') return newPage(c, form, {}, previewOf(f.message));
    const input = { title: text(form, 'title'), ...updateInput(f, { statuses: {}, modes: {} }) };
    const result = await attempt(async () => incidents.openIncident(deps, await formCommand(c, form), input));
    if (!result.ok) return newPage(c, form, result.errors, null, result.status);
    return seeOther(c, `/console/incidents/${result.value.value.id}?done=opened`);
  });

  app.get('/:id', async (c) => incidentPage(c, idParam(c, 'id', 'Incident')));

  app.post('/:id/updates', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const { view } = await viewOf(id);
    const f = updateForm(c.get('config'), form, view);
    if (text(form, 'intent') === 'preview') return incidentPage(c, id, { form, preview: previewOf(f.message) });
    const result = await attempt(async () => incidents.postUpdate(deps, await formCommand(c, form), id, updateInput(f, view)));
    if (!result.ok) return incidentPage(c, id, { form, rejected: { form: 'update', errors: result.errors }, status: result.status });
    return seeOther(c, `/console/incidents/${id}?done=posted#update-${result.value.value.update.id}`);
  });

  app.post('/:id/resolve', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const message = text(form, 'message');
    const notify = text(form, 'notify') !== '';
    const result = await attempt(async () => incidents.postUpdate(deps, await formCommand(c, form), id, { state: 'resolved', message, ...(notify ? {} : { notify: false }) }));
    if (!result.ok) return incidentPage(c, id, { rejected: { form: 'resolve', errors: result.errors, message, notify }, status: result.status });
    return seeOther(c, `/console/incidents/${id}?done=resolved`);
  });

  app.post('/:id/title', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const title = text(form, 'title');
    const result = await attempt(() => incidents.editIncident(deps, { actor: c.get('actor') }, id, { title }));
    if (!result.ok) return incidentPage(c, id, { rejected: { form: 'title', errors: result.errors, title }, status: result.status });
    return seeOther(c, `/console/incidents/${id}?done=titled`);
  });

  app.post('/:id/updates/:updateId/hide', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    const updateId = idParam(c, 'updateId', 'Update');
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const reason = text(form, 'reason');
    const result = await attempt(() => incidents.hideUpdate(deps, { actor: c.get('actor') }, id, updateId, { reason }));
    if (!result.ok) {
      const errors = 'reason' in result.errors ? result.errors : { reason: Object.values(result.errors).flat() };
      return incidentPage(c, id, { rejected: { form: 'hide', errors, updateId, reason }, status: result.status });
    }
    return seeOther(c, `/console/incidents/${id}?done=hidden`);
  });

  async function postmortemPage(c: Context<ConsoleEnv>, id: number, typed?: { markdown: string; preview?: string; errors?: Errors; status?: 200 | 400 | 409 | 422 | 403 | 404 }) {
    const { view, row } = await viewOf(id);
    return page(
      c,
      <PostmortemPage
        meta={consoleMeta(c, deps, 'incidents')}
        vm={{
          incident: incidentVM(c.get('config'), view),
          markdown: typed?.markdown ?? row.postmortem ?? '',
          savedAt: row.postmortem_updated_at?.toISOString() ?? null,
          publishedAt: row.postmortem_published_at?.toISOString() ?? null,
          preview: typed?.preview ?? null,
          errors: typed?.errors ?? {},
        }}
      />,
      typed?.status ?? 200,
    );
  }

  app.get('/:id/postmortem', (c) => postmortemPage(c, idParam(c, 'id', 'Incident')));

  app.post('/:id/postmortem', async (c) => {
    const id = idParam(c, 'id', 'Incident');
    requireScope(c.get('actor'), 'incidents:write');
    const form = await readForm(c);
    const markdown = text(form, 'markdown');
    const intent = text(form, 'intent');
    if (intent === 'preview') return postmortemPage(c, id, { markdown, preview: previewOf(markdown) });
    const result = await attempt(() => incidents.savePostmortem(deps, { actor: c.get('actor') }, id, { markdown }, { publish: intent === 'publish' }));
    if (!result.ok) return postmortemPage(c, id, { markdown, errors: { markdown: Object.values(result.errors).flat() }, status: result.status });
    const done = intent === 'publish' ? 'published' : result.value.value.published_at ? 'saved' : 'draft';
    return seeOther(c, `/console/incidents/${id}/postmortem?done=${done}`);
  });

  return app;
}
