/**
 * The site's only assets, served from memory under content-hashed names (no filesystem, so the
 * same on Workers). No external assets: the CSP allows 'self' only.
 */
export const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1d21;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;
--green:#116329;--yellow:#7d4e00;--orange:#953800;--red:#a40e26;--blue:#0a4fa6;--link:#0a4fa6;
--bar-green:#2da44e;--bar-yellow:#d4a72c;--bar-orange:#e16f24;--bar-red:#cf222e;--bar-blue:#218bff;--bar-none:#d0d7de}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--card:#161b22;
--green:#56d364;--yellow:#e3b341;--orange:#ffa657;--red:#ff7b72;--blue:#79c0ff;--link:#79c0ff;--bar-none:#30363d}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:break-word}
a{color:var(--link)}a:focus-visible,button:focus-visible{outline:3px solid var(--link);outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem;z-index:1}
header.site,footer.site,main{max-width:54rem;margin:0 auto;padding:1rem}
header.site{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;flex-wrap:wrap;border-bottom:1px solid var(--line)}
header.site a.brand{font-weight:700;font-size:1.2rem;color:var(--fg);text-decoration:none}
header.site nav a{margin-left:1rem}
footer.site{color:var(--muted);font-size:.9rem;border-top:1px solid var(--line);margin-top:2rem}
h1{font-size:1.6rem;margin:.5rem 0 1rem;line-height:1.25}h2{font-size:1.25rem;margin:2rem 0 .75rem}h3{font-size:1.05rem;margin:0 0 .25rem}
.muted{color:var(--muted)}
.notice{border:1px solid var(--line);border-left:6px solid var(--yellow);background:var(--card);padding:.75rem 1rem;border-radius:6px;margin:1rem 0}
.notice.orange{border-left-color:var(--orange)}.notice.red{border-left-color:var(--red)}.notice.blue{border-left-color:var(--blue)}
.summary{font-size:1.15rem;font-weight:600;padding:1rem;border-radius:8px;background:var(--card);border:1px solid var(--line)}
ul.envs{list-style:none;padding:0;margin:1rem 0;border:1px solid var(--line);border-radius:8px}
ul.envs>li{padding:.75rem 1rem;border-top:1px solid var(--line)}ul.envs>li:first-child{border-top:0}
.env-head{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}
.env-desc{margin:.25rem 0 0;color:var(--muted);font-size:.95rem}
li.group>details>summary{cursor:pointer;list-style:none}li.group>details>summary::-webkit-details-marker{display:none}
li.group>details>summary strong::before{content:'▸ ';display:inline-block;width:1.1em}li.group>details[open]>summary strong::before{content:'▾ '}
ul.envs.members{margin:.5rem 0 0;border:0;border-left:3px solid var(--line);border-radius:0}
.status{font-weight:600}.status::before{content:"";display:inline-block;width:.75em;height:.75em;border-radius:50%;margin-right:.4em;background:currentColor;vertical-align:-.05em}
.green{color:var(--green)}.yellow{color:var(--yellow)}.orange{color:var(--orange)}.red{color:var(--red)}.blue{color:var(--blue)}
figure.days{margin:0}
ol.bars{display:flex;gap:1px;list-style:none;padding:0;margin:.5rem 0 .25rem;height:2rem}
ol.bars li{flex:1;min-width:1px;border-radius:1px;background:var(--bar-none)}
ol.bars li.s-green{background:var(--bar-green)}ol.bars li.s-yellow{background:var(--bar-yellow)}ol.bars li.s-orange{background:var(--bar-orange)}ol.bars li.s-red{background:var(--bar-red)}ol.bars li.s-blue{background:var(--bar-blue)}
.bar-legend{display:flex;justify-content:space-between;font-size:.85rem;color:var(--muted)}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
article.incident{border:1px solid var(--line);border-radius:8px;padding:1rem;margin:.75rem 0}
ol.timeline{list-style:none;margin:.75rem 0 0;padding:0}
ol.timeline>li{border-left:3px solid var(--line);padding:.1rem 0 .75rem .9rem;margin-left:.2rem}
ol.timeline .state{font-weight:700}
.message{overflow-wrap:anywhere}.message p{margin:.25rem 0}.message pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--card);padding:.5rem}
.tags{font-size:.9rem;color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line)}
.postmortem{border-top:1px solid var(--line);margin-top:1.5rem}
nav.pages{display:flex;justify-content:space-between;margin:1.5rem 0}
a.anchor{color:var(--muted);text-decoration:underline;margin-left:.3rem}
form.stack{display:grid;gap:1rem;margin:1rem 0}
.field{display:grid;gap:.3rem}.field>label,legend{font-weight:600}
.hint{color:var(--muted);font-size:.9rem;margin:0}
input[type=text],input[type=url],input[type=password],input[type=datetime-local],input[type=number],input[type=time],select,textarea{font:inherit;color:inherit;background:var(--bg);border:2px solid var(--muted);border-radius:6px;padding:.5rem .6rem;width:100%;max-width:100%}
input,select{min-width:0}textarea{min-height:8rem;resize:vertical}textarea.long{min-height:22rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92rem}
input:focus-visible,select:focus-visible,textarea:focus-visible{outline:3px solid var(--link);outline-offset:1px}
[aria-invalid=true]{border-color:var(--red)}
.field-error{color:var(--red);font-weight:600;margin:0}
fieldset{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;margin:0;min-width:0}
.choices{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem}.choices label{display:flex;gap:.4rem;align-items:center;font-weight:400}.choices input{flex:none}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.75rem 1rem}
button,.button{font:inherit;font-weight:600;border:2px solid var(--link);background:var(--link);color:var(--bg);border-radius:6px;padding:.55rem 1rem;cursor:pointer;text-decoration:none;display:inline-block;min-height:2.75rem}
button.secondary,.button.secondary{background:var(--bg);color:var(--link)}
button.danger{background:var(--red);border-color:var(--red);color:var(--bg)}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center}
.error-summary{border:3px solid var(--red);border-radius:8px;padding:.75rem 1rem;margin:1rem 0}.error-summary h2{margin:0 0 .5rem;font-size:1.1rem}
.notice.ok{border-left-color:var(--green)}
.preview{border:1px dashed var(--muted);border-radius:8px;padding:.75rem 1rem}
.console-nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;margin:0;padding:0;list-style:none}
.console-nav a[aria-current=page]{font-weight:700;text-decoration:none;color:var(--fg)}
form.inline{display:inline}
button.link{background:none;border:0;color:var(--link);text-decoration:underline;padding:0;min-height:0;font-weight:400}
.split,.incident-grid{display:grid;gap:0 1.5rem}.incident-grid{grid-template-areas:"form" "side" "timeline"}
.grid-form{grid-area:form;min-width:0}.grid-side{grid-area:side;min-width:0}.grid-timeline{grid-area:timeline;min-width:0}
@media (min-width:60rem){main.wide,body:has(main.wide) header.site{max-width:76rem}.split{grid-template-columns:minmax(0,2fr) minmax(0,1fr)}
.incident-grid{grid-template-columns:minmax(0,2fr) minmax(0,1fr);grid-template-areas:"form side" "timeline side";align-items:start}}
details.more{margin:.5rem 0}details.more>summary{cursor:pointer;color:var(--link)}
.secret{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;background:var(--card);padding:.5rem;border-radius:6px;display:block;overflow-wrap:anywhere}
.wrap{overflow-wrap:anywhere}pre.excerpt{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.85rem}
`;

/**
 * Refreshes relative times; reloads an open page when the platform reports a change; in a
 * console form, Ctrl/⌘+Enter sends it with its first button (never "Preview"). Comfort only.
 */
export const JS = `
(function(){
  function rel(iso){var d=Date.now()-Date.parse(iso),a=Math.abs(d);if(a<60000)return'just now';
    var u=[[86400000,'day'],[3600000,'hour'],[60000,'minute']];for(var i=0;i<u.length;i++){if(a>=u[i][0]){var n=Math.floor(a/u[i][0]);var w=n+' '+u[i][1]+(n===1?'':'s');return d>=0?w+' ago':'in '+w}}}
  function tick(){var ts=document.querySelectorAll('[data-relative]');for(var i=0;i<ts.length;i++){ts[i].textContent=rel(ts[i].getAttribute('data-relative'))}}
  tick();setInterval(tick,30000);
  document.addEventListener('keydown',function(e){var t=e.target,f=t&&t.form;if(e.key!=='Enter'||!(e.ctrlKey||e.metaKey)||!f||f.method!=='post')return;
    e.preventDefault();var b=f.querySelector('button[type=submit]:not([value=preview])');if(f.requestSubmit){f.requestSubmit(b||undefined)}else{f.submit()}});
  var live=document.body.getAttribute('data-live');
  if(live&&window.fetch){var etag=null;setInterval(function(){fetch(live,{headers:etag?{'If-None-Match':etag}:{}}).then(function(r){
    var e=r.headers.get('ETag');if(r.status===200&&etag&&e!==etag){location.reload()}if(e)etag=e}).catch(function(){})},15000)}
})();
`;

/** FNV-1a, enough to give each asset version its own name. */
function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export interface Asset {
  readonly path: string;
  readonly type: string;
  readonly body: string;
}

export const ASSETS: { readonly css: Asset; readonly js: Asset } = {
  css: { path: `/assets/herald-${shortHash(CSS)}.css`, type: 'text/css; charset=utf-8', body: CSS },
  js: { path: `/assets/herald-${shortHash(JS)}.js`, type: 'text/javascript; charset=utf-8', body: JS },
};
