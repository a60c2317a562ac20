import { Scope } from '../components.tsx';
import { stateWords } from '../format.ts';
import { Time } from '../layout.tsx';
import type { ConsoleMeta, IncidentVM } from '../view.ts';
import { ConsoleLayout } from './layout.tsx';
import { ErrorSummary, FormGuard, TextArea, type Errors } from './forms.tsx';
import { Preview } from './incident-forms.tsx';

export interface PostmortemVM {
  readonly incident: IncidentVM;
  readonly markdown: string;
  readonly savedAt: string | null;
  readonly publishedAt: string | null;
  readonly preview: string | null;
  readonly errors: Errors;
}

/** Writing the postmortem with what it must account for beside it: the scope of impact. */
export function PostmortemPage({ meta, vm }: { meta: ConsoleMeta; vm: PostmortemVM }) {
  const { incident } = vm;
  const base = `/console/incidents/${incident.id}`;
  return (
    <ConsoleLayout meta={meta} title={`Postmortem: ${incident.title}`} wide>
      <p class="muted">
        <a href={base}>← {incident.title}</a>
      </p>
      <h1>Postmortem: {incident.title}</h1>
      <p>
        {vm.publishedAt ? (
          <>
            Published <Time iso={vm.publishedAt} now={meta.page.now} />; saving changes updates the public page.
          </>
        ) : vm.savedAt ? (
          <>
            Draft saved <Time iso={vm.savedAt} now={meta.page.now} />. Not public yet.
          </>
        ) : (
          'Not written yet.'
        )}
      </p>
      <div class="split">
        <div>
          <ErrorSummary errors={vm.errors} labels={{ markdown: 'Postmortem' }} />
          <Preview html={vm.preview} label="Preview" />
          {meta.can.incidents ? (
            <form method="post" action={`${base}/postmortem`} class="stack">
              <FormGuard csrf={meta.csrf} />
              <TextArea
                name="markdown"
                label="Postmortem (Markdown)"
                long
                rows={20}
                value={vm.markdown}
                hint="What happened, the impact (beside this form), the cause, what fixed it, and what will keep it from happening again."
                errors={vm.errors}
              />
              <div class="actions">
                <button type="submit" name="intent" value="save">
                  {vm.publishedAt ? 'Save changes' : 'Save draft'}
                </button>
                <button type="submit" name="intent" value="preview" class="secondary">
                  Preview
                </button>
                {!vm.publishedAt && (
                  <button type="submit" name="intent" value="publish" class="secondary" disabled={incident.open}>
                    Save and publish
                  </button>
                )}
              </div>
              {incident.open && !vm.publishedAt && <p class="hint">It can be published once the incident is resolved (it is {stateWords(incident.state).toLowerCase()}).</p>}
            </form>
          ) : (
            <p class="notice">Your token cannot write postmortems (it lacks the incidents:write scope).</p>
          )}
        </div>
        <aside aria-labelledby="scope-title">
          <h2 id="scope-title">Scope of impact</h2>
          <Scope incident={incident} />
          <p class="muted">
            Began <Time iso={incident.startedAt} now={meta.page.now} withRelative={false} />
            {incident.resolvedAt && (
              <>
                , resolved <Time iso={incident.resolvedAt} now={meta.page.now} withRelative={false} />
              </>
            )}
            . {incident.updates.length} update{incident.updates.length === 1 ? '' : 's'}.
          </p>
        </aside>
      </div>
    </ConsoleLayout>
  );
}
