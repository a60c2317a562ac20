import { MODE_WORDS, STATUS_WORDS } from './format.ts';
import { IncidentCard, IncidentSummary, Status } from './components.tsx';
import { Layout } from './layout.tsx';
import type { EnvironmentVM, PageMeta, StatusPageVM } from './view.ts';

function summary(vm: StatusPageVM): { text: string; colour: string } {
  const worst = (['red', 'orange', 'yellow', 'blue'] as const).map((s) => vm.environments.find((e) => e.status === s)).find((e) => e !== undefined);
  if (!worst) return { text: 'All systems operational', colour: 'green' };
  const hit = vm.environments.filter((e) => e.status !== 'green').map((e) => `${e.name}: ${STATUS_WORDS[e.status]}`);
  return { text: hit.join(' · '), colour: worst.status };
}

/** One environment: its name, status, description, and its 90-day bars (empty before its start date). */
function Environment({ e }: { e: EnvironmentVM }) {
  const bars = e.bars;
  return (
    <>
      <div class="env-head">
        <strong>{e.name}</strong>
        <Status status={e.status} />
      </div>
      {e.description && <p class="env-desc">{e.description}</p>}
      {bars && (
        // A figure is named by its caption and screen readers announce it; the name of a
        // list (aria-label on <ol>) is ignored by many of them.
        <figure class="days">
          <figcaption class="sr-only">
            {e.name}, last {bars.days.length} days
          </figcaption>
          <ol class="bars">
            {bars.days.map((d) =>
              d.tracked ? (
                <li class={`s-${d.status}`} title={`${d.date}: ${STATUS_WORDS[d.status]}, ${d.uptime}% uptime`}>
                  <span class="sr-only">
                    {d.date}: {STATUS_WORDS[d.status]}
                    {d.redSeconds > 0 ? `, ${Math.ceil(d.redSeconds / 60)} minutes of outage` : ''}
                    {d.orangeSeconds > 0 ? `, ${Math.ceil(d.orangeSeconds / 60)} minutes of partial outage` : ''}
                    {d.yellowSeconds > 0 ? `, ${Math.ceil(d.yellowSeconds / 60)} minutes degraded` : ''}
                    {d.blueSeconds > 0 ? `, ${Math.ceil(d.blueSeconds / 60)} minutes of maintenance` : ''}.
                  </span>
                </li>
              ) : (
                <li class="s-none" title={`${d.date}: no data`}>
                  <span class="sr-only">{d.date}: no data.</span>
                </li>
              ),
            )}
          </ol>
          <p class="bar-legend">
            <span>{bars.days.length} days ago</span>
            <span>{bars.uptime}% uptime</span>
            <span>Today</span>
          </p>
        </figure>
      )}
    </>
  );
}

/** The public status page: a pure function of its view model. */
export function StatusPage({ meta, vm }: { meta: PageMeta; vm: StatusPageVM }) {
  const s = summary(vm);
  const restricted = vm.modes.filter((m) => m.mode !== 'full');
  const incidents = vm.open.filter((i) => i.kind === 'incident');
  const running = vm.open.filter((i) => i.kind === 'maintenance');
  return (
    <Layout meta={meta} title={`${meta.siteName} status`} live="/api/v1/status">
      <h1 class="sr-only">{meta.siteName} status</h1>
      <p class={`summary ${s.colour}`} role="status">
        {s.text}
      </p>
      {restricted.map((m) => (
        <p class={`notice ${m.mode === 'maintenance' ? 'red' : ''}`}>
          <strong>
            The {m.role} API is {MODE_WORDS[m.mode]}.
          </strong>{' '}
          {m.mode === 'read_only' ? 'Reads work; changes are refused until this ends.' : 'Requests are refused until this ends.'}
        </p>
      ))}
      <h2 id="environments">Environments</h2>
      <ul class="envs">
        {vm.items.map((item) =>
          'environment' in item ? (
            <li>
              <Environment e={item.environment} />
            </li>
          ) : (
            // A group folds without JavaScript (<details>), and is open while a member is not operational.
            <li class="group">
              <details open={item.group.open}>
                <summary class="env-head">
                  <strong>{item.group.name}</strong>
                  <Status status={item.group.status} />
                </summary>
                {item.group.description && <p class="env-desc">{item.group.description}</p>}
                <ul class="envs members">
                  {item.members.map((e) => (
                    <li>
                      <Environment e={e} />
                    </li>
                  ))}
                </ul>
              </details>
            </li>
          ),
        )}
      </ul>

      <h2>Open incidents</h2>
      {incidents.length === 0 ? <p>No open incidents.</p> : incidents.map((i) => <IncidentCard incident={i} now={meta.now} />)}

      {running.length > 0 && (
        <>
          <h2>Maintenance in progress</h2>
          {running.map((i) => (
            <IncidentCard incident={i} now={meta.now} />
          ))}
        </>
      )}

      {vm.scheduled.length > 0 && (
        <>
          <h2>Scheduled maintenance</h2>
          {vm.scheduled.map((i) => (
            <IncidentCard incident={i} now={meta.now} />
          ))}
        </>
      )}

      <h2>Recent incidents</h2>
      {vm.recent.length === 0 ? (
        <p>No incidents reported.</p>
      ) : (
        <ul>
          {vm.recent.map((i) => (
            <IncidentSummary incident={i} now={meta.now} />
          ))}
        </ul>
      )}
      <p>
        <a href="/history">Incident history</a>
      </p>
    </Layout>
  );
}
