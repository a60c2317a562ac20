import { jsx } from 'hono/jsx';

/**
 * Keeps hono/jsx from turning on Node's async hooks for the life of the server.
 *
 * hono/jsx looks for `AsyncLocalStorage` once, at its first render, and then runs every render in
 * it, so that `useContext` still finds a provided value after an `await` in an async component.
 * On Node 20 the first `AsyncLocalStorage.run` turns on async hooks (promise hooks included) for
 * the whole process, and they stay on: every later request, query and promise passes through
 * them, whether it renders or not. Herald's templates are synchronous and use no JSX context, so
 * they render the same without it (hono then keeps its store in a variable during each
 * synchronous render).
 *
 * So the first render happens here, with `node:async_hooks` hidden from hono's probe for that one
 * synchronous call; hono remembers that it found none. Nothing else can run meanwhile. Call it
 * before the process renders anything; afterwards it changes nothing.
 */
export function renderWithoutAsyncHooks(): void {
  const host = process as { getBuiltinModule?: (id: string) => unknown; mainModule?: unknown };
  const getBuiltinModule = host.getBuiltinModule;
  const mainModule = Object.getOwnPropertyDescriptor(host, 'mainModule');
  if (getBuiltinModule) host.getBuiltinModule = (id) => (id === 'node:async_hooks' || id === 'async_hooks' ? undefined : getBuiltinModule.call(process, id));
  if (mainModule) Object.defineProperty(host, 'mainModule', { value: undefined, configurable: true, writable: true });
  try {
    String(jsx('i', {}));
  } finally {
    if (getBuiltinModule) host.getBuiltinModule = getBuiltinModule;
    if (mainModule) Object.defineProperty(host, 'mainModule', mainModule);
  }
}
