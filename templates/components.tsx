import { raw } from 'hono/html';
import { MODE_WORDS, STATUS_WORDS, stateWords } from './format.ts';
import { Time } from './layout.tsx';
import type { IncidentVM, StatusColour } from './view.ts';

export function Status({ status }: { status: StatusColour }) {
  return <span class={`status ${status}`}>{STATUS_WORDS[status]}</span>;
}

/** The timeline, newest first, each update with a permanent anchor. */
export function Timeline({ incident, now, link }: { incident: IncidentVM; now: string; link?: boolean }) {
  return (
    <ol class="timeline">
      {incident.updates.map((u) => (
        <li id={`update-${u.id}`}>
          <span class="state">{stateWords(u.state)}</span> — <Time iso={u.at} now={now} />
          <a class="anchor" href={link ? `/incidents/${incident.id}#update-${u.id}` : `#update-${u.id}`} aria-label={`Link to the ${stateWords(u.state)} update at ${u.at}`}>
            #
          </a>
          {/* Sanitized by renderMarkdown before it reached the view model. */}
          <div class="message">{raw(u.html)}</div>
          {(u.statuses.length > 0 || u.modes.length > 0) && (
            <p class="tags">
              {incident.kind === 'maintenance' && u.state === 'scheduled' ? 'While in progress: ' : ''}
              {u.statuses.map((s) => `${s.name}: ${STATUS_WORDS[s.status]}`).join(' · ')}
              {u.statuses.length > 0 && u.modes.length > 0 ? ' · ' : ''}
              {u.modes.map((m) => `${m.role}: ${MODE_WORDS[m.mode] ?? m.mode}`).join(' · ')}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}

/** Per-environment impaired time and per-role restricted time, in words. */
export function Scope({ incident }: { incident: IncidentVM }) {
  const envs = incident.scope.environments.filter((e) => e.impaired_seconds > 0);
  const roles = incident.scope.roles.filter((r) => r.read_only_seconds > 0 || r.maintenance_seconds > 0);
  if (envs.length === 0 && roles.length === 0) return <p class="muted">No environment was impaired and the API stayed fully available.</p>;
  return (
    <table>
      <caption class="sr-only">Scope of impact</caption>
      <thead>
        <tr>
          <th scope="col">Affected</th>
          <th scope="col">For</th>
          <th scope="col">Detail</th>
        </tr>
      </thead>
      <tbody>
        {envs.map((e) => (
          <tr>
            <th scope="row">{incident.environmentNames[e.environment] ?? e.environment}</th>
            <td>{e.impaired}</td>
            <td>
              {[
                e.red_seconds ? `outage ${fmt(e.red_seconds)}` : '',
                e.yellow_seconds ? `degraded ${fmt(e.yellow_seconds)}` : '',
                e.blue_seconds ? `maintenance ${fmt(e.blue_seconds)}` : '',
              ]
                .filter(Boolean)
                .join(', ')}
            </td>
          </tr>
        ))}
        {roles.map((r) => (
          <tr>
            <th scope="row">API {r.role}</th>
            <td>{r.restricted}</td>
            <td>
              {[r.maintenance_seconds ? `in maintenance ${r.maintenance}` : '', r.read_only_seconds ? `read-only ${r.read_only}` : ''].filter(Boolean).join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function fmt(seconds: number): string {
  const m = Math.floor(seconds / 60);
  if (m === 0) return `${seconds} s`;
  const h = Math.floor(m / 60);
  return h ? `${h} h ${m % 60} min` : `${m} min`;
}

/** One incident as a card: title link, state, timeline. */
export function IncidentCard({ incident, now }: { incident: IncidentVM; now: string }) {
  return (
    <article class="incident" aria-labelledby={`incident-${incident.id}`}>
      <h3 id={`incident-${incident.id}`}>
        <a href={`/incidents/${incident.id}`}>{incident.title}</a>
      </h3>
      <p class="muted">
        {stateWords(incident.state)}
        {incident.kind === 'maintenance' && incident.scheduledFor ? (
          <>
            {' '}
            · scheduled <Time iso={incident.scheduledFor} now={now} />
            {incident.scheduledUntil ? (
              <>
                {' '}
                until <Time iso={incident.scheduledUntil} now={now} withRelative={false} />
              </>
            ) : null}
          </>
        ) : (
          <>
            {' '}
            · began <Time iso={incident.startedAt} now={now} />
          </>
        )}
      </p>
      <Timeline incident={incident} now={now} link />
    </article>
  );
}

/** One line of a list of past incidents: title, state, start, and which environments were impaired for how long. */
export function IncidentSummary({ incident: i, now }: { incident: IncidentVM; now: string }) {
  const impaired = i.scope.environments.filter((e) => e.impaired_seconds > 0);
  return (
    <li>
      <a href={`/incidents/${i.id}`}>{i.title}</a> — {stateWords(i.state)}, <Time iso={i.startedAt} now={now} withRelative={false} />
      {impaired.length > 0 && (
        <span class="muted">
          {' '}
          · {impaired.map((e) => `${i.environmentNames[e.environment] ?? e.environment} ${e.impaired}`).join(', ')}
        </span>
      )}
    </li>
  );
}
