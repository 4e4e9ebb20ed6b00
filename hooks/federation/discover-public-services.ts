import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import {
  IGNORED_REASONS,
  POD_JQ_FILTER,
  PUBLIC_SERVICE_JQ_FILTER,
  PUBLIC_SERVICE_LABEL,
  buildPublicServices,
  parsePodSnapshot,
  parseServiceSnapshot,
} from '../../lib/federation/discovery/public-services';

const VALUES_PATH = 'istio.internal.federation.publicServices';
export const METRIC_GROUP = 'federation_public_services';
/**
 * Labelled Services not exported, by reason: a label value other than empty
 * (LabelValueNotEmpty), no sidecar-injected pod selected (NotInMesh), no pod at all (NoPods).
 */
export const IGNORED_METRIC = 'd8_istio_federation_ignored_public_services';

export default defineHook({
  name: 'federation/discover-public-services',
  beforeHelm: 20,
  kubernetes: {
    publicServices: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Service',
      // Any value, so that Services labelled with a value are seen and reported as ignored.
      labelSelector: { matchExpressions: [{ key: PUBLIC_SERVICE_LABEL, operator: 'Exists' }] },
      jqFilter: PUBLIC_SERVICE_JQ_FILTER,
      parse: parseServiceSnapshot,
    }),
    // Which pods a public Service selects: are they in the mesh, and as which identities.
    pods: kubernetesBinding({
      apiVersion: 'v1',
      kind: 'Pod',
      jqFilter: POD_JQ_FILTER,
      parse: parsePodSnapshot,
    }),
  },
  run({ snapshots, values, log, metrics }) {
    const clusterDomain = values.get<string>('global.discovery.clusterDomain') ?? 'cluster.local';
    const { publicServices, warnings, ignored } = buildPublicServices(
      snapshots.publicServices,
      clusterDomain,
      snapshots.pods,
    );
    for (const w of warnings) log.warn(w.message, { service: w.service });
    metrics.expire(METRIC_GROUP);
    for (const reason of IGNORED_REASONS)
      metrics.set(
        IGNORED_METRIC,
        ignored.filter((i) => i.reason === reason).length,
        { reason },
        METRIC_GROUP,
      );
    values.set(VALUES_PATH, publicServices);
  },
});
