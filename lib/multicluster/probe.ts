import { withPeerExcerpt } from '../federation/fetch/outcome';
import { preparedTlsFor, type FetchEnvironment } from '../federation/fetch/peer';
import { inRefreshSlot, type RefreshPolicy } from '../federation/fetch/refresh';
import type { PeerTls } from '../federation/fetch/tls';
import { fetchDocument, type FetchLimits, type FetchResult } from '../federation/fetch/transport';
import { signPeerToken } from '../federation/identity/jwt';
import { findCondition } from '../federation/status/conditions';
import type { PeerStatus } from '../federation/status/types';
import { parseJsonBody } from '../federation/wire/validate';
import { isRecord } from '../util/guards';
import type { APIProbeReason } from './reasons';
import { MULTICLUSTER_SCOPES, multiclusterTokenRejectedMessage } from './wire';

/**
 * The remote-API probe: `GET https://<apiHost>/api` with a fresh `scope: api` token of 60 s
 * (the reference mints a 366-day token for every probe, every minute; a probe needs one
 * minute), with the TLS settings of the metadata fetch (spec.metadata.ca wins over
 * insecureSkipVerify). Success only on 200 with a JSON body of `kind: APIVersions` (what
 * Deckhouse's probe and any kube-apiserver answer). Bounded: the fetch limits below, one
 * connection of its own. Never throws for anything the remote does.
 */

/** APIVersions is a few hundred bytes; anything past 64 KiB is not one. */
export const API_PROBE_LIMITS: FetchLimits = {
  connectTimeoutMs: 5_000,
  tlsHandshakeTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  maxBytes: 64 * 1024,
};

/**
 * A healthy peer's API is probed once a minute (in a slot spread by its name), as the
 * reference does: istiod talks to that API continuously, the probe only has to notice an
 * api-proxy that stops answering us, and the alert waits 5 minutes anyway. Probed at once
 * when it matters: a peer that just joined, a spec change, a new apiHost or identity.
 */
export const API_PROBE_INTERVAL_SECONDS = 60;

/**
 * While the last probe failed: the remote's admin is fixing something (or re-adding us), and
 * Ready waits for this probe; one GET of `/api` every 10 s is cheap. Measured in the e2e
 * (B forgets A, then learns it again): with the 60 s slot, Ready came back 7-60 s after B
 * trusted A again.
 */
export const API_PROBE_RETRY_SECONDS = 10;

export interface ApiProbeTarget {
  name: string;
  apiHost: string;
  /** The remote's clusterUUID: the token's audience. */
  clusterUUID: string;
  tls: PeerTls;
}

export interface ApiProbeResult {
  status: 'True' | 'False';
  reason: APIProbeReason;
  message: string;
}

export function apiUrl(apiHost: string): string {
  return `https://${apiHost}/api`;
}

const failed = (reason: APIProbeReason, message: string): ApiProbeResult => ({
  status: 'False',
  reason,
  message,
});

export async function probeRemoteApi(target: ApiProbeTarget, env: FetchEnvironment): Promise<ApiProbeResult> {
  const url = apiUrl(target.apiHost);
  if (target.apiHost === '') return failed('MissingAPIHost', 'the peer publishes no apiHost');
  const { clusterUUID, authnPrivateKey } = env.local;
  if (!clusterUUID || !authnPrivateKey)
    return failed('LocalIdentityMissing', `${url} not probed: our clusterUUID or key pair is not set yet`);
  let token: string;
  try {
    token = await signPeerToken({
      privateKeyPem: authnPrivateKey,
      audience: target.clusterUUID,
      subject: clusterUUID,
      scope: MULTICLUSTER_SCOPES.api,
      now: env.now,
    });
  } catch (error) {
    return failed(
      'LocalIdentityMissing',
      `${url} not probed: cannot sign a token: ${(error as Error).message}`,
    );
  }
  try {
    const result = await fetchDocument({
      url,
      tls: preparedTlsFor(target.tls, env),
      headers: { Authorization: `Bearer ${token}` },
      limits: env.limits ?? API_PROBE_LIMITS,
    });
    return interpret(result, url, env.local);
  } catch (error) {
    return failed('RemoteAPIUnreachable', `GET ${url}: ${(error as Error).message ?? String(error)}`);
  }
}

