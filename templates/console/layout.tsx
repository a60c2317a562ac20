import type { Child } from 'hono/jsx';
import { Head } from '../layout.tsx';
import type { ConsoleMeta } from '../view.ts';
import { FormGuard } from './forms.tsx';

const SECTIONS = [
  ['incidents', '/console/incidents', 'Incidents'],
  ['platform', '/console/platform', 'Platform modes'],
  ['maintenance', '/console/maintenance', 'Maintenance'],
  ['components', '/console/components', 'Components'],
  ['webhooks', '/console/webhooks', 'Webhooks'],
  ['alerts', '/console/alerts', 'Alerts'],
  ['subscribers', '/console/subscribers', 'Subscribers'],
  ['tokens', '/console/tokens', 'Tokens'],
] as const;

/** Sections only an admin session may open. */
const ADMIN_ONLY: readonly string[] = ['webhooks', 'alerts', 'subscribers', 'tokens'];

/** Every console page: the same stylesheet as the public site, the console's own navigation. */
export function ConsoleLayout(props: { meta: ConsoleMeta; title: string; wide?: boolean; children: Child }) {
  const { meta } = props;
  return (
    <html lang="en">
      <Head meta={meta.page} title={`${props.title} · ${meta.page.siteName} console`}>
        <meta name="robots" content="noindex" />
      </Head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <a class="brand" href="/console">
            {meta.page.siteName} console
          </a>
          {meta.actor !== null && (
            <nav aria-label="Console">
              <ul class="console-nav">
                {SECTIONS.filter(([id]) => !ADMIN_ONLY.includes(id) || meta.can.admin).map(([id, href, label]) => (
                  <li>
                    <a href={href} aria-current={meta.section === id ? 'page' : undefined}>
                      {label}
                    </a>
                  </li>
                ))}
                <li>
                  <a href="/">Public page</a>
                </li>
                <li>
                  <form method="post" action="/console/signout" class="inline">
                    <FormGuard csrf={meta.csrf} />
                    <button type="submit" class="link">
                      Sign out {meta.actor}
                    </button>
                  </form>
                </li>
              </ul>
            </nav>
          )}
        </header>
        <main id="main" class={props.wide ? 'wide' : undefined}>
          {meta.notice && (
            <p class="notice ok" role="status">
              {meta.notice}
            </p>
          )}
          {props.children}
        </main>
      </body>
    </html>
  );
}
