import { raw } from 'hono/html';
import { STATUS_WORDS, stateWords } from '../format.ts';
import { NotifyBox, Select, TextArea, TextInput, type Errors } from './forms.tsx';

/** What an update form holds: the current values to start with, or what was typed. */
export interface UpdateFormVM {
  readonly state: string;
  readonly message: string;
  /** Per environment slug and per role: the selected value. */
  readonly statuses: Readonly<Record<string, string>>;
  readonly modes: Readonly<Record<string, string>>;
  /** datetime-local in UTC, '' for now. */
  readonly at: string;
  /** Send it to subscribers (webhooks); false posts it quietly. */
  readonly notify: boolean;
  /** Idempotency key of this form (a resubmission posts nothing twice). */
  readonly key: string;
}

export interface ChoicesVM {
  readonly states: readonly string[];
  readonly environments: readonly { readonly slug: string; readonly name: string }[];
  readonly roles: readonly string[];
}

export const UPDATE_LABELS = (choices: ChoicesVM): Record<string, string> => ({
  title: 'Title',
  state: 'State',
  message: 'Message',
  at: 'When',
  ...Object.fromEntries(choices.environments.map((e) => [`statuses.${e.slug}`, `${e.name} status`])),
  ...Object.fromEntries(choices.roles.map((r) => [`modes.${r}`, `${r} mode`])),
});

const STATUS_OPTIONS = (['green', 'yellow', 'orange', 'red', 'blue'] as const).map((s) => [s, STATUS_WORDS[s]] as const);
const MODE_OPTIONS = [
  ['full', 'Full: everything works'],
  ['read_only', 'Read-only: writes refused'],
  ['maintenance', 'Maintenance: everything refused'],
] as const;

/**
 * The fields of an update (and of a new incident): state, message, each environment's status and
 * each role's mode, preselected with what the incident says now, and an optional earlier time.
 */
export function UpdateFields({ form, choices, errors }: { form: UpdateFormVM; choices: ChoicesVM; errors: Errors }) {
  return (
    <>
      <Select name="state" label="State" value={form.state} options={choices.states.map((s) => [s, stateWords(s)] as const)} errors={errors} />
      <TextArea
        name="message"
        label="Message"
        value={form.message}
        rows={7}
        required
        hint="Markdown: **bold**, lists, links. Say what users see, what you are doing, and when you will update next."
        errors={errors}
      />
      <fieldset>
        <legend>Environments</legend>
        <div class="grid2">
          {choices.environments.map((e) => (
            <Select name={`statuses.${e.slug}`} label={e.name} value={form.statuses[e.slug] ?? 'green'} options={STATUS_OPTIONS} errors={errors} />
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>Platform API modes</legend>
        <p class="hint">What each role may do while this incident is open. Read-only refuses writes; maintenance refuses everything.</p>
        <div class="grid2">
          {choices.roles.map((r) => (
            <Select name={`modes.${r}`} label={r} value={form.modes[r] ?? 'full'} options={MODE_OPTIONS} errors={errors} />
          ))}
        </div>
      </fieldset>
      <NotifyBox checked={form.notify} />
      <details class="more" open={form.at !== '' || (errors.at ?? []).length > 0}>
        <summary>Backdate this update</summary>
        <TextInput name="at" label="When (UTC)" type="datetime-local" value={form.at} hint="Leave empty for now. Updates can be backdated, never post-dated." errors={errors} />
      </details>
    </>
  );
}

/** The rendered Markdown of a message, before it is posted. */
export function Preview({ html, label }: { html: string | null; label: string }) {
  if (html === null) return null;
  return (
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">{label}</h2>
      {/* Sanitized by renderMarkdown in the route before it reached the template. */}
      <div class="message">{raw(html)}</div>
    </section>
  );
}
