import { jsonEqual } from '../../util/deep-equal';
import { isCount, isRecord, isString } from '../../util/guards';
import { rfc3339, type ConditionInput } from './conditions';
import type { GatewayProbeStatus } from './types';

/**
 * The gateway probe's record on status (`status.gatewayProbe`, written by the probe hook,
 * hooks/federation/probe-gateways.ts) and the GatewayReachable condition projected from it
 * by the fetch hook (status/project.ts), the one writer of conditions.
 *
 * The record changes only when the result does (which gateways fail and why, how many
 * there are): `since` is when the current result began, so a probe every 30 s writes
 * nothing in steady state. GatewayReachable does not affect Ready (USAGE.md: the probe
 * dials from the operator's pod, not from the mesh's data plane).
 */

/** Failing gateways kept on status (the count says how many there are in all). */
export const MAX_FAILING_RECORDED = 8;
const MAX_ERROR_CHARS = 256;

/** One dial's outcome, as the probe hook reports it. */
export interface GatewayDial {
  address: string;
  port: number;
  alive: boolean;
  /** Where the dial ended (lib/check/gateway-probe.ts ProbeStage). */
  stage: string;
  error?: string;
}

/** The record for one federation's dials; keeps `previous.since` when the result is the same. */
export function gatewayProbeRecord(
  dials: readonly GatewayDial[],
  previous: GatewayProbeStatus | undefined,
  now: Date,
): GatewayProbeStatus {
  const failing = dials
    .filter((d) => !d.alive)
    .slice(0, MAX_FAILING_RECORDED)
    .map((d) => ({ address: d.address, port: d.port, error: dialError(d) }));
  const result = {
    reachable: dials.length - dials.filter((d) => !d.alive).length,
    total: dials.length,
    failing,
  };
  if (previous) {
    const { since: _since, ...before } = previous;
    if (jsonEqual(before, result)) return previous;
  }
  return { ...result, since: rfc3339(now) };
}

function dialError(dial: GatewayDial): string {
  const text = dial.error ? `${dial.stage}: ${dial.error}` : dial.stage;
  return text.length <= MAX_ERROR_CHARS ? text : text.slice(0, MAX_ERROR_CHARS - 3) + '...';
}

/** Reads `status.gatewayProbe` as cached; undefined when absent or malformed. */
export function readGatewayProbe(raw: unknown): GatewayProbeStatus | undefined {
  if (!isRecord(raw)) return undefined;
  const { reachable, total, failing, since } = raw;
  if (!isCount(reachable) || !isCount(total) || !isString(since) || !Array.isArray(failing)) return undefined;
  const items = failing.flatMap((f) =>
    isRecord(f) && isString(f.address) && isCount(f.port) && isString(f.error)
      ? [{ address: f.address, port: f.port, error: f.error }]
      : [],
  );
  return { reachable, total, failing: items, since };
}

/**
 * GatewayReachable from the probe's record: True when every dialled gateway answered,
 * False (GatewayUnreachable) naming the failing ones, Unknown (NotProbed) without a record.
 */
export function gatewayReachableCondition(probe: GatewayProbeStatus | undefined): ConditionInput {
  const type = 'GatewayReachable';
  if (!probe || probe.total === 0) {
    return {
      type,
      status: 'Unknown',
      reason: 'NotProbed',
      message:
        'no gateway of this peer has been probed (none cached yet, or only documentation addresses, which are never dialled)',
    };
  }
  if (probe.reachable >= probe.total) {
    return {
      type,
      status: 'True',
      reason: 'GatewaysReachable',
      message: `${probe.total} of ${probe.total} gateway(s) answered from the operator's pod (since ${probe.since})`,
    };
  }
  const failed = probe.total - probe.reachable;
  const named = probe.failing.map((f) => `${f.address}:${f.port} (${f.error})`).join(', ');
  const more = failed > probe.failing.length ? ` and ${failed - probe.failing.length} more` : '';
  return {
    type,
    status: 'False',
    reason: 'GatewayUnreachable',
    message: `${failed} of ${probe.total} gateway(s) unreachable from the operator's pod since ${probe.since}: ${named}${more}`,
  };
}

/** While a peer is refused or federation is disabled, its gateways are not probed. */
export function gatewayNotProbedCondition(message: string): ConditionInput {
  return { type: 'GatewayReachable', status: 'Unknown', reason: 'NotProbed', message };
}
