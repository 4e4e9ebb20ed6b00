import type { ProjectionContext } from '../federation/status/project';
import {
  applyConditions,
  findCondition,
  type Condition,
  type ConditionInput,
} from '../federation/status/conditions';
import { boundIdentity, readyCondition, trustCondition } from '../federation/status/trust-condition';
import type { PeerStatus } from '../federation/status/types';
import type { MulticlusterConditionReason } from './reasons';
import type { ApiProbeResult } from './probe';
import type { MulticlusterPeerVerdict } from './verdict';
import type { MulticlusterPrivateDocument } from './wire';

/**
 * The projection of the multicluster verdict onto a peer's status: TrustEstablished, Joined,
 * RemoteAPIReachable and Ready on top of MetadataFetched (recorded by the shared
 * status/record.ts). RemoteAPIReachable is the probe's (probe.ts records it); the projection
 * keeps it while the peer is joined, says NotProbed otherwise. Ready needs all four: an
 * api-proxy that refuses us means istiod cannot sync that remote, so the peer is not ready.
 * Same inputs, same status: no write when nothing changed.
 */

type Input = ConditionInput<MulticlusterConditionReason>;
type Status = PeerStatus<MulticlusterPrivateDocument>;

export const READY_MESSAGE =
  'metadata is current, the peer is trusted and joined, and its api-proxy answers our token';

export function projectMulticluster(
  status: Status,
  verdict: MulticlusterPeerVerdict,
  context: ProjectionContext,
): Status {
  const { trust } = verdict;
  const apply = (updates: readonly Input[]): Condition[] =>
    applyConditions<MulticlusterConditionReason>(status.conditions, updates, context.now, context.generation);
  if (!trust.trusted && trust.reason === 'MulticlusterDisabled') {
    // Fetching stops and the cache stays (for when multicluster is enabled again).
    const types = ['TrustEstablished', 'Joined', 'RemoteAPIReachable', 'Ready'] as const;
    return {
      ...status,
      conditions: apply(types.map((type) => ({ type, status: 'False', ...trust }))),
    };
  }
  const fetched = findCondition(status.conditions, 'MetadataFetched');
  // Not fetched since it was created: nothing to say yet.
  if (!fetched) return status;
  const identity = trust.trusted
    ? boundIdentity(status.trustedIdentity, trust.identity, context.now)
    : undefined;
  const trustNow = trustCondition(status, trust, context, identity);
  const joined = joinedCondition(status, verdict);
  const api = apiCondition(status, verdict);
  return {
    ...status,
    ...(identity ? { trustedIdentity: identity } : {}),
    conditions: apply([
      trustNow,
      joined,
      api,
      readyCondition<MulticlusterConditionReason>([fetched, trustNow, joined, api], READY_MESSAGE),
    ]),
  };
}

function joinedCondition(status: Status, { join }: MulticlusterPeerVerdict): Input {
  if (join.state === 'Joined')
    return { type: 'Joined', status: 'True', reason: 'Joined', message: join.message };
  // No private document because the peer refuses our token: say so (its admin must act).
  const fetched = findCondition(status.conditions, 'MetadataFetched');
  if (join.state === 'NoPrivateMetadata' && fetched?.status === 'False' && fetched.reason === 'TokenRejected')
    return { type: 'Joined', status: 'False', reason: 'TokenRejected', message: fetched.message };
  return { type: 'Joined', status: 'False', reason: join.state, message: join.message };
}

/** The probe's last result while joined; NotProbed (Unknown) with why otherwise. */
function apiCondition(status: Status, { join }: MulticlusterPeerVerdict): Input {
  const before = findCondition(status.conditions, 'RemoteAPIReachable');
  if (join.state !== 'Joined')
    return {
      type: 'RemoteAPIReachable',
      status: 'Unknown',
      reason: 'NotProbed',
      message: `the remote API is probed once the peer is joined (Joined: ${join.state})`,
    };
  if (before && before.reason !== 'MulticlusterDisabled')
    return { ...before, reason: before.reason as MulticlusterConditionReason };
  return {
    type: 'RemoteAPIReachable',
    status: 'Unknown',
    reason: 'NotProbed',
    message: 'the remote API has not been probed yet',
  };
}

/**
 * A probe's result on a joined peer's status (after the projection): RemoteAPIReachable,
 * and Ready again from the four conditions it stands on.
 */
export function recordApiProbe(
  status: Status,
  result: ApiProbeResult,
  context: Pick<ProjectionContext, 'now' | 'generation'>,
): Status {
  const api: Input = { type: 'RemoteAPIReachable', ...result };
  const conditions = applyConditions<MulticlusterConditionReason>(
    status.conditions,
    [api],
    context.now,
    context.generation,
  );
  const parts = (['MetadataFetched', 'TrustEstablished', 'Joined', 'RemoteAPIReachable'] as const).map(
    (type) => findCondition(conditions, type),
  );
  if (parts.some((c) => c === undefined)) return { ...status, conditions };
  const ready = readyCondition<MulticlusterConditionReason>(parts as Condition[], READY_MESSAGE);
  return {
    ...status,
    conditions: applyConditions<MulticlusterConditionReason>(
      conditions,
      [ready],
      context.now,
      context.generation,
    ),
  };
}
