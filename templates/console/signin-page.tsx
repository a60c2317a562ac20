import type { ConsoleMeta } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, TextInput, type Errors } from './forms.tsx';

export function SigninPage(props: { meta: ConsoleMeta; next: string; hours: number; errors: Errors; kept?: readonly (readonly [string, string])[] }) {
  const { meta, errors } = props;
  return (
    <ConsoleLayout meta={meta} title="Sign in">
      <h1>Sign in to the console</h1>
      {props.kept && props.kept.length > 0 && <Kept kept={props.kept} />}
      <ErrorSummary errors={errors} labels={{ token: 'API token' }} />
      <form method="post" action="/console/signin" class="stack">
        <FormGuard csrf={meta.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <TextInput
          name="token"
          label="API token"
          type="password"
          value=""
          required
          autocomplete="current-password"
          hint="A token starting hrd_, as made by herald token:create. Or open the one-time sign-in link that command prints."
          errors={errors}
        />
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
      <p class="muted">A session lasts {props.hours} hours, and ends sooner when you sign out or the token is revoked.</p>
    </ConsoleLayout>
  );
}

/** What a commander had typed when the session ran out: nothing was saved, so it is handed back. */
function Kept({ kept }: { kept: readonly (readonly [string, string])[] }) {
  return (
    <section aria-labelledby="kept-title" class="notice red">
      <h2 id="kept-title">Your session had ended, so nothing was saved</h2>
      <p>Here is what you had typed. Copy it, sign in again, and submit it once more.</p>
      {kept.map(([label, value], i) => (
        <div class="field">
          <label for={`kept-${i}`}>{label}</label>
          <textarea id={`kept-${i}`} readonly rows={Math.min(12, Math.max(2, value.split('\n').length + 1))}>
            {value}
          </textarea>
        </div>
      ))}
    </section>
  );
}

/** A one-time link asks before it signs in, so a mail scanner that fetches it uses nothing up. */
export function LinkPage(props: { meta: ConsoleMeta; name: string | null; action: string }) {
  const { meta } = props;
  return (
    <ConsoleLayout meta={meta} title="Sign in">
      {props.name === null ? (
        <>
          <h1>This sign-in link cannot be used</h1>
          <p>It was used already, has expired (links last 15 minutes), or its token was revoked. Make a new one with <code>herald console:link</code> or sign in with your token.</p>
          <p>
            <a href="/console/signin">Sign in with a token</a>
          </p>
        </>
      ) : (
        <>
          <h1>Sign in as {props.name}?</h1>
          <form method="post" action={props.action} class="stack">
            <FormGuard csrf={meta.csrf} />
            <div class="actions">
              <button type="submit">Sign in as {props.name}</button>
            </div>
          </form>
          <p class="muted">The link works once.</p>
        </>
      )}
    </ConsoleLayout>
  );
}

/** A console error: refused, not found, or a form from another site. */
export function ConsoleErrorPage(props: { meta: ConsoleMeta; title: string; message: string }) {
  return (
    <ConsoleLayout meta={props.meta} title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      <p>
        <a href="/console">Back to the console</a>
      </p>
    </ConsoleLayout>
  );
}