function interpret(result: FetchResult, url: string, local: FetchEnvironment['local']): ApiProbeResult {
  if (!result.ok) {
    const message = withPeerExcerpt(result.message, result.bodyExcerpt);
    if (result.status === 401 || result.status === 403)
      return failed(
        'RemoteAPITokenRejected',
        withPeerExcerpt(multiclusterTokenRejectedMessage(result.message, local), result.bodyExcerpt),
      );
    switch (result.reason) {
      case 'TLSError':
        return failed(
          'RemoteAPITLSError',
          `${message} (spec.metadata.ca or insecureSkipVerify also apply to the api host)`,
        );
      case 'HTTPError':
      case 'Redirect':
        return failed('RemoteAPIBadResponse', message);
      case 'TooLarge':
      case 'InvalidDocument':
        return failed('RemoteAPIInvalidResponse', message);
      default:
        return failed('RemoteAPIUnreachable', message);
    }
  }
  const parsed = parseJsonBody(result.body);
  if (!parsed.ok) return failed('RemoteAPIInvalidResponse', `GET ${url}: ${parsed.error}`);
  const kind = isRecord(parsed.value) ? parsed.value.kind : undefined;
  if (kind !== 'APIVersions')
    return failed(
      'RemoteAPIUnexpectedResponse',
      `GET ${url}: the answer is not a Kubernetes APIVersions (kind ${JSON.stringify(kind ?? null)?.slice(0, 60)})`,
    );
  return {
    status: 'True',
    reason: 'RemoteAPIReachable',
    message: `GET ${url} answers APIVersions to our api token`,
  };
}

/** What decides whether a joined peer's API is probed in this run. */
export interface ProbeDueInput {
  name: string;
  generation: number | undefined;
  /** As read (before this run). */
  stored: PeerStatus<{ apiHost: string }>;
  /** After this run's fetch and projection. */
  next: PeerStatus<{ apiHost: string }>;
  scheduled: boolean;
  now: Date;
  policy: RefreshPolicy;
}

/**
 * Due at once when never probed (NotProbed: just joined, or re-enabled), on a spec change
 * (TLS settings), a new apiHost or a new remote identity (the token's audience), or when this
 * run's metadata fetch changed its verdict (e.g. the remote began or stopped refusing our
 * token: its api-proxy follows the same allow-list); otherwise on the schedule tick of the
 * peer's slot in API_PROBE_INTERVAL_SECONDS, or API_PROBE_RETRY_SECONDS while the last probe
 * failed. Stateless: from status and the clock, like the fetch (fetch/refresh.ts).
 */
export function apiProbeDue(input: ProbeDueInput): boolean {
  const { stored, next } = input;
  const condition = findCondition(next.conditions, 'RemoteAPIReachable');
  if (!condition || condition.reason === 'NotProbed') return true;
  if (stored.observedGeneration !== input.generation) return true;
  if (stored.metadataCache?.private?.apiHost !== next.metadataCache?.private?.apiHost) return true;
  if (stored.metadataCache?.public?.clusterUUID !== next.metadataCache?.public?.clusterUUID) return true;
  const fetched = (status: ProbeDueInput['stored']) => findCondition(status.conditions, 'MetadataFetched');
  const [before, after] = [fetched(stored), fetched(next)];
  if (before?.status !== after?.status || before?.reason !== after?.reason) return true;
  const period = condition.status === 'True' ? API_PROBE_INTERVAL_SECONDS : API_PROBE_RETRY_SECONDS;
  const interval = Math.max(period, input.policy.tickSeconds);
  return (
    input.scheduled &&
    inRefreshSlot(`api/${input.name}`, input.now, { ...input.policy, refreshSeconds: interval })
  );
}
