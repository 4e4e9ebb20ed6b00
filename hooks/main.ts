// Entry point of the single batch-hook executable (dist/module/hooks/batch/istio-federation).
// No top-level await: the executable is compiled to CommonJS bytecode for a fast start.
import { runBatchCli } from '../lib/hook-sdk';
import { app } from './index';

const argv = process.argv.slice(2);
const io = {
  env: process.env,
  stdout: (text: string) => process.stdout.write(text),
  stderr: (text: string) => process.stderr.write(text),
};

// `check` (an admin's command) loads its code and @kubernetes/client-node only when asked:
// a require() here is evaluated lazily by the CommonJS bundle, so hook runs, which
// addon-operator starts for every event, do not pay for it (README "Performance").
const run: Promise<number> =
  argv[0] === 'check'
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports
      (require('../lib/check/cli') as typeof import('../lib/check/cli')).runCheckCli(argv.slice(1), io)
    : runBatchCli(app, argv, io);

void run.then((code) => {
  process.exitCode = code;
});
