import { Hono, type Context } from 'hono';
import { clearBody, overrideBody } from '../../services/overrides.ts';
import * as q from '../../db/queries/incidents.ts';
import * as m from '../../db/queries/modes.ts';
import type { OverrideRow } from '../../db/schema.ts';
import { actorLabel, type Deps } from '../../services/deps.ts';
import { loadPlatform, platformModes, type ModeSource, type RoleMode } from '../../services/modes.ts';
import * as overrides from '../../services/overrides.ts';
import { incidentViews } from '../../services/read-model.ts';
import { requireScope } from '../../services/tokens.ts';
import {
  ClearConfirmPage,
  OverrideConfirmPage,
  OverrideFormPage,
  PlatformPage,
  type OutcomeVM,
  type RoleVM,
  type SourceVM,
} from '../../../templates/console/platform-page.tsx';
import type { Errors } from '../../../templates/console/forms.tsx';
import { attempt, consoleMeta, formCommand, newFormKey, optional, page, readForm, seeOther, text, validate } from './kit.ts';
import type { ConsoleEnv } from './session.ts';

/** Where each kind of source can be looked at (and changed) in the console. */
function sourceVM(s: ModeSource): SourceVM {
  const id = s.source.slice(s.source.indexOf(':') + 1);
  const href = s.kind === 'incident' ? `/console/incidents/${id}` : s.kind === 'maintenance' ? `/console/maintenance#m-${id}` : null;
  return { kind: s.kind, mode: s.mode, title: s.title, href, until: s.until };
}

const outcomeOf = (r: RoleMode): OutcomeVM => ({ mode: r.mode, sources: r.sources.map(sourceVM) });

/** /console/platform: each role's effective mode and the manual override, as PUT/DELETE …/override. */
export function consolePlatform(deps: Deps) {
  const { db, config, clock } = deps;
  const app = new Hono<ConsoleEnv>();

  const roleParam = (c: Context<ConsoleEnv>) => overrides.checkRole(deps, c.req.param('role') ?? '');

  async function roleViews(now: Date): Promise<RoleVM[]> {
    const [roles, active, histories] = await Promise.all([
      loadPlatform(db, config, now),
      m.activeOverrides(db),
      Promise.all(config.roles.map((r) => m.modeHistory(db, r, 5))),
    ]);
    return roles.map((r, i) => {
      const o = active.find((x) => x.role === r.role);
      return {
        role: r.role,
        mode: r.mode,
        since: r.since,
        sources: r.sources.map(sourceVM),
        override: o ? { mode: o.mode, reason: o.reason, setBy: o.set_by, setAt: o.set_at.toISOString() } : null,
        history: (histories[i] ?? []).map((h) => ({ from: h.from_mode, to: h.to_mode, at: h.at.toISOString(), cause: h.cause })),
      };
    });
  }

  async function roleView(now: Date, role: string): Promise<RoleVM> {
    return (await roleViews(now)).find((r) => r.role === role)!;
  }

  /**
   * What `role` would be if the active overrides were `change(overrides)`: the same rule gates
   * follow, so the confirmation can say what will hold the role afterwards.
   */
  async function outcome(now: Date, role: string, change: (overrides: OverrideRow[]) => OverrideRow[]): Promise<OutcomeVM> {
    const [open, active, latest] = await Promise.all([q.openIncidents(db).then((rows) => incidentViews(db, config, rows, now)), m.activeOverrides(db), m.latestModeChanges(db, config.roles)]);
    return outcomeOf(platformModes(config, open, change(active), latest).find((r) => r.role === role)!);
  }

  async function overview(c: Context<ConsoleEnv>, errors: Errors = {}, status: 200 | 409 = 200) {
    return page(c, <PlatformPage meta={consoleMeta(c, deps, 'platform')} roles={await roleViews(clock.now())} errors={errors} />, status);
  }

  app.get('/', (c) => overview(c));

  app.post('/:role/override', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const role = roleParam(c);
    const now = clock.now();
    const form = await readForm(c);
    const values = { mode: text(form, 'mode'), reason: text(form, 'reason') };
    const meta = consoleMeta(c, deps, 'platform');
    const showForm = async (errors: Errors, status: 400 | 403 | 404 | 409 | 422) =>
      page(c, <OverrideFormPage meta={meta} role={await roleView(now, role)} values={values} errors={errors} />, status);

    const parsed = validate(overrideBody, { mode: optional(values.mode), reason: values.reason });
    if (!parsed.ok) return showForm(parsed.errors, 400);
    const input = parsed.value;

    if (text(form, 'intent') !== 'confirm') {
      const proposed: OverrideRow = { id: 0, role, mode: input.mode, reason: input.reason, set_at: now, set_by: actorLabel(actor), cleared_at: null, cleared_by: null, clear_reason: null, until: null, refresh_seconds: null };
      const after = await outcome(now, role, (list) => [...list.filter((o) => o.role !== role), proposed]);
      return page(c, <OverrideConfirmPage meta={meta} role={await roleView(now, role)} mode={input.mode} reason={input.reason} outcome={after} formKey={newFormKey()} />);
    }

    const done = await attempt(async () => overrides.setOverride(deps, await formCommand(c, form), role, input));
    if (!done.ok) return showForm(done.errors, done.status);
    return seeOther(c, '/console/platform?done=override-set');
  });

  app.post('/:role/clear', async (c) => {
    const actor = c.get('actor');
    requireScope(actor, 'maintenance:write');
    const role = roleParam(c);
    const now = clock.now();
    const form = await readForm(c);
    const typed = text(form, 'reason');
    const meta = consoleMeta(c, deps, 'platform');

    const showConfirm = async (errors: Errors, status: 200 | 400 | 403 | 404 | 409 | 422) => {
      const after = await outcome(now, role, (list) => list.filter((o) => o.role !== role));
      return page(c, <ClearConfirmPage meta={meta} role={await roleView(now, role)} outcome={after} reason={typed} errors={errors} formKey={newFormKey()} />, status);
    };

    const parsed = validate(clearBody, { reason: optional(typed) });
    if (!parsed.ok) return showConfirm(parsed.errors, 400);
    if (text(form, 'intent') !== 'confirm') {
      // Checked here only: a repeated confirmation must reach the use case, whose idempotency key answers it.
      if (!(await m.activeOverrides(db)).some((o) => o.role === role)) return overview(c, { '(form)': [`Role "${role}" has no manual override to clear.`] }, 409);
      return showConfirm({}, 200);
    }

    const done = await attempt(async () => overrides.clearOverride(deps, await formCommand(c, form), role, parsed.value));
    if (!done.ok) return done.status === 409 ? overview(c, done.errors, 409) : showConfirm(done.errors, done.status);
    return seeOther(c, '/console/platform?done=override-cleared');
  });

  return app;
}
