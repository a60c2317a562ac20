import { Time } from '../layout.tsx';
import { MODE_WORDS } from '../format.ts';
import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ButtonForm, Choices, ErrorSummary, FormGuard, TextInput, type Errors } from './forms.tsx';

/** One thing holding a role in its mode; `href` leads to where it can be changed. */
export interface SourceVM {
  readonly kind: 'override' | 'incident' | 'maintenance';
  readonly mode: string;
  readonly title: string;
  readonly href: string | null;
  readonly until: string | null;
}

export interface OverrideVM {
  readonly mode: 'read_only' | 'maintenance';
  readonly reason: string;
  readonly setBy: string;
  readonly setAt: string;
}

export interface ModeChangeVM {
  readonly from: string;
  readonly to: string;
  readonly at: string;
  readonly cause: string;
}

export interface RoleVM {
  readonly role: string;
  readonly mode: string;
  readonly since: string | null;
  readonly sources: readonly SourceVM[];
  /** The manual override in force, even when something stricter decides the mode. */
  readonly override: OverrideVM | null;
  readonly history: readonly ModeChangeVM[];
}

/** What the role will be once the write is done, worked out before it is. */
export interface OutcomeVM {
  readonly mode: string;
  readonly sources: readonly SourceVM[];
}

export type OverrideMode = 'read_only' | 'maintenance';

const OVERRIDE_OPTIONS = [
  ['read_only', 'Read-only: reads pass, writes are refused'],
  ['maintenance', 'Maintenance: every request is refused'],
] as const;

/** What the gate does to a role's traffic in a mode, in the words of the confirmation. */
export function refusalWords(role: string, mode: OverrideMode): string {
  return mode === 'read_only'
    ? `${role} will refuse writes (POST, PUT, PATCH, DELETE get 503 read_only); reads pass.`
    : `${role} will refuse every request with 503 maintenance; browsers see the maintenance page.`;
}

const KIND_WORDS = { override: 'Manual override', incident: 'Incident', maintenance: 'Maintenance' } as const;

function SourceItem({ source, override, now }: { source: SourceVM; override?: OverrideVM | null; now: string }) {
  return (
    <li>
      {KIND_WORDS[source.kind]} ({MODE_WORDS[source.mode] ?? source.mode}): {source.href ? <a href={source.href}>{source.title}</a> : <q>{source.title}</q>}
      {source.kind === 'override' && override && (
        <>
          , set by {override.setBy} at <Time iso={override.setAt} now={now} />
        </>
      )}
      {source.until && (
        <>
          {' '}
          until <Time iso={source.until} now={now} />
        </>
      )}
    </li>
  );
}

function Sources({ sources, override, now }: { sources: readonly SourceVM[]; override?: OverrideVM | null; now: string }) {
  return (
    <ul>
      {sources.map((s) => (
        <SourceItem source={s} override={override} now={now} />
      ))}
    </ul>
  );
}

function OverrideFacts({ override, now }: { override: OverrideVM; now: string }) {
  return (
    <p>
      Manual override: <strong>{MODE_WORDS[override.mode]}</strong>, set by {override.setBy} at <Time iso={override.setAt} now={now} />. Reason: <q>{override.reason}</q>
    </p>
  );
}

/** The compact set-override form shown for every role; its ids carry the role so several fit on one page. */
function SetOverrideForm({ role, csrf }: { role: RoleVM; csrf: string }) {
  const id = `role-${role.role}`;
  return (
    <form method="post" action={`/console/platform/${role.role}/override`} class="stack">
      <FormGuard csrf={csrf} />
      <input type="hidden" name="intent" value="review" />
      <fieldset>
        <legend>{role.override ? `Replace the override on ${role.role}` : `Set an override on ${role.role}`}</legend>
        <div class="choices">
          {OVERRIDE_OPTIONS.map(([value, label]) => (
            <label>
              <input type="radio" name="mode" value={value} required />
              {label}
            </label>
          ))}
        </div>
      </fieldset>
      <div class="field">
        <label for={`${id}-reason`}>Reason</label>
        <p class="hint" id={`${id}-reason-hint`}>
          Public: anyone reading /api/v1/platform sees it.
        </p>
        <input type="text" id={`${id}-reason`} name="reason" value="" required autocomplete="off" aria-describedby={`${id}-reason-hint`} />
      </div>
      <div class="actions">
        <button type="submit">Review…</button>
      </div>
    </form>
  );
}

