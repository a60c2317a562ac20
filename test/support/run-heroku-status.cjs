'use strict';
/**
 * Runs the real `heroku status` command (@heroku-cli/plugin-status) in this process, with the
 * arguments this script was given, e.g. `node run-heroku-status.cjs --json`. It reads
 * HEROKU_STATUS_HOST from the environment like the CLI does. Used by test/cli/heroku-cli.test.ts.
 *
 * @oclif/core is resolved from the plugin's own directory so that the Config, the Command base
 * class and the error handler are the same instance the plugin's command was built against.
 */
const path = require('node:path');

const pluginRoot = path.dirname(require.resolve('@heroku-cli/plugin-status/package.json'));
const fromPlugin = (id) => require(require.resolve(id, { paths: [pluginRoot] }));

const oclif = fromPlugin('@oclif/core');
const Status = require(path.join(pluginRoot, 'lib/commands/status.js')).default;

async function main(argv) {
  // oclif v1: Command.run(argv, opts) loads a Config for `opts` (here the plugin root), then runs.
  await Status.run(argv, pluginRoot);
  await oclif.flush();
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => oclif.Errors.handle(err),
);
