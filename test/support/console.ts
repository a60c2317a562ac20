import type { testApp } from './app.ts';

type TestApp = Awaited<ReturnType<typeof testApp>>;
export type Fields = Record<string, string | readonly string[]>;

/** The value of a hidden/visible input in an HTML page, by name (the first one). */
export function inputValue(html: string, name: string): string | undefined {
  const tag = new RegExp(`<input[^>]*name="${name.replace(/[.]/g, '\\.')}"[^>]*>`).exec(html)?.[0];
  return tag ? decode(/value="([^"]*)"/.exec(tag)?.[1] ?? '') : undefined;
}

/** The text of a page without tags, whitespace squeezed: what a reader sees. */
export const words = (html: string) =>
  html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .replace(/ ([,.;:)])/g, '$1');

const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function encodeForm(fields: Fields): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of typeof v === 'string' ? [v] : v) params.append(k, one);
  return params.toString();
}

/** Cookies from Set-Cookie headers, merged into a jar (a cleared cookie is dropped). */
function absorb(jar: Map<string, string>, headers: Headers) {
  for (const line of headers.getSetCookie()) {
    const [pair = ''] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (value === '' || /max-age=0/i.test(line)) jar.delete(name);
    else jar.set(name, value);
  }
}

/**
 * A browser-like client of the console on a test app: keeps cookies, and sends each form with
 * the CSRF token of the last page it loaded (as a form on that page would).
 */
export function consoleClient(t: TestApp, address = '203.0.113.7') {
  const jar = new Map<string, string>();
  let lastHtml = '';
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await t.app.request(path, { headers: { accept: 'text/html', cookie: cookieHeader(), 'cf-connecting-ip': address, ...headers } });
    absorb(jar, res.headers);
    const html = await res.text();
    if (res.headers.get('content-type')?.includes('text/html')) lastHtml = html;
    return { status: res.status, headers: res.headers, html };
  }

  /** Posts a form; `_csrf` comes from the last page loaded unless the fields give one. */
  async function post(path: string, fields: Fields = {}, headers: Record<string, string> = {}) {
    const csrf = inputValue(lastHtml, '_csrf') ?? '';
    const res = await t.app.request(path, {
      method: 'POST',
      headers: { accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', cookie: cookieHeader(), 'cf-connecting-ip': address, ...headers },
      body: encodeForm({ _csrf: csrf, ...fields }),
    });
    absorb(jar, res.headers);
    const html = await res.text();
    if (res.headers.get('content-type')?.includes('text/html')) lastHtml = html;
    return { status: res.status, headers: res.headers, html, location: res.headers.get('location') };
  }

  /** Signs in with an API token through the sign-in form; throws unless it worked. */
  async function signIn(token: string) {
    await get('/console/signin');
    const res = await post('/console/signin', { token, next: '/console/incidents' });
    if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${res.html.slice(0, 300)}`);
    await get(res.location!);
    return res;
  }

  return { get, post, signIn, jar, get lastHtml() { return lastHtml; } };
}
