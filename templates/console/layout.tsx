import type { Child } from 'hono/jsx';
import type { ConsoleMeta } from '../view.ts';
import { FormGuard } from './forms.tsx';

const SECTIONS = [
  ['incidents', '/console/incidents', 'Incidents'],
  ['platform', '/console/platform', 'Platform modes'],
  ['maintenance', '/console/maintenance', 'Maintenance'],
  ['tokens', '/console/tokens', 'Tokens'],
] as const;

/** Every console page: the same stylesheet as the public site, the console's own navigation. */
export function ConsoleLayout(props: { meta: ConsoleMeta; title: string; wide?: boolean; children: Child }) {
  const { meta } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="robots" content="noindex" />
        <title>{`${props.title} · ${meta.page.siteName} console`}</title>
        <link rel="stylesheet" href={meta.page.cssHref} />
        <script src={meta.page.jsHref} defer></script>
      </head>
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
                {SECTIONS.filter(([id]) => id !== 'tokens' || meta.can.admin).map(([id, href, label]) => (
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
