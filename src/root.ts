/**
 * The checkout's root (package.json, migrations/), as a file: URL ending in `/`.
 *
 * This file is one folder below the root, and so is the bundle it is compiled into (dist/cli.js,
 * made by bin/build.js): `../` from here is the root both when the sources run (vitest, tsx)
 * and when the bundle does. A path like `../../migrations/` written in src/db/ would point
 * outside the checkout once bundled. Keep this file at the top of src/.
 */
export const ROOT = new URL('../', import.meta.url);
