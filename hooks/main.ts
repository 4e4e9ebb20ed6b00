// Entry point of the single batch-hook executable (dist/module/hooks/batch/istio-federation).
import { runBatchCli } from '../lib/hook-sdk';
import { app } from './index';

const code = await runBatchCli(app, process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
process.exitCode = code;
