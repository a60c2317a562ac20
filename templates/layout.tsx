import type { Child } from 'hono/jsx';

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1d1d1f;--muted:#5f6368;--line:#d9dce1;--green:#137333;--yellow:#8a5a00;--red:#b3261e;--blue:#1a5fb4}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e8eaed;--muted:#a8adb4;--line:#30353b;--green:#5bd07f;--yellow:#f2c14e;--red:#ff8a80;--blue:#8ab4f8}}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:1.5rem 1rem}h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.2rem;margin:2rem 0 .6rem}
a{color:var(--blue)}.muted{color:var(--muted)}
ul.envs{list-style:none;padding:0;margin:0;border:1px solid var(--line);border-radius:8px}
ul.envs li{display:flex;justify-content:space-between;gap:1rem;padding:.75rem 1rem;border-top:1px solid var(--line)}ul.envs li:first-child{border-top:0}
.status{font-weight:600}.status::before{content:"";display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.45em;background:currentColor}
.green{color:var(--green)}.yellow{color:var(--yellow)}.red{color:var(--red)}.blue{color:var(--blue)}
article{border:1px solid var(--line);border-radius:8px;padding:1rem;margin:.8rem 0}article h3{margin:0 0 .4rem;font-size:1.05rem}
ol.timeline{list-style:none;padding:0;margin:.5rem 0 0}ol.timeline li{border-left:3px solid var(--line);padding:.2rem 0 .6rem .8rem}
.state{font-weight:600;text-transform:capitalize}.message{white-space:pre-wrap;margin:.2rem 0 0}
`;

export function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <style>{CSS}</style>
      </head>
      <body>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
