import { Layout } from './layout.tsx';
import type { PageMeta } from './view.ts';

/** 404, 500 and friends, in the site's style. Says nothing about internals. */
export function ErrorPage({ meta, status, title, message }: { meta: PageMeta; status: number; title: string; message: string }) {
  return (
    <Layout meta={meta} title={`${title} · ${meta.siteName} status`}>
      <h1>{title}</h1>
      <p>{message}</p>
      <p class="muted">Error {status}.</p>
      <p>
        <a href="/">Go to the current status</a>
      </p>
    </Layout>
  );
}
