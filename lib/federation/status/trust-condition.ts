import type { PeerIdentity } from '../trust/select';
import { findCondition, rfc3339, type Condition, type ConditionInput } from './conditions';
import type { PeerStatus, TrustedIdentity } from './types';

/**
 * The parts of a status projection every peer kind shares (federation: project.ts,
 * multicluster: lib/multicluster/status.ts): the identity bound on status, the
 * TrustEstablished condition and Ready. Generic in the kind's refusal reasons.
 */

/** A verdict on one peer's trust: the identity it holds, or why it is refused. */
export type TrustVerdict<R extends string> =
  { trusted: true; identity: PeerIdentity } | { trusted: false; reason: R; message: string };

/**
 * The identity to record for a trusted peer: the recorded one while it still holds; a new
 * one (since now, with what it replaced) when the peer changed its clusterUUID or key.
 */
export function boundIdentity(
  recorded: TrustedIdentity | undefined,
  claimed: { clusterUUID: string; authnKeySha256: string },
  now: Date,
): TrustedIdentity {
  if (recorded?.clusterUUID === claimed.clusterUUID && recorded.authnKeySha256 === claimed.authnKeySha256)
    return recorded;
  const { clusterUUID, authnKeySha256 } = claimed;
  return {
    clusterUUID,
    authnKeySha256,
    since: rfc3339(now),
    ...(recorded
      ? { previous: { clusterUUID: recorded.clusterUUID, authnKeySha256: recorded.authnKeySha256 } }
      : {}),
  };
}

/**
 * TrustEstablished: the refusal, or True — `IdentityChanged` from the run that bound a new
 * identity until the next fetch confirms it, else `PeerTrusted`.
 */
export function trustCondition<P, R extends string>(
  status: PeerStatus<P>,
  trust: TrustVerdict<R>,
  context: { fetched: boolean },
  identity: TrustedIdentity | undefined,
): ConditionInput<R | 'PeerTrusted' | 'IdentityChanged'> {
  if (!trust.trusted)
    return { type: 'TrustEstablished', status: 'False', reason: trust.reason, message: trust.message };
  const before = findCondition(status.conditions, 'TrustEstablished');
  if (identity && identity !== status.trustedIdentity && identity.previous) {
    const changes = [
      ...(identity.previous.clusterUUID !== identity.clusterUUID
        ? [`clusterUUID ${identity.previous.clusterUUID} -> ${identity.clusterUUID}`]
        : []),
      ...(identity.previous.authnKeySha256 !== identity.authnKeySha256
        ? [
            `authn key sha256 ${identity.previous.authnKeySha256.slice(0, 12)} -> ${identity.authnKeySha256.slice(0, 12)}`,
          ]
        : []),
    ];
    return {
      type: 'TrustEstablished',
      status: 'True',
      reason: 'IdentityChanged',
      message: `peer identity changed at ${identity.since} (${changes.join(', ')}; a rebuilt cluster or a key rotation?); the new identity is accepted and trusted`,
    };
  }
  // The note stays until the next fetch confirms the new identity.
  if (!context.fetched && before?.status === 'True' && before.reason === 'IdentityChanged') {
    return { type: 'TrustEstablished', status: 'True', reason: 'IdentityChanged', message: before.message };
  }
  return {
    type: 'TrustEstablished',
    status: 'True',
    reason: 'PeerTrusted',
    message: `root CA and authn key of cluster ${status.metadataCache?.public?.clusterUUID ?? ''} are trusted`,
  };
}

/**
 * Ready: True when the others are; else the first blocking condition's reason. MetadataFetched
 * comes from status as recorded (status/record.ts writes only vocabulary reasons); a reason
 * someone else wrote there is passed on as it is (typed as the kind's vocabulary: `R`).
 */
export function readyCondition<R extends string>(
  parts: readonly Pick<Condition, 'type' | 'status' | 'reason' | 'message'>[],
  readyMessage: string,
): ConditionInput<R | 'Ready'> {
  const blocking = parts.find((c) => c.status !== 'True');
  if (blocking) {
    return {
      type: 'Ready',
      status: 'False',
      reason: blocking.reason as R,
      message: `${blocking.type}: ${blocking.message}`,
    };
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: readyMessage };
}
