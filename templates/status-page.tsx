import type { IncidentView, StatusView } from '../src/services/read-model.ts';
import { Layout } from './layout.tsx';

const STATUS_WORDS = { green: 'Operational', yellow: 'Degraded', red: 'Outage', blue: 'Maintenance' } as const;
const stateWords = (s: string) => s.replace(/_/g, ' ');

function Incident({ incident }: { incident: IncidentView }) {
  return (
    <article aria-labelledby={`incident-${incident.id}`}>
      <h3 id={`incident-${incident.id}`}>
        <a href={`/incidents/${incident.id}`}>{incident.title}</a>
      </h3>
      <p class="muted">
        <span class="state">{stateWords(incident.state)}</span> · since <time datetime={incident.started_at}>{incident.started_at.replace('T', ' ').slice(0, 16)} UTC</time>
      </p>
      <ol class="timeline">
        {incident.updates.map((u) => (
          <li id={`update-${u.id}`}>
            <span class="state">{stateWords(u.state)}</span> <time datetime={u.at}>{u.at.replace('T', ' ').slice(0, 16)} UTC</time>
            <p class="message">{u.message}</p>
          </li>
        ))}
      </ol>
    </article>
  );
}

/** The public status page: a pure function of the status view. */
export function StatusPage({ name, status }: { name: string; status: StatusView }) {
  return (
    <Layout title={`${name} status`}>
      <h1>{name} status</h1>
      <ul class="envs" aria-label="Environments">
        {status.environments.map((e) => (
          <li>
            <span>{e.name}</span>
            <span class={`status ${e.status}`}>{STATUS_WORDS[e.status]}</span>
          </li>
        ))}
      </ul>
      <h2>Open incidents</h2>
      {status.incidents.length === 0 ? <p>No open incidents.</p> : status.incidents.map((i) => <Incident incident={i} />)}
      {status.scheduled.length > 0 && (
        <>
          <h2>Scheduled maintenance</h2>
          {status.scheduled.map((i) => <Incident incident={i} />)}
        </>
      )}
      <p class="muted">
        Updated <time datetime={status.updated_at}>{status.updated_at.replace('T', ' ').slice(0, 19)} UTC</time> ·{' '}
        <a href="/api/v1/status">JSON</a>
      </p>
    </Layout>
  );
}
