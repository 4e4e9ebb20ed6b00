import { istioClusterId } from '../istio/cluster-id';
import type { LocalView } from './local';
import { result, type CheckResult } from './result';
import {
  containerEnv,
  MESH_CONFIG_MAP,
  NAMESPACE,
  objectName,
  RBAC_HINT,
  text,
  type ClusterSnapshot,
} from './snapshot';

/** The checks of istiod's settings: pure, a snapshot in, result records out. */

const ISTIOD = 'istiod';

/** istiod's settings the federation depends on (README "Configuration"); skipped without istiod. */
export function checkIstiod(snapshot: ClusterSnapshot, view: LocalView): CheckResult[] {
  const read = snapshot.istiodDeployments;
  if (!read.ok) {
    return [
      result('istiod', ISTIOD, 'istiod settings', 'warn', {
        detail: `cannot list Deployments labelled app=istiod: ${read.error}`,
        hint: RBAC_HINT,
      }),
    ];
  }
  const deployments = read.value ?? [];
  if (deployments.length === 0) {
    return [
      result('istiod', ISTIOD, 'istiod settings', 'skip', {
        detail: 'no Deployment labelled app=istiod in this cluster: not verified',
      }),
    ];
  }
  const expectedId =
    view.gatewayClusterId ??
    (view.trustDomain && view.clusterUUID ? istioClusterId(view.trustDomain, view.clusterUUID) : undefined);
  const results: CheckResult[] = [];
  for (const d of deployments) {
    const name = objectName(d);
    const env = containerEnv(d, 'discovery');
    const ns = text(d, 'metadata', 'namespace');
    const check = (id: string, title: string, ok: boolean, detail: string, hint: string): void => {
      results.push(result(id, ISTIOD, `${name}: ${title}`, ok ? 'pass' : 'fail', { detail, hint }));
    };
    check(
      'istiod.shared-mesh-config',
      `SHARED_MESH_CONFIG=${MESH_CONFIG_MAP}`,
      env.SHARED_MESH_CONFIG === MESH_CONFIG_MAP,
      `SHARED_MESH_CONFIG=${env.SHARED_MESH_CONFIG ?? '(unset)'}`,
      `set env SHARED_MESH_CONFIG=${MESH_CONFIG_MAP} on istiod's discovery container: peers' root CAs reach istiod only through it`,
    );
    if (ns !== NAMESPACE) {
      results.push(
        result('istiod.namespace', ISTIOD, `${name}: runs in ${NAMESPACE}`, 'warn', {
          detail: `namespace ${ns ?? '?'}`,
          hint: `istiod reads SHARED_MESH_CONFIG from its own namespace; the module renders it in ${NAMESPACE}`,
        }),
      );
    }
    check(
      'istiod.multiroot',
      'ISTIO_MULTIROOT_MESH=true',
      env.ISTIO_MULTIROOT_MESH === 'true',
      `ISTIO_MULTIROOT_MESH=${env.ISTIO_MULTIROOT_MESH ?? '(unset)'}`,
      'set env ISTIO_MULTIROOT_MESH=true on istiod: without it istiod ignores the peers\u2019 roots (caCertificates)',
    );
    check(
      'istiod.cluster-id',
      `CLUSTER_ID matches the module's cluster id`,
      expectedId !== undefined && env.CLUSTER_ID === expectedId,
      `CLUSTER_ID=${env.CLUSTER_ID ?? '(unset, Kubernetes)'}, module: ${expectedId ?? '(unknown)'}`,
      `set env CLUSTER_ID=${expectedId ?? '<cluster domain with dashes>-<adler32 of the cluster UUID>'} on istiod: otherwise it refuses the gateway's xDS connection and certificate requests`,
    );
  }
  return results;
}
