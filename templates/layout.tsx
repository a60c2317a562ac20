import type { Child } from 'hono/jsx';
import { relative, utc } from './format.ts';
import type { PageMeta } from './view.ts';

export function Time({ iso, now, withRelative = true }: { iso: string; now: string; withRelative?: boolean }) {
  return (
    <time datetime={iso} title={utc(iso)}>
      {utc(iso)}
      {withRelative && (
        <>
          {' '}
          (<span data-relative={iso}>{relative(iso, now)}</span>)
        </>
      )}
    </time>
  );
}

/** The <head> every page shares (public and console): our one stylesheet and one deferred script. */
export function Head(props: { meta: PageMeta; title: string; children?: Child }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="color-scheme" content="light dark" />
      <title>{props.title}</title>
      <link rel="stylesheet" href={props.meta.cssHref} />
      {props.children}
      <script src={props.meta.jsHref} defer></script>
    </head>
  );
}

/** Every page: skip link, header, the "could not refresh" notice, footer. `live` turns on the refresh script. */
export function Layout(props: { meta: PageMeta; title: string; live?: string; children: Child }) {
  const { meta } = props;
  return (
    <html lang="en">
      <Head meta={meta} title={props.title}>
        <link rel="alternate" type="application/rss+xml" title={`${meta.siteName} status updates`} href="/feed.rss" />
        <link rel="alternate" type="application/atom+xml" title={`${meta.siteName} status updates (Atom)`} href="/feed.atom" />
      </Head>
      <body data-live={props.live}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="site">
          <a class="brand" href="/">
            {meta.siteName} status
          </a>
          <nav aria-label="Site">
            <a href="/history">History</a>
            <a href="/feed.rss">RSS</a>
            {meta.subscribe && <a href="/subscribe">Subscribe</a>}
          </nav>
        </header>
        <main id="main">
          {meta.staleSince && (
            <p class="notice" role="status">
              This page could not be refreshed since <Time iso={meta.staleSince} now={meta.now} />. It shows the status as
              of <Time iso={meta.builtAt} now={meta.now} />.
            </p>
          )}
          {props.children}
        </main>
        <footer class="site">
          <p>
            {meta.lastChange ? (
              <>
                Last updated <Time iso={meta.lastChange} now={meta.now} />.{' '}
              </>
            ) : null}
            Also as <a href="/api/v1/status">JSON</a>, <a href="/feed.rss">RSS</a> and <a href="/feed.atom">Atom</a>; maintenance as a{' '}
            <a href="/maintenance.ics">calendar</a>. Times are in UTC.
          </p>
        </footer>
      </body>
    </html>
  );
}
