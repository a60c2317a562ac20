import { Hono } from 'hono';
import { withCatalog } from '../domain/components.ts';
import type { Context } from 'hono';
import * as q from '../db/queries/incidents.ts';
import { renderMarkdown } from '../render/markdown.ts';
import { incidentById, incidentViews } from '../services/read-model.ts';
import type { Deps } from '../services/deps.ts';
import { ASSETS } from '../../templates/assets.ts';
import { ErrorPage } from '../../templates/error-page.tsx';
import { HistoryPage } from '../../templates/history-page.tsx';
import { IncidentPage } from '../../templates/incident-page.tsx';
import { StatusPage } from '../../templates/status-page.tsx';
import type { HistoryMonthVM } from '../../templates/view.ts';
import { sendCached, type Compressor, type PublicSnapshot } from './cached.ts';
import { incidentVM, pageMeta, statusPageVM } from './view-models.ts';

const HTML = 'text/html; charset=utf-8';
/** Months per history page. */
const MONTHS_PER_PAGE = 3;

const doctype = (jsx: { toString(): string }) => `<!DOCTYPE html>${jsx.toString()}`;

/** An HTML error page in the site's style (404s of pages, 500s of pages). */
export function errorHtml(deps: Deps, status: number): string {
  const meta = pageMeta(deps.config, undefined, deps.clock.now());
  const words =
    status === 404
      ? { title: 'Page not found', message: 'There is nothing at this address. The incident may have a different number, or the link is mistyped.' }
      : status === 503
        ? { title: 'Status not available just now', message: 'The status service cannot reach its database right now, and has no earlier copy of this page to show. Please try again in a minute.' }
        : { title: 'Something went wrong', message: 'This page could not be shown just now. It has been logged; please try again in a moment.' };
  return doctype(<ErrorPage meta={meta} status={status} {...words} />);
}

/** A page of the parts public pages are made of (layout, Markdown), to warm them up with: never served. */
export function samplePage(deps: Deps): string {
  return errorHtml(deps, 404) + renderMarkdown('We are **investigating** errors in `eu-west`:\n\n- see [the runbook](https://status.example.com/runbook)\n\n> retry later');
}

/** The public HTML pages, served from the snapshot. */
export function pageRoutes(deps: Deps, snapshot: PublicSnapshot, compress?: Compressor) {
  const { db, config, clock } = deps;
  const app = new Hono();

  for (const asset of [ASSETS.css, ASSETS.js]) {
    app.get(asset.path, (c) => {
      c.header('Cache-Control', 'public, max-age=31536000, immutable');
      return c.body(asset.body, 200, { 'Content-Type': asset.type });
    });
  }

  app.get('/', (c) =>
    sendCached(c, snapshot, 'page:/', (state) => ({
      type: HTML,
      body: doctype(<StatusPage meta={pageMeta(config, state, clock.now())} vm={statusPageVM(config, state.data)} />),
    }), compress),
  );

  app.get('/incidents/:id', (c) => {
    const raw = c.req.param('id');
    if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) return notFoundPage(c);
    const id = Number(raw);
    return sendCached(c, snapshot, `page:/incidents/${id}`, async (state) => {
      // Open and recent incidents are in the snapshot already; older ones are fetched once per version.
      const { incidents, scheduled } = state.data.status;
      const view =
        [...incidents, ...scheduled, ...state.data.recent].find((v) => v.id === id) ??
        (await snapshot.remember(`incident:${id}`, state, () => incidentById(db, config, id, clock.now())));
      if (!view) return { type: HTML, status: 404, body: errorHtml(deps, 404) };
      return { type: HTML, body: doctype(<IncidentPage meta={pageMeta(config, state, clock.now())} incident={incidentVM(withCatalog(config, state.data.catalog), view)} />) };
    }, compress);
  });

  app.get('/history', (c) => {
    const raw = c.req.query('page') ?? '1';
    if (!/^[1-9]\d{0,3}$/.test(raw)) return notFoundPage(c);
    const page = Number(raw);
    return sendCached(c, snapshot, `page:/history?page=${page}`, async (state) => {
      const now = clock.now();
      const monthStart = (offset: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - offset, 1));
      const first = (page - 1) * MONTHS_PER_PAGE;
      const windowEnd = monthStart(first - 1);
      const windowStart = monthStart(first + MONTHS_PER_PAGE - 1);
      const { views, hasOlder } = await snapshot.remember(`history:${page}`, state, async () => {
        const rows = await q.startedBetween(db, windowStart, windowEnd);
        return { views: await incidentViews(db, config, rows, now), hasOlder: await q.anyStartedBefore(db, windowStart) };
      });
      const months: HistoryMonthVM[] = Array.from({ length: MONTHS_PER_PAGE }, (_, i) => {
        const month = monthStart(first + i).toISOString().slice(0, 7);
        return { month, incidents: views.filter((v) => v.started_at.startsWith(month)).map((v) => incidentVM(withCatalog(config, state.data.catalog), v)) };
      });
      const older = hasOlder ? `/history?page=${page + 1}` : null;
      const newer = page > 1 ? `/history?page=${page - 1}` : null;
      return { type: HTML, body: doctype(<HistoryPage meta={pageMeta(config, state, now)} vm={{ months, page, newer, older }} />) };
    }, compress);
  });

  function notFoundPage(c: Context) {
    return c.html(errorHtml(deps, 404), 404);
  }

  return app;
}
