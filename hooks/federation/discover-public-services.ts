import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import {
  PUBLIC_SERVICE_JQ_FILTER,
  PUBLIC_SERVICE_LABEL,
  buildPublicServices,
  parseServiceSnapshot,
} from '../../lib/federation/discovery/public-services';

const VALUES_PATH = 'istio.internal.federation.publicServices';
export const METRIC_GROUP = 'federation_public_services';
/** Services carrying the public-service label with a non-empty value (not exported). */
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
  },
  run({ snapshots, values, log, metrics }) {
    const clusterDomain = values.get<string>('global.discovery.clusterDomain') ?? 'cluster.local';
    const { publicServices, warnings, ignored } = buildPublicServices(
      snapshots.publicServices,
      clusterDomain,
    );
    for (const w of warnings) log.warn(w.message, { service: w.service });
    metrics.expire(METRIC_GROUP);
    metrics.set(IGNORED_METRIC, ignored.length, { reason: 'LabelValueNotEmpty' }, METRIC_GROUP);
    values.set(VALUES_PATH, publicServices);
  },
});
