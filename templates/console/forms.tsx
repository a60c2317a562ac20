import type { Child } from 'hono/jsx';

/** Problems per form field name (the dotted path zod reports: "statuses.production"). */
export type Errors = Readonly<Record<string, readonly string[]>>;

export const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** Every problem at the top, each linking to its field; problems of no one field are listed plain. */
export function ErrorSummary({ errors, labels, idPrefix = '' }: { errors: Errors; labels: Readonly<Record<string, string>>; idPrefix?: string }) {
  const entries = Object.entries(errors).filter(([, list]) => list.length > 0);
  if (entries.length === 0) return null;
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
      <h2 id="error-summary-title">Nothing was saved: please fix {entries.length === 1 ? 'this' : 'these'}</h2>
      <ul>
        {entries.flatMap(([name, list]) =>
          list.map((message) =>
            labels[name] !== undefined ? (
              <li>
                <a href={`#${fieldId(idPrefix + name)}`}>
                  {labels[name]}: {message}
                </a>
              </li>
            ) : (
              <li>{message}</li>
            ),
          ),
        )}
      </ul>
    </div>
  );
}

function FieldError({ name, id, errors }: { name: string; id: string; errors: Errors }) {
  const list = errors[name] ?? [];
  if (list.length === 0) return null;
  return (
    <p class="field-error" id={`${id}-error`}>
      <span class="sr-only">Error: </span>
      {list.join('; ')}
    </p>
  );
}

function described(name: string, id: string, errors: Errors, hint?: string) {
  const ids = [hint ? `${id}-hint` : '', (errors[name] ?? []).length ? `${id}-error` : ''].filter(Boolean);
  return { 'aria-describedby': ids.length ? ids.join(' ') : undefined, 'aria-invalid': (errors[name] ?? []).length ? 'true' : undefined };
}

interface FieldProps {
  readonly name: string;
  readonly label: string;
  readonly errors: Errors;
  readonly hint?: string;
  /** Prefixes the element ids, for a second form on one page with a field of the same name. */
  readonly idPrefix?: string;
}

/** A labelled control: the label, the hint, the error (right above the control, where eyes are). */
function Field(props: FieldProps & { children: (id: string, aria: ReturnType<typeof described>) => Child }) {
  const { name, label, errors, hint } = props;
  const id = fieldId((props.idPrefix ?? '') + name);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldError name={name} id={id} errors={errors} />
      {props.children(id, described(name, id, errors, hint))}
    </div>
  );
}

export function TextInput(props: FieldProps & { value: string; type?: string; required?: boolean; autocomplete?: string; placeholder?: string; inputmode?: 'numeric' | 'decimal' }) {
  return (
    <Field {...props}>
      {(id, aria) => (
        <input
          type={props.type ?? 'text'}
          id={id}
          name={props.name}
          value={props.value}
          required={props.required}
          autocomplete={props.autocomplete ?? 'off'}
          placeholder={props.placeholder}
          inputmode={props.inputmode}
          {...aria}
        />
      )}
    </Field>
  );
}

export function TextArea(props: FieldProps & { value: string; rows?: number; long?: boolean; required?: boolean }) {
  return (
    <Field {...props}>
      {(id, aria) => (
        <textarea id={id} name={props.name} rows={props.rows ?? 6} class={props.long ? 'long' : undefined} required={props.required} {...aria}>
          {props.value}
        </textarea>
      )}
    </Field>
  );
}

export function Select(props: FieldProps & { value: string; options: readonly (readonly [string, string])[] }) {
  return (
    <Field {...props}>
      {(id, aria) => (
        <select id={id} name={props.name} {...aria}>
          {props.options.map(([value, text]) => (
            <option value={value} selected={value === props.value}>
              {text}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Radio buttons (one choice) or checkboxes (several), in a fieldset whose legend names them. */
export function Choices(props: FieldProps & { multiple?: boolean; values: readonly string[]; options: readonly (readonly [string, string])[] }) {
  const { name, label, errors, hint } = props;
  const id = fieldId((props.idPrefix ?? '') + name);
  return (
    <fieldset id={id} {...described(name, id, errors, hint)}>
      <legend>{label}</legend>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      <FieldError name={name} id={id} errors={errors} />
      <div class="choices">
        {props.options.map(([value, text]) => (
          <label>
            <input type={props.multiple ? 'checkbox' : 'radio'} name={name} value={value} checked={props.values.includes(value)} />
            {text}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/**
 * What every console form carries: the CSRF token of the session, and an idempotency key so a
 * double tap or a resubmitted page never posts twice.
 */
export function FormGuard({ csrf, formKey }: { csrf: string; formKey?: string }) {
  return (
    <>
      <input type="hidden" name="_csrf" value={csrf} />
      {formKey !== undefined && <input type="hidden" name="_key" value={formKey} />}
    </>
  );
}

/**
 * "Notify subscribers": checked unless the commander means to write quietly (a typo fixed, a
 * test); unchecked, the write sends the API's `notify: false` and no webhook hears of it.
 */
export function NotifyBox({ checked, idPrefix = '' }: { checked: boolean; idPrefix?: string }) {
  const id = fieldId(`${idPrefix}notify`);
  return (
    <div class="field">
      <label for={id}>
        <input type="checkbox" id={id} name="notify" value="on" checked={checked} aria-describedby={`${id}-hint`} /> Notify subscribers
      </label>
      <p class="hint" id={`${id}-hint`}>
        Webhook subscribers are sent this. Uncheck to post it quietly.
      </p>
    </div>
  );
}

/** A one-button form (sign out, confirm-less small actions). */
export function ButtonForm(props: { action: string; csrf: string; label: string; class?: string; hidden?: Readonly<Record<string, string>>; children?: Child }) {
  return (
    <form method="post" action={props.action} class="inline">
      <FormGuard csrf={props.csrf} />
      {Object.entries(props.hidden ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.class}>
        {props.label}
      </button>
    </form>
  );
}
