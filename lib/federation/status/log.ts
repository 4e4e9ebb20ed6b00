import { jsonEqual } from '../../util/deep-equal';
import { outcomeFailure } from '../fetch/outcome';
import type { NextStatus } from './next';

/** What the fetch hook logs about one peer after a run (the hook writes these lines). */
export interface LogEvent {
  level: 'debug' | 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

/** `peerField`: the log field naming the peer object (`multicluster` for IstioMulticluster, no trust domain). */
export function fetchLogEvents<P>(
  { entry, next, fetch }: NextStatus<P>,
  peerField: 'federation' | 'multicluster' = 'federation',
): LogEvent[] {
  const { peer } = entry;
  const fields =
    peerField === 'federation'
      ? { federation: peer.name, trustDomain: peer.trustDomain }
      : { [peerField]: peer.name };
  const events: LogEvent[] = [];
  if (entry.action === 'refuse') {
    // Once, when the refusal is new (status.lastError then changes).
    if (peer.status.lastError !== entry.refusal.message) {
      events.push({
        level: 'warn',
        message: 'IstioFederation refused',
        fields: { ...fields, ...entry.refusal },
      });
    }
    return events;
  }
  // Once: the patch computed against the stored status removes what was dropped.
  if (peer.rejected.length && !jsonEqual(peer.rejected, peer.status.rejectedItems ?? [])) {
    events.push({
      level: 'warn',
      message: 'ignored invalid metadata in status',
      fields: { ...fields, rejected: peer.rejected },
    });
  }
  if (!fetch) return events;
  const { outcome, durationMs } = fetch.timed;
  const failure = outcomeFailure(outcome);
  const duration = Math.round(durationMs);
  if (failure) {
    events.push({
      level: 'warn',
      message: 'remote metadata fetch failed; keeping the last good data',
      fields: {
        ...fields,
        reason: failure.reason,
        error: failure.message,
        endpoint: failure.endpoint,
        failures: next.fetchRetry?.failures,
        nextAttemptAfter: next.fetchRetry?.notBefore,
        durationMs: duration,
      },
    });
  } else {
    events.push({
      level: 'debug',
      message: 'remote metadata fetched',
      fields: {
        ...fields,
        durationMs: duration,
        importedServices: next.importedServices,
        // Both documents answered 304 to If-None-Match: nothing new, nothing written.
        notModified:
          outcome.public.ok && outcome.public.notModified === true && outcome.private?.ok
            ? outcome.private.notModified === true
            : false,
      },
    });
  }
  const identity = next.trustedIdentity;
  if (identity?.previous && identity.since !== peer.status.trustedIdentity?.since) {
    events.push({
      level: 'warn',
      message: 'peer identity changed; accepting the new identity',
      fields: {
        ...fields,
        from: identity.previous,
        to: { clusterUUID: identity.clusterUUID, authnKeySha256: identity.authnKeySha256 },
      },
    });
  }
  const rejected = outcome.private?.ok ? (outcome.private.rejected ?? []) : [];
  if (rejected.length && !jsonEqual(peer.status.rejectedItems ?? [], rejected)) {
    events.push({
      level: 'warn',
      message: 'some remote metadata items were rejected',
      fields: { ...fields, rejected },
    });
  }
  return events;
}
