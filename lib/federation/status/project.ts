import type { PeerVerdict } from '../import/verdict';
import { isTrustDomainRefusal } from '../trust/refusals';
import { applyConditions, findCondition, rfc3339, type Condition, type ConditionInput } from './conditions';
import { gatewayNotProbedCondition, gatewayReachableCondition } from './gateway';
import type { ConditionReason } from './reasons';
import type { PeerStatus, TrustedIdentity } from './types';

/**
 * The one projection from the verdict (import/verdict.ts) onto a peer's status:
 * TrustEstablished, ServicesImported, Ready and importedServices, on top of what the fetch
 * recorded (status/record.ts), and GatewayReachable from what the probe hook recorded
 * (status/gateway.ts; not part of Ready). The merge hook writes values from the same verdict, so the
 * status says exactly what was imported. Derived every time from the same inputs, it
 * yields the same status (no write) when nothing changed.
 */

export interface ProjectionContext {
  generation: number | undefined;
  now: Date;
  /** This run fetched the peer's public document (a kept IdentityChanged note ends then). */
  fetched: boolean;
}

const MAX_CONFLICTS_IN_MESSAGE = 5;

export function projectStatus<P>(
  status: PeerStatus<P>,
  verdict: PeerVerdict,
  context: ProjectionContext,
): PeerStatus<P> {
  const { trust } = verdict;
  if (!trust.trusted && isTrustDomainRefusal(trust.reason)) {
    // Refused for its trust domain: not fetched, nothing of it kept or imported.
    const conditions = (['MetadataFetched', 'TrustEstablished', 'ServicesImported', 'Ready'] as const).map(
      (type): ConditionInput => ({ type, status: 'False', reason: trust.reason, message: trust.message }),
    );
    conditions.push(
      gatewayNotProbedCondition(`the gateways of a refused peer (${trust.reason}) are not probed`),
    );
    return {
      ...(context.generation !== undefined ? { observedGeneration: context.generation } : {}),
      conditions: applyConditions(status.conditions, conditions, context.now, context.generation),
      importedServices: 0,
      services: servicesColumn(verdict),
      lastError: trust.message,
    };
  }
  if (!trust.trusted && trust.reason === 'FederationDisabled') {
    // Fetching stops and the cache stays (for when federation is enabled again); what is
    // trusted and imported is nothing, and status says so.
    const conditions = (['TrustEstablished', 'ServicesImported', 'Ready'] as const).map(
      (type): ConditionInput => ({ type, status: 'False', reason: trust.reason, message: trust.message }),
    );
    conditions.push(gatewayNotProbedCondition('gateways are not probed while federation is disabled'));
    return {
      ...status,
      conditions: applyConditions(status.conditions, conditions, context.now, context.generation),
      importedServices: 0,
      services: servicesColumn(verdict),
    };
  }
  const fetched = findCondition(status.conditions, 'MetadataFetched');
  // Not fetched since it was created or refused: nothing to say yet.
  if (!fetched || isTrustDomainRefusal(fetched.reason)) return status;
  const identity = trust.trusted
    ? boundIdentity(status.trustedIdentity, trust.identity, context.now)
    : undefined;
  const trustNow = trustCondition(status, verdict, context, identity);
  const services = servicesCondition(status, verdict);
  return {
    ...status,
    ...(identity ? { trustedIdentity: identity } : {}),
    conditions: applyConditions(
      status.conditions,
      [
        trustNow,
        services,
        readyCondition([fetched, trustNow, services]),
        gatewayReachableCondition(status.gatewayProbe),
      ],
      context.now,
      context.generation,
    ),
    importedServices: verdict.imported,
    services: servicesColumn(verdict),
  };
}

/** The Services printer column: what is imported, and what the import limit dropped. */
function servicesColumn({ imported, dropped }: PeerVerdict): string {
  return dropped ? `${imported} (${dropped} dropped)` : `${imported}`;
}

/**
 * The identity to record for a trusted peer: the recorded one while it still holds; a new
 * one (since now, with what it replaced) when the peer changed its clusterUUID or key.
 */