function RoleSection({ role, meta }: { role: RoleVM; meta: ConsoleMeta }) {
  const now = meta.page.now;
  return (
    <section id={`role-${role.role}`} aria-labelledby={`role-${role.role}-title`}>
      <h2 id={`role-${role.role}-title`}>
        {role.role}: {MODE_WORDS[role.mode] ?? role.mode}
      </h2>
      <p class="muted">{role.since ? <>Since <Time iso={role.since} now={now} /></> : 'No change of mode recorded.'}</p>
      {role.sources.length > 0 ? (
        <>
          <p>Held by:</p>
          <Sources sources={role.sources} override={role.override} now={now} />
        </>
      ) : (
        <p>Nothing holds it.</p>
      )}
      {role.override && (
        <>
          {/* an override less strict than what holds the role is not among its sources, but is still in force */}
          {!role.sources.some((s) => s.kind === 'override') && <OverrideFacts override={role.override} now={now} />}
          {meta.can.maintenance && <ButtonForm action={`/console/platform/${role.role}/clear`} csrf={meta.csrf} label="Clear override…" class="secondary" hidden={{ intent: 'review' }} />}
        </>
      )}
      {meta.can.maintenance && <SetOverrideForm role={role} csrf={meta.csrf} />}
      {role.history.length > 0 && (
        <details class="more">
          <summary>Recent changes of {role.role}</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Change</th>
                <th scope="col">Cause</th>
              </tr>
            </thead>
            <tbody>
              {role.history.map((h) => (
                <tr>
                  <td>
                    <Time iso={h.at} now={now} withRelative={false} />
                  </td>
                  <td>
                    {MODE_WORDS[h.from] ?? h.from} → {MODE_WORDS[h.to] ?? h.to}
                  </td>
                  <td>{h.cause}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </section>
  );
}

/** Every role's effective mode, what holds it, and (with maintenance:write) the manual switch. */
export function PlatformPage(props: { meta: ConsoleMeta; roles: readonly RoleVM[]; errors?: Errors }) {
  const { meta } = props;
  return (
    <ConsoleLayout meta={meta} title="Platform modes">
      <h1>Platform modes</h1>
      <ErrorSummary errors={props.errors ?? {}} labels={{}} />
      <p class="muted">
        Each role's effective mode is the strictest of its manual override, the modes declared by open incidents and those of running maintenance. Gates and workers follow it within seconds.
      </p>
      {!meta.can.maintenance && <p class="notice">Your token lacks the maintenance:write scope, so you can look but not change modes.</p>}
      {props.roles.map((role) => (
        <RoleSection role={role} meta={meta} />
      ))}
    </ConsoleLayout>
  );
}

/** The set-override form alone, shown again with its problems beside the fields. */
export function OverrideFormPage(props: { meta: ConsoleMeta; role: RoleVM; values: { mode: string; reason: string }; errors: Errors }) {
  const { meta, role, errors } = props;
  return (
    <ConsoleLayout meta={meta} title={`Override on ${role.role}`}>
      <h1>Set an override on {role.role}</h1>
      <ErrorSummary errors={errors} labels={{ mode: 'Mode', reason: 'Reason' }} />
      <p>
        {role.role} is {MODE_WORDS[role.mode] ?? role.mode} now.
      </p>
      {role.override && <OverrideFacts override={role.override} now={meta.page.now} />}
      <form method="post" action={`/console/platform/${role.role}/override`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <input type="hidden" name="intent" value="review" />
        <Choices name="mode" label="Mode" values={[props.values.mode]} options={OVERRIDE_OPTIONS} errors={errors} />
        <TextInput name="reason" label="Reason" value={props.values.reason} required hint="Public: anyone reading /api/v1/platform sees it." errors={errors} />
        <div class="actions">
          <button type="submit">Review…</button>
          <a href="/console/platform">Cancel</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}

/** Nothing is written yet: says what the override will refuse, and asks once more. */
export function OverrideConfirmPage(props: { meta: ConsoleMeta; role: RoleVM; mode: OverrideMode; reason: string; outcome: OutcomeVM; formKey: string }) {
  const { meta, role, mode, outcome } = props;
  const now = meta.page.now;
  return (
    <ConsoleLayout meta={meta} title={`Confirm override on ${role.role}`}>
      <h1>
        Put {role.role} {mode === 'read_only' ? 'in read-only mode' : 'in maintenance'}?
      </h1>
      <p class="notice red">{refusalWords(role.role, mode)}</p>
      <p>
        Reason: <q>{props.reason}</q>
      </p>
      {role.override && (
        <p>
          This replaces the override in force ({MODE_WORDS[role.override.mode]}, <q>{role.override.reason}</q>, set by {role.override.setBy} at <Time iso={role.override.setAt} now={now} />
          ).
        </p>
      )}
      {outcome.mode !== mode && (
        <>
          <p>Something stricter holds {role.role}: it stays {MODE_WORDS[outcome.mode] ?? outcome.mode} until that ends, then the override applies. Held by:</p>
          <Sources sources={outcome.sources.filter((s) => s.kind !== 'override')} now={now} />
        </>
      )}
      <form method="post" action={`/console/platform/${role.role}/override`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <input type="hidden" name="mode" value={mode} />
        <input type="hidden" name="reason" value={props.reason} />
        <input type="hidden" name="intent" value="confirm" />
        <div class="actions">
          <button type="submit" class={mode === 'maintenance' ? 'danger' : undefined}>
            Confirm: put {role.role} {mode === 'read_only' ? 'in read-only mode' : 'in maintenance'}
          </button>
          <a href="/console/platform">Cancel</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}

/** Clearing asks first too, naming whatever would still hold the role. */
export function ClearConfirmPage(props: { meta: ConsoleMeta; role: RoleVM; outcome: OutcomeVM; reason: string; errors: Errors; formKey: string }) {
  const { meta, role, outcome, errors } = props;
  const now = meta.page.now;
  return (
    <ConsoleLayout meta={meta} title={`Clear override on ${role.role}`}>
      <h1>Clear the override on {role.role}?</h1>
      <ErrorSummary errors={errors} labels={{ reason: 'Reason' }} />
      {role.override && <OverrideFacts override={role.override} now={now} />}
      {outcome.mode === 'full' ? (
        <p class="notice ok">{role.role} returns to fully available: no open incident or running maintenance holds it.</p>
      ) : (
        <>
          <p class="notice">
            {role.role} stays {MODE_WORDS[outcome.mode] ?? outcome.mode}: it is also held by these, and returns to full only when they end.
          </p>
          <Sources sources={outcome.sources} now={now} />
        </>
      )}
      <form method="post" action={`/console/platform/${role.role}/clear`} class="stack">
        <FormGuard csrf={meta.csrf} formKey={props.formKey} />
        <input type="hidden" name="intent" value="confirm" />
        <TextInput name="reason" label="Reason (optional)" value={props.reason} hint="Kept in the override's history." errors={errors} />
        <div class="actions">
          <button type="submit">Confirm: clear the override</button>
          <a href="/console/platform">Cancel</a>
        </div>
      </form>
    </ConsoleLayout>
  );
}
