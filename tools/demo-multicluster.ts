// `npm run demo:multicluster`: the multicluster story on this machine. Builds our dist/ and,
// the first time, the upstream tools; starts two clusters that share cluster.local on
// 127.0.0.1 (each with its addon-operator, exporter, api-proxy and a real istiod), joins
// them with an IstioMulticluster each way (the steps of tests/e2e/multicluster.e2e.test.ts,
// same harness code), prints the IstioMulticluster tables and what cluster-a's istiod sees
// of cluster-b, and stops everything.
//   ISTIO_FED_DEMO_KEEP=1 keeps the run directory (logs, kubeconfigs) for inspection.
import { runDemo } from './e2e/demo-runner';
import { startMulticlusterClusters } from './e2e/multicluster';
import { istiodViewOfRemote, multiclusterSummary } from './e2e/multicluster-summary';
import { joinClusters } from './e2e/remote-mesh';

void runDemo({
  building: 'hooks executable, metadata exporter, api-proxy',
  starting: 'starting cluster-a and cluster-b, both cluster.local, on 127.0.0.1 (multicluster enabled)',
  start: startMulticlusterClusters,
  story: 'joining them: bar.xyz runs in cluster-b only; IstioMulticlusters both ways; waiting for istiod',
  run: joinClusters,
  report: async (run) => [await multiclusterSummary(run), await istiodViewOfRemote(run)],
}).then((code) => process.exit(code));
