import type { PeerVerdict } from '../import/verdict';
import { isTrustDomainRefusal } from '../trust/refusals';
import { applyConditions, findCondition, type ConditionInput } from './conditions';
import { gatewayNotProbedCondition, gatewayReachableCondition } from './gateway';
import type { ConditionReason } from './reasons';
import { boundIdentity, readyCondition, trustCondition } from './trust-condition';
import type { PeerStatus } from './types';

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
  const trustNow = trustCondition(status, trust, context, identity);
  const services = servicesCondition(status, verdict);
  return {
    ...status,
    ...(identity ? { trustedIdentity: identity } : {}),
    conditions: applyConditions<ConditionReason>(
      status.conditions,
      [
        trustNow,
        services,
        readyCondition<ConditionReason>(
          [fetched, trustNow, services],
          'metadata is current, trust and services are in place',
        ),
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
