import type { ConsoleMeta } from '../view.ts';
import { utc } from '../format.ts';
import { ConsoleLayout } from './layout.tsx';
import { ButtonForm, Choices, ErrorSummary, FormGuard, TextInput, type Errors } from './forms.tsx';

/** One API token as the console lists it (never its secret: Herald keeps only its SHA-256). */
export interface TokenVM {
  readonly id: number;
  readonly name: string;
  readonly scopes: readonly string[];
  readonly created_at: string;
  readonly created_by: string;
  readonly last_used_at: string | null;
  readonly revoked_at: string | null;
  /** The token this session signed in with. */
  readonly self: boolean;
}

export interface TokenFormValues {
  readonly name: string;
  readonly scopes: readonly string[];
}

const SCOPE_LABELS: Readonly<Record<string, string>> = {
  'incidents:write': 'incidents:write — open and update incidents, publish postmortems',
  'maintenance:write': 'maintenance:write — platform modes and maintenance',
  'components:write': 'components:write — add, edit, reorder and retire components',
  'alerts:write': 'alerts:write — send alerts from Alertmanager or Grafana',
  admin: 'admin — everything, including tokens',
};

const LABELS = { name: 'Name', scopes: 'Scopes' };

export function TokensPage(props: { meta: ConsoleMeta; tokens: readonly TokenVM[]; scopes: readonly string[]; values: TokenFormValues; errors: Errors }) {
  const { meta, errors } = props;
  return (
    <ConsoleLayout meta={meta} title="API tokens" wide>
      <h1>API tokens</h1>
      <div class="split">
        <section aria-labelledby="tokens-title">
          <h2 id="tokens-title">Tokens</h2>
          <TokenTable tokens={props.tokens} csrf={meta.csrf} />
        </section>
        <section aria-labelledby="create-title">
          <h2 id="create-title">Create a token</h2>
          <ErrorSummary errors={errors} labels={LABELS} />
          <form method="post" action="/console/tokens" class="stack">
            <FormGuard csrf={meta.csrf} />
            <TextInput name="name" label={LABELS.name} value={props.values.name} required errors={errors} hint="Who or what uses it. It is the author of their updates." />
            <Choices
              name="scopes"
              label={LABELS.scopes}
              multiple
              values={props.values.scopes}
              options={props.scopes.map((s) => [s, SCOPE_LABELS[s] ?? s] as const)}
              errors={errors}
            />
            <div class="actions">
              <button type="submit">Create token</button>
            </div>
          </form>
          <p class="muted">The secret is shown once, with a one-time link to sign in to this console. Herald keeps only a hash of it.</p>
        </section>
      </div>
    </ConsoleLayout>
  );
}

function TokenTable({ tokens, csrf }: { tokens: readonly TokenVM[]; csrf: string }) {
  if (tokens.length === 0) return <p>No tokens.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Scopes</th>
          <th scope="col">Created</th>
          <th scope="col">Last used</th>
          <th scope="col">State</th>
          <th scope="col">
            <span class="sr-only">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr id={`token-${t.id}`}>
            <td>
              {t.name}
              {t.self && <span class="muted"> (you)</span>}
            </td>
            <td>{t.scopes.join(', ')}</td>
            <td>
              {utc(t.created_at)}
              <br />
              <span class="muted">by {t.created_by}</span>
            </td>
            <td>{t.last_used_at ? utc(t.last_used_at) : 'never'}</td>
            <td>{t.revoked_at ? `revoked ${utc(t.revoked_at)}` : 'active'}</td>
            <td>{t.revoked_at === null && <ButtonForm action={`/console/tokens/${t.id}/revoke`} csrf={csrf} label={`Revoke ${t.name}`} class="secondary" />}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** After creating a token: its secret, once, and a one-time sign-in link for whoever will hold it. */
export function TokenCreatedPage(props: { meta: ConsoleMeta; token: TokenVM; secret: string; signinUrl: string; publicUrl: string; linkMinutes: number }) {
  const { meta, token } = props;
  return (
    <ConsoleLayout meta={meta} title="Token created">
      <h1>Token created: {token.name}</h1>
      <p class="notice ok" role="status">
        Copy the secret now. It is shown only this once: Herald keeps a hash of it, not the secret itself.
      </p>
      <div class="field">
        <label for="f-secret">Secret of {token.name} (scopes: {token.scopes.join(', ')})</label>
        <input type="text" id="f-secret" class="secret" readonly value={props.secret} autocomplete="off" spellcheck={false} />
      </div>
      <p>
        For the command line: <code>export HERALD_URL={props.publicUrl} HERALD_TOKEN=</code> followed by the secret.
      </p>
      <h2>One-time sign-in link</h2>
      <p>
        Send this to whoever holds the token. It signs them in to this console once, within {props.linkMinutes} minutes; after that they sign in
        with the secret.
      </p>
      <div class="field">
        <label for="f-link">Sign-in link</label>
        <input type="text" id="f-link" class="secret" readonly value={props.signinUrl} autocomplete="off" spellcheck={false} />
      </div>
      <p>
        <a href="/console/tokens">Back to the tokens</a>
      </p>
    </ConsoleLayout>
  );
}

/** The first step of revoking: what it will break, and the button that does it. */
export function RevokeConfirmPage(props: { meta: ConsoleMeta; token: TokenVM }) {
  const { meta, token } = props;
  return (
    <ConsoleLayout meta={meta} title={`Revoke ${token.name}?`}>
      <h1>Revoke {token.name}?</h1>
      <p>Scripts and sessions using it stop working. This cannot be undone; make a new token if it is needed again.</p>
      {token.self && (
        <p class="notice red">
          <strong>This is the token you are signed in with:</strong> revoking it signs you out.
        </p>
      )}
      <form method="post" action={`/console/tokens/${token.id}/revoke`} class="stack">
        <FormGuard csrf={meta.csrf} />
        <input type="hidden" name="intent" value="confirm" />
        <div class="actions">
          <button type="submit" class="danger">
            Revoke {token.name}
          </button>
          <a class="button secondary" href="/console/tokens">
            Cancel
          </a>
        </div>
      </form>
    </ConsoleLayout>
  );
}
