// `npm run demo:multicluster`: the multicluster story on this machine. Builds our dist/ and,
// the first time, the upstream tools; starts two clusters that share cluster.local on
// 127.0.0.1 (each with its addon-operator, exporter, api-proxy and a real istiod), joins
// them with an IstioMulticluster each way (the steps of tests/e2e/multicluster.e2e.test.ts,
// same harness code), prints the IstioMulticluster tables and what cluster-a's istiod sees
// of cluster-b, and stops everything.
//   ISTIO_FED_DEMO_KEEP=1 keeps the run directory (logs, kubeconfigs) for inspection.
import { startMulticlusterClusters, type MulticlusterRun } from './e2e/multicluster';
import { istiodViewOfRemote, multiclusterSummary } from './e2e/multicluster-summary';
import { joinClusters } from './e2e/remote-mesh';
import { stopRun } from './e2e/scenario';
import { buildModule, ensureUpstreamTools } from './e2e/tools';

const started = Date.now();
const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`.padStart(7);
const log = (line: string): void => {
  process.stderr.write(`[demo ${elapsed()}] ${line}\n`);
};

async function main(): Promise<number> {
  let run: MulticlusterRun | undefined;
  const keep = process.env.ISTIO_FED_DEMO_KEEP === '1';
  try {
    log('1/4 building the module (hooks executable, metadata exporter, api-proxy) into dist/');
    await buildModule(log);
    log('2/4 upstream tools (built once from the Go module proxy, then cached; first time: minutes)');
    await ensureUpstreamTools(log);
    log('3/4 starting cluster-a and cluster-b, both cluster.local, on 127.0.0.1 (multicluster enabled)');
    run = await startMulticlusterClusters({ log, keepRunDir: keep });
    log('4/4 joining them: bar.xyz runs in cluster-b only; IstioMulticlusters both ways; waiting for istiod');
    await joinClusters(run);
    process.stdout.write(`\n${await multiclusterSummary(run)}\n\n`);
    process.stdout.write(`${await istiodViewOfRemote(run)}\n\n`);
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
