import type { Child } from 'hono/jsx';
import { Choices, ErrorSummary, TextInput, type Errors } from './console/forms.tsx';
import { Layout } from './layout.tsx';
import type { PageMeta } from './view.ts';

/**
 * The public subscription pages: sign up, confirm, manage, unsubscribe. Plain forms that work
 * without JavaScript; every action that changes something is a POST behind a button, so that a
 * mail scanner following a link changes nothing.
 */

export interface ComponentChoice {
  readonly slug: string;
  readonly name: string;
}

const LABELS = { email: 'Email address', components: 'Components' };

export function SubscribePage(props: { meta: PageMeta; components: readonly ComponentChoice[]; values: { email: string; components: readonly string[] }; errors: Errors }) {
  const { meta, components, values, errors } = props;
  return (
    <Layout meta={meta} title={`Subscribe · ${meta.siteName} status`}>
      <h1>Get status updates by email</h1>
      <p>
        We send a mail when an incident or a maintenance is posted or updated. First we send you a link to confirm the address; nothing else
        comes until you do. Every mail has a link to change what you follow or to unsubscribe.
      </p>
      <ErrorSummary errors={errors} labels={LABELS} />
      <form method="post" action="/subscribe" class="stack">
        <TextInput name="email" label={LABELS.email} type="email" autocomplete="email" required value={values.email} errors={errors} />
        <Choices
          name="components"
          label={LABELS.components}
          hint="Only these; none checked means everything, including components added later."
          multiple
          values={values.components}
          options={components.map((c) => [c.slug, c.name] as const)}
          errors={errors}
        />
        <div class="actions">
          <button type="submit">Subscribe</button>
        </div>
      </form>
    </Layout>
  );
}

export function MessagePage(props: { meta: PageMeta; title: string; children: Child }) {
  return (
    <Layout meta={props.meta} title={`${props.title} · ${props.meta.siteName} status`}>
      <h1>{props.title}</h1>
      {props.children}
      <p>
        <a href="/">Go to the current status</a>
      </p>
    </Layout>
  );
}

/** A page whose one button does what the link was for (confirm, unsubscribe). */
export function ActionPage(props: { meta: PageMeta; title: string; text: string; action: string; button: string }) {
  return (
    <Layout meta={props.meta} title={`${props.title} · ${props.meta.siteName} status`}>
      <h1>{props.title}</h1>
      <p>{props.text}</p>
      <form method="post" action={props.action}>
        <button type="submit">{props.button}</button>
      </form>
    </Layout>
  );
}

export function ManagePage(props: {
  meta: PageMeta;
  email: string;
  action: string;
  unsubscribe: string;
  components: readonly ComponentChoice[];
  following: readonly string[] | null;
  errors: Errors;
  notice?: string | undefined;
}) {
  const { meta, components, following, errors } = props;
  return (
    <Layout meta={meta} title={`Your subscription · ${meta.siteName} status`}>
      <h1>Your subscription</h1>
      {props.notice && (
        <p class="notice ok" role="status">
          {props.notice}
        </p>
      )}
      <p>
        Status updates go to <strong>{props.email}</strong>.
      </p>
      <ErrorSummary errors={errors} labels={LABELS} />
      <form method="post" action={props.action} class="stack">
        <Choices
          name="components"
          label={LABELS.components}
          hint="Only these; none checked means everything, including components added later."
          multiple
          values={following ?? []}
          options={components.map((c) => [c.slug, c.name] as const)}
          errors={errors}
        />
        <div class="actions">
          <button type="submit">Save</button>
        </div>
      </form>
      <h2>Unsubscribe</h2>
      <p>No more mail from {meta.siteName}: your address is removed.</p>
      <form method="post" action={props.unsubscribe}>
        <button type="submit" class="secondary">
          Unsubscribe
        </button>
      </form>
    </Layout>
  );
}
