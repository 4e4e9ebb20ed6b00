import { localIdentity } from '../../lib/federation/identity/local';
import { FEDERATION_KIND, readFederation, type Federation } from '../../lib/federation/kind';
import type { ProbeOptions, ProbeResult, GatewayTarget } from '../../lib/check/gateway-probe';
import {
  gatewayProbeSamples,
  isDocumentationAddress,
  probeAll,
  probeTargets,
} from '../../lib/check/gateway-probes';
import { gatewayProbeRecord } from '../../lib/federation/status/gateway';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import { jsonEqual } from '../../lib/util/deep-equal';

/**
 * Dials every peer gateway (TLS with the federation SNI, bounded: 3 s connect + 3 s
 * handshake, 16 at a time) every 30 s and exports liveness and latency per federation and
 * address (lib/check/gateway-probes.ts), so a dead gateway shows within a minute. Its own
 * queue. It records each federation's result in `status.gatewayProbe` (its own field, a
 * merge patch of the status subresource that touches nothing else) only when the result
 * changes, so steady probes write nothing; the fetch hook, the one writer of conditions,
 * projects GatewayReachable from it (lib/federation/status/gateway.ts). Documentation
 * addresses are skipped; a federation with nothing to dial gets no record (a stale one is
 * removed, once).
 */

export const PROBE_QUEUE = 'federation-gateway-probe';
export const PROBE_TICK = 'federation-gateway-probe-tick';
export const PROBE_METRICS_GROUP = 'federation_gateway_probe';

/** Only what the probe needs: name, trust domain, the cached private document, its last record. */
const PROBE_JQ_FILTER = `{
  name: .metadata.name,
  spec: {trustDomain: .spec.trustDomain},
  status: {metadataCache: {private: .status.metadataCache.private}, gatewayProbe: .status.gatewayProbe}
}`;

export function createProbeGatewaysHook(
  options: { probe?: (target: GatewayTarget, options: ProbeOptions) => Promise<ProbeResult> } = {},
) {
  return defineHook({
    name: 'federation/probe-gateways',
    schedule: [{ name: PROBE_TICK, crontab: '*/30 * * * * *', queue: PROBE_QUEUE }],
    kubernetes: {
      federations: kubernetesBinding({
        ...FEDERATION_KIND.ref,
        jqFilter: PROBE_JQ_FILTER,
        // Dial on the schedule only: status churn must not multiply the dials.
        executeHookOnEvent: false,
        executeHookOnSynchronization: false,
        waitForSynchronization: false,
        queue: PROBE_QUEUE,
        parse: (raw: unknown) => raw,
      }),
    },
    async run({ snapshots, values, metrics, kube, now }) {
      metrics.expire(PROBE_METRICS_GROUP);
      if (values.get<boolean>('istio.federation.enabled') !== true) return;
      const local = localIdentity(values);
      const federations = snapshots.federations
        .map((raw) => readFederation(raw, { ownTrustDomain: local.trustDomain }))
        .filter((f): f is Federation => f !== undefined && f.trustDomain !== local.trustDomain);
      const targets = probeTargets(federations).filter((t) => !isDocumentationAddress(t.gateway.address));
      const results = await probeAll(targets, options.probe ? { probe: options.probe } : {});
      for (const s of gatewayProbeSamples(results))
        metrics.set(s.name, s.value, s.labels, PROBE_METRICS_GROUP);
      for (const federation of federations) {
        const dials = results
          .filter((r) => r.federation === federation.name)
          .map((r) => ({
            address: r.target.address,
            port: r.target.port,
            alive: r.alive,
            stage: r.stage,
            ...(r.error !== undefined ? { error: r.error } : {}),
          }));
        const previous = federation.status.gatewayProbe;
        const next = dials.length ? gatewayProbeRecord(dials, previous, now) : undefined;
        if (jsonEqual(previous, next)) continue;
        kube.mergePatch(
          { ...FEDERATION_KIND.ref, name: federation.name },
          // The whole record (every key present), or null: nothing else in status is touched.
          { status: { gatewayProbe: next ?? null } },
          { subresource: 'status', ignoreMissingObject: true },
        );
      }
    },
  });
}

export default createProbeGatewaysHook();
