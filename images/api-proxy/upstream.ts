import { readFileSync } from 'node:fs';
// Only the config module: the package's index pulls in every API client (slower start).
import { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { TokenSource } from './token-source';

/** Where and how the proxy reaches its own kube-apiserver. */
export interface Upstream {
  /** e.g. https://10.96.0.1:443 (no trailing slash). */
  server: URL;
  caPem: string | undefined;
  token: TokenSource;
}

/**
 * In the cluster: KUBERNETES_SERVICE_HOST/PORT, the service-account CA and its rotating
 * token file (client-node's in-cluster loader). For tests and out-of-cluster runs: a
 * kubeconfig (server, CA, token) and optionally a token file that overrides its user.
 */
export function loadUpstream(options: {
  kubeconfig?: string;
  tokenFile?: string;
  /** Prefix of /var/run/secrets/kubernetes.io/serviceaccount (tests run the in-cluster path). */
  inClusterPrefix?: string;
}): Upstream {
  const config = new KubeConfig();
  if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
  else config.loadFromCluster(options.inClusterPrefix ?? '');
  const cluster = config.getCurrentCluster();
  const user = config.getCurrentUser();
  if (!cluster) throw new Error('no current cluster in the configuration');
  const server = new URL(cluster.server);
  if (server.protocol !== 'https:')
    throw new Error(`the apiserver must be reached over https, got ${server.protocol}`);
  if (cluster.skipTLSVerify) throw new Error('insecure-skip-tls-verify is not supported for the apiserver');
  const caPem = cluster.caData
    ? Buffer.from(cluster.caData, 'base64').toString('utf8')
    : cluster.caFile
      ? readFileSync(cluster.caFile, 'utf8')
      : undefined;
  const providerFile = (user?.authProvider as { config?: { tokenFile?: string } } | undefined)?.config
    ?.tokenFile;
  const tokenFile = options.tokenFile ?? providerFile;
  const token = new TokenSource(tokenFile, tokenFile ? undefined : (user?.token ?? undefined));
  return { server, caPem, token };
}
