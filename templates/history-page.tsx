import { monthName, stateWords } from './format.ts';
import { Layout, Time } from './layout.tsx';
import type { HistoryPageVM, PageMeta } from './view.ts';

export function HistoryPage({ meta, vm }: { meta: PageMeta; vm: HistoryPageVM }) {
  return (
    <Layout meta={meta} title={`History · ${meta.siteName} status`}>
      <h1>Incident history</h1>
      {vm.months.map((m) => (
        <section aria-labelledby={`m-${m.month}`}>
          <h2 id={`m-${m.month}`}>{monthName(m.month)}</h2>
          {m.incidents.length === 0 ? (
            <p class="muted">No incidents reported.</p>
          ) : (
            <ul>
              {m.incidents.map((i) => (
                <li>
                  <a href={`/incidents/${i.id}`}>{i.title}</a> — {stateWords(i.state)}, <Time iso={i.startedAt} now={meta.now} withRelative={false} />
                  {i.scope.environments.filter((e) => e.impaired_seconds > 0).length > 0 && (
                    <span class="muted">
                      {' '}
                      ·{' '}
                      {i.scope.environments
                        .filter((e) => e.impaired_seconds > 0)
                        .map((e) => `${i.environmentNames[e.environment] ?? e.environment} ${e.impaired}`)
                        .join(', ')}
                    </span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
      <nav class="pages" aria-label="History pages">
        {vm.newer ? <a href={vm.newer}>← Newer</a> : <span></span>}
        {vm.older ? <a href={vm.older}>Older →</a> : <span></span>}
      </nav>
    </Layout>
  );
}
