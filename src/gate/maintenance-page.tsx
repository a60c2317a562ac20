/**
 * The page the gate serves to browsers while a role is in maintenance. Self-contained (no assets)
 * and part of the gate library, which imports nothing of Herald's templates.
 */
export function MaintenancePage(props: { siteName: string; statusUrl: string; until: string | null; reason: string | null }) {
  const css = `body{margin:0;font:17px/1.6 system-ui,sans-serif;display:grid;place-items:center;min-height:100vh;background:#fff;color:#1b1d21}
@media (prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}a{color:#79c0ff}}main{max-width:34rem;padding:2rem}h1{font-size:1.6rem}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.siteName} is temporarily unavailable`}</title>
        <style>{css}</style>
      </head>
      <body>
        <main>
          <h1>{props.siteName} is temporarily unavailable</h1>
          <p>{props.reason ?? 'We are performing maintenance.'}</p>
          {props.until && (
            <p>
              We expect to be back by <time datetime={props.until}>{`${props.until.slice(0, 10)} ${props.until.slice(11, 16)} UTC`}</time>.
            </p>
          )}
          <p>
            For more information, visit <a href={props.statusUrl}>{props.statusUrl}</a>.
          </p>
        </main>
      </body>
    </html>
  );
}
