import { monthName } from './format.ts';
import { IncidentSummary } from './components.tsx';
import { Layout } from './layout.tsx';
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
                <IncidentSummary incident={i} now={meta.now} />
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
