import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MODULE = fileURLToPath(new URL('../../src/entry/jsx-context.ts', import.meta.url));

/**
 * In a fresh node process (hono looks for AsyncLocalStorage once per process): optionally
 * `renderWithoutAsyncHooks()` first, then render a context value read synchronously and one read
 * after an `await` in an async component, and report what each saw and what the process still has.
 */
function renderInFreshProcess(hidden: boolean): { sync: string; afterAwait: string; asyncHooks: boolean } {
  const script = `
    import { createContext, jsx, useContext } from 'hono/jsx';
    ${hidden ? `const { renderWithoutAsyncHooks } = await import(${JSON.stringify(MODULE)}); renderWithoutAsyncHooks();` : ''}
    const Value = createContext('default');
    const Now = () => jsx('b', {}, useContext(Value));
    const Later = async () => { await new Promise((r) => setTimeout(r, 1)); return jsx('i', {}, useContext(Value)); };
    const sync = String(jsx(Value.Provider, { value: 'provided' }, jsx(Now, {})));
    const afterAwait = String(await jsx(Value.Provider, { value: 'provided' }, jsx(Later, {})).toString());
    const asyncHooks = typeof process.getBuiltinModule('node:async_hooks')?.AsyncLocalStorage === 'function';
    process.stdout.write(JSON.stringify({ sync, afterAwait, asyncHooks }));
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout) as ReturnType<typeof renderInFreshProcess>;
}

describe('renderWithoutAsyncHooks', () => {
  it('leaves hono/jsx without AsyncLocalStorage: a context read after an await sees the default, where hono alone carries the provided value', () => {
    const alone = renderInFreshProcess(false);
    const hidden = renderInFreshProcess(true);
    expect(alone.afterAwait).toBe('<i>provided</i>');
    expect(hidden.afterAwait).toBe('<i>default</i>');
  });

  it('changes nothing else: synchronous context still renders, and node:async_hooks is there for everyone after', () => {
    const hidden = renderInFreshProcess(true);
    expect(hidden.sync).toBe('<b>provided</b>');
    expect(hidden.asyncHooks).toBe(true);
  });
});