function boundIdentity(
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

function trustCondition<P>(
  status: PeerStatus<P>,
  verdict: PeerVerdict,
  context: ProjectionContext,
  identity: TrustedIdentity | undefined,
): ConditionInput {
  const { trust } = verdict;
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
    return { type: 'TrustEstablished', status: 'True', reason: before.reason, message: before.message };
  }
  return {
    type: 'TrustEstablished',
    status: 'True',
    reason: 'PeerTrusted',
    message: `root CA and authn key of cluster ${status.metadataCache?.public?.clusterUUID ?? ''} are trusted`,
  };
}

function servicesCondition<P>(status: PeerStatus<P>, verdict: PeerVerdict): ConditionInput {
  const type = 'ServicesImported';
  const rejected = status.rejectedItems?.length ?? 0;
  const rejectedNote = rejected ? `; ${rejected} item(s) rejected, see status.rejectedItems` : '';
  switch (verdict.state) {
    case 'NotTrusted':
      return {
        type,
        status: 'False',
        reason: 'PeerNotTrusted',
        message: 'services of a peer that is not trusted are not imported',
      };
    case 'NoPrivateMetadata': {
      const fetched = findCondition(status.conditions, 'MetadataFetched');
      if (fetched?.status === 'False' && fetched.reason === 'TokenRejected') {
        return { type, status: 'False', reason: 'TokenRejected', message: fetched.message };
      }
      return {
        type,
        status: 'False',
        reason: 'NoPrivateMetadata',
        message: 'the peer private document (services, gateways) has not been fetched yet',
      };
    }
    case 'NoGateways':
      return {
        type,
        status: 'False',
        reason: 'NoGateways',
        message: `the peer publishes ${verdict.published} service(s) but no ingress gateway${rejectedNote}`,
      };
    default: {
      if (verdict.dropped) {
        return {
          type,
          status: 'False',
          reason: 'ImportLimitReached',
          message: `${verdict.imported} of ${verdict.published} service(s) imported; ${verdict.dropped} dropped by the import limit (per federation, and in total shared fairly between federations)${rejectedNote}${conflictNote(verdict)}`,
        };
      }
      const conflicts = verdict.conflicts;
      const reason = conflicts.length ? 'ImportConflicts' : verdict.state;
      const message = `${verdict.published} service(s) via ${verdict.gateways} gateway(s)${rejectedNote}${conflictNote(verdict)}${unpinnedNote(verdict)}`;
      return { type, status: 'True', reason, message };
    }
  }
}

/** Imported without the peer's identities: sidecars accept any trusted root's certificate for them. */
function unpinnedNote({ unpinned }: PeerVerdict): string {
  if (!unpinned) return '';
  return `; ${unpinned} service(s) unpinned: the peer sends no workload identities for them, so any certificate of any trusted root is accepted for them`;
}

function conflictNote({ conflicts }: PeerVerdict): string {
  if (!conflicts.length) return '';
  const shown = conflicts
    .slice(0, MAX_CONFLICTS_IN_MESSAGE)
    .map((c) => `${c.hostname}:${c.port} (${c.message})`)
    .join(', ');
  const more =
    conflicts.length > MAX_CONFLICTS_IN_MESSAGE
      ? ` and ${conflicts.length - MAX_CONFLICTS_IN_MESSAGE} more`
      : '';
  return `; ${conflicts.length} port(s) not imported because they clash with ports already imported: ${shown}${more}`;
}

/**
 * Ready: True when the others are; else the first blocking condition's reason. MetadataFetched
 * comes from status as recorded (status/record.ts writes only vocabulary reasons); a reason
 * someone else wrote there is passed on as it is.
 */
function readyCondition(
  parts: readonly Pick<Condition, 'type' | 'status' | 'reason' | 'message'>[],
): ConditionInput {
  const blocking = parts.find((c) => c.status !== 'True');
  if (blocking) {
    return {
      type: 'Ready',
      status: 'False',
      reason: blocking.reason as ConditionReason,
      message: `${blocking.type}: ${blocking.message}`,
    };
  }
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: 'metadata is current, trust and services are in place',
  };
}
