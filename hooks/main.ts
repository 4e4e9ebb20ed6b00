// Entry point of the single batch-hook executable (dist/module/hooks/batch/istio-federation).
// No top-level await: the executable is compiled to CommonJS bytecode for a fast start.
import { runBatchCli } from '../lib/hook-sdk';
import { app } from './index';

void runBatchCli(app, process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});
