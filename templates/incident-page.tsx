import { raw } from 'hono/html';
import { stateWords } from './format.ts';
import { Scope, Timeline } from './components.tsx';
import { Layout, Time } from './layout.tsx';
import type { IncidentVM, PageMeta } from './view.ts';

export function IncidentPage({ meta, incident }: { meta: PageMeta; incident: IncidentVM }) {
  const impaired = incident.scope.environments.filter((e) => e.impaired_seconds > 0);
  return (
    <Layout meta={meta} title={`${incident.title} · ${meta.siteName} status`} {...(incident.open ? { live: `/api/v1/incidents/${incident.id}` } : {})}>
      <p class="muted">
        <a href="/">← Current status</a>
      </p>
      <h1>{incident.title}</h1>
      <p>
        <strong>{stateWords(incident.state)}</strong>
        {incident.kind === 'maintenance' ? ' · planned maintenance' : ''} · began <Time iso={incident.startedAt} now={meta.now} />
        {incident.resolvedAt && (
          <>
            {' '}
            · {incident.kind === 'maintenance' ? 'ended' : 'resolved'} <Time iso={incident.resolvedAt} now={meta.now} />
          </>
        )}
      </p>
      {impaired.length > 0 && (
        <p>
          {impaired.map((e, i) => (
            <>
              {i > 0 ? ' · ' : ''}
              <strong>{incident.environmentNames[e.environment] ?? e.environment}</strong> {e.impaired}
            </>
          ))}
          {incident.open ? ' so far' : ''}
        </p>
      )}
      <h2>Scope of impact</h2>
      <Scope incident={incident} />
      <h2>Timeline</h2>
      <Timeline incident={incident} now={meta.now} />
      {incident.postmortemHtml && (
        <section class="postmortem" aria-labelledby="postmortem">
          <h2 id="postmortem">Postmortem</h2>
          {incident.postmortemPublishedAt && (
            <p class="muted">
              Published <Time iso={incident.postmortemPublishedAt} now={meta.now} />
            </p>
          )}
          {/* Sanitized by renderMarkdown before it reached the view model. */}
          <div class="message">{raw(incident.postmortemHtml)}</div>
        </section>
      )}
    </Layout>
  );
}
