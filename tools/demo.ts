// `npm run demo`: the federation story on this machine. Builds our dist/ (every time)
// and, the first time, kube-apiserver/etcd/addon-operator/istiod from the Go module proxy;
// starts two clusters on 127.0.0.1 (each with a real istiod), federates them (steps 1-5 of
// the end-to-end scenario, same harness code), prints what an admin would see and what
// istiod in cluster-a sends a sidecar for bar, and stops everything.
//   ISTIO_FED_DEMO_KEEP=1 keeps the run directory (logs, kubeconfigs) for inspection.
import { runDemo } from './e2e/demo-runner';
import { startClusters, runSteps1To5 } from './e2e/scenario';
import { federationSummary, sidecarViewOfBar } from './e2e/summary';

void runDemo({
  building: 'hooks executable, metadata exporter',
  starting: 'starting cluster-a.local and cluster-b.local on 127.0.0.1',
  start: startClusters,
  story: 'federating them: enable, publish bar.xyz in cluster-b, create IstioFederations, wait for imports',
  run: runSteps1To5,
  report: async (run) => [await federationSummary(run), await sidecarViewOfBar(run)],
}).then((code) => process.exit(code));
