// `npm run demo`: the federation story on this machine. Builds our dist/ (every time)
// and, the first time, kube-apiserver/etcd/addon-operator/istiod from the Go module proxy;
// starts two clusters on 127.0.0.1 (each with a real istiod), federates them (steps 1-5 of
// the end-to-end scenario, same harness code), prints what an admin would see and what
// istiod in cluster-a sends a sidecar for bar, and stops everything.
//   ISTIO_FED_DEMO_KEEP=1 keeps the run directory (logs, kubeconfigs) for inspection.
import { startClusters, runSteps1To5, stopRun, type FederationRun } from './e2e/scenario';
import { federationSummary, sidecarViewOfBar } from './e2e/summary';
import { buildModule, ensureUpstreamTools } from './e2e/tools';

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
const log = (line: string): void => {
  process.stderr.write(`[demo ${elapsed()}] ${line}\n`);
};

async function main(): Promise<number> {
  let run: FederationRun | undefined;
  const keep = process.env.ISTIO_FED_DEMO_KEEP === '1';
  try {
    log('1/4 building the module (hooks executable, metadata exporter) into dist/');
    await buildModule(log);
    log('2/4 upstream tools (built once from the Go module proxy, then cached; first time: minutes)');
    await ensureUpstreamTools(log);
    log('3/4 starting cluster-a.local and cluster-b.local on 127.0.0.1');
    run = await startClusters({ log, keepRunDir: keep });
    log(
      '4/4 federating them: enable, publish bar.xyz in cluster-b, create IstioFederations, wait for imports',
    );
    await runSteps1To5(run);
    process.stdout.write(`\n${await federationSummary(run)}\n\n`);
    process.stdout.write(`${await sidecarViewOfBar(run)}\n\n`);
    log('done; stopping everything');
    return 0;
  } catch (error) {
    log(`FAILED: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await stopRun(run, keep);
    if (keep && run) log(`run directory kept: ${run.runDir}`);
    log(`stopped all processes (total ${elapsed().trim()})`);
  }
}

void main().then((code) => process.exit(code));
