import type { Federation } from '../federation/kind';
import {
  DEFAULT_PROBE_TIMEOUTS,
  probeGateway,
  type GatewayTarget,
  type ProbeOptions,
  type ProbeResult,
} from './gateway-probe';
import { gatewayPlan } from './peer-mesh';

/**
 * Probing every peer gateway at once, for `check` today and for a periodic probe hook
 * later: what to dial (from each federation's cached private document), dialling with
 * bounded concurrency, and the metric samples a hook would export. A hook built on this
 * is: read federations -> probeTargets -> probeAll -> gatewayProbeSamples -> metrics.set
 * (one group, expired every run, so a deleted federation leaves no series).
 */

export interface ProbeTarget {
  federation: string;
  gateway: GatewayTarget;
  sni?: string;
}

/**
 * Documentation ranges (RFC 5737, RFC 3849): never routed, so never dialled by a periodic
 * probe (they appear in examples and in the e2e scenario, whose tests dial loopback only).
 */
export function isDocumentationAddress(address: string): boolean {
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(address) || /^2001:0?db8(:|$)/i.test(address);
}

/** One target per (federation, gateway address, port), from what status caches. */
export function probeTargets(peers: readonly Federation[]): ProbeTarget[] {
  const targets: ProbeTarget[] = [];
  for (const peer of peers) {
    const plan = gatewayPlan(peer, undefined);
    const seen = new Set<string>();
    for (const gateway of plan.gateways) {
      const key = `${gateway.address}|${gateway.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      targets.push({ federation: peer.name, gateway, ...(plan.sni ? { sni: plan.sni } : {}) });
    }
  }
  return targets;
}

export interface ProbeAllOptions {
  timeouts?: { connectTimeoutMs: number; handshakeTimeoutMs: number };
  /** Dials in flight at once (default 16); the whole run takes about ceil(n / this) x both timeouts at worst. */
  concurrency?: number;
  /** Where to dial instead of a gateway (`check --connect-to`). */
  dialTo?: (gateway: GatewayTarget) => GatewayTarget | undefined;
  probe?: (target: GatewayTarget, options: ProbeOptions) => Promise<ProbeResult>;
}

export type FederationProbe = ProbeResult & { federation: string };

/** Dials every target, at most `concurrency` at a time; results in target order. Never throws. */
export async function probeAll(
  targets: readonly ProbeTarget[],
  options: ProbeAllOptions = {},
): Promise<FederationProbe[]> {
  const probe = options.probe ?? probeGateway;
  const timeouts = options.timeouts ?? DEFAULT_PROBE_TIMEOUTS;
  const results = new Array<FederationProbe>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const i = next++;
      const t = targets[i]!;
      const dialTo = options.dialTo?.(t.gateway);
      const result = await probe(t.gateway, {
        ...timeouts,
        ...(t.sni ? { sni: t.sni } : {}),
        ...(dialTo ? { dialTo } : {}),
      });
      results[i] = { ...result, federation: t.federation };
    }
  };
  const workers = Math.min(Math.max(1, options.concurrency ?? 16), targets.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

export const GATEWAY_PROBE_METRICS = {
  /** 1 when the gateway completed TCP (+ TLS when an SNI was sent), else 0. */
  up: 'd8_istio_federation_gateway_up',
  connectSeconds: 'd8_istio_federation_gateway_connect_seconds',
  handshakeSeconds: 'd8_istio_federation_gateway_tls_handshake_seconds',
} as const;

export interface MetricSample {
  name: string;
  value: number;
  labels: Record<string, string>;
}

/** Gauges per federation and gateway; latency only where that step completed. */
export function gatewayProbeSamples(results: readonly FederationProbe[]): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const r of results) {
    const labels = { federation_name: r.federation, address: r.target.address, port: String(r.target.port) };
    samples.push({ name: GATEWAY_PROBE_METRICS.up, value: r.alive ? 1 : 0, labels });
    if (r.connectMs !== undefined)
      samples.push({ name: GATEWAY_PROBE_METRICS.connectSeconds, value: r.connectMs / 1000, labels });
    if (r.handshakeMs !== undefined)
      samples.push({ name: GATEWAY_PROBE_METRICS.handshakeSeconds, value: r.handshakeMs / 1000, labels });
  }
  return samples;
}
