import { localIdentity } from '../../lib/federation/identity/local';
import {
  importLogEvents,
  importMetricSamples,
  IMPORT_METRICS,
  IMPORT_METRICS_GROUP,
} from '../../lib/federation/import/report';
import type { ImportLimits } from '../../lib/federation/import/verdict';
import {
  FEDERATION_KIND,
  IMPORT_JQ_FILTER,
  readFederation,
  type Federation,
} from '../../lib/federation/kind';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';

/**
 * From the IstioFederation statuses (written by the fetch hook) to values: read cached ->
 * verdict -> values. The verdict is the one the fetch hook projects onto status.
 */

export const METRIC_GROUP = IMPORT_METRICS_GROUP;
export const METRICS = IMPORT_METRICS;

export function createMergeHook(options: { importLimits?: ImportLimits } = {}) {
  return defineHook({
    name: 'federation/merge-federations',
    beforeHelm: 30,
    kubernetes: {
      federations: kubernetesBinding({
        ...FEDERATION_KIND.ref,
        jqFilter: IMPORT_JQ_FILTER,
        parse: (raw: unknown) => raw, // read in run(): the reader needs our trust domain
      }),
    },
    run({ snapshots, values, metrics, log, now }) {
      const local = localIdentity(values);
      const federations = snapshots.federations
        .map((raw) => readFederation(raw, { ownTrustDomain: local.trustDomain }))
        .filter((f): f is Federation => f !== undefined);
      const disabled = values.get<boolean>('istio.federation.enabled') !== true;
      const verdict = FEDERATION_KIND.decide(
        federations,
        { trustDomain: local.trustDomain, clusterUUID: local.clusterUUID, now },
        { limits: options.importLimits, disabled },
      );
      for (const event of importLogEvents(federations, verdict))
        log[event.level](event.message, event.fields);
      metrics.expire(METRIC_GROUP);
      for (const s of importMetricSamples(verdict)) metrics.set(s.name, s.value, s.labels, METRIC_GROUP);
      values.set('istio.internal.federation.trustedPeers', verdict.trustedPeers);
      values.set('istio.internal.federation.serviceEntries', verdict.serviceEntries);
    },
  });
}

export default createMergeHook();
