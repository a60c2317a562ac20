import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, TextInput, type Errors } from './forms.tsx';

/**
 * The first run's setup link: it asks before it acts (a link previewer that fetches it changes
 * nothing), then makes the first admin token.
 */
export function SetupPage(props: { meta: ConsoleMeta; action: string; name: string; errors: Errors }) {
  const { meta, errors } = props;
  return (
    <ConsoleLayout meta={meta} title="Set up Herald">
      <h1>Set up Herald</h1>
      <p>Herald has no API token yet. This makes the first one, with every scope (admin), and signs you in to the console with it.</p>
      <ErrorSummary errors={errors} labels={{ name: 'Name' }} />
      <form method="post" action={props.action} class="stack">
        <FormGuard csrf={meta.csrf} />
        <TextInput name="name" label="Name" value={props.name} required errors={errors} hint="Who holds the token, e.g. your name. It is the author of your updates." />
        <div class="actions">
          <button type="submit">Create the admin token</button>
        </div>
      </form>
      <p class="muted">The link works until Herald has a token, however it was made.</p>
    </ConsoleLayout>
  );
}

/** A setup link after setup, or a wrong one. */
export function SetupClosedPage(props: { meta: ConsoleMeta }) {
  return (
    <ConsoleLayout meta={props.meta} title="Setup is done">
      <h1>This setup link cannot be used</h1>
      <p>
        Herald already has an API token, so setup is over (or the link is wrong). Sign in with a token, or ask an admin for one: <code>herald token:create --remote</code>{' '}
        or the console's Tokens page.
      </p>
      <p>
        <a href="/console/signin">Sign in with a token</a>
      </p>
    </ConsoleLayout>
  );
}

/** The first token, shown once; the visitor is already signed in with it. */
export function SetupDonePage(props: { meta: ConsoleMeta; name: string; secret: string; publicUrl: string }) {
  return (
    <ConsoleLayout meta={props.meta} title="Herald is set up">
      <h1>Herald is set up</h1>
      <p class="notice ok" role="status">
        You are signed in as {props.name}. Copy the token now: it is shown only this once (Herald keeps a hash of it), and it is how you sign in again and use
        the command line.
      </p>
      <div class="field">
        <label for="f-secret">API token of {props.name} (admin)</label>
        <input type="text" id="f-secret" class="secret" readonly value={props.secret} autocomplete="off" spellcheck={false} />
      </div>
      <p>
        For the command line: <code>export HERALD_URL={props.publicUrl} HERALD_TOKEN=</code> followed by the token. More tokens:{' '}
        <code>herald token:create --remote</code> or the Tokens page.
      </p>
      <p>
        <a class="button" href="/console/incidents">
          Continue to the console
        </a>
      </p>
    </ConsoleLayout>
  );
}
