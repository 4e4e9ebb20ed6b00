import type { FetchOutcome, FetchFailure } from '../federation/fetch/outcome';
import type { PeerTarget } from '../federation/fetch/peer';
import { readFederation, type Federation } from '../federation/kind';
import type { CachedPrivateDocument } from '../federation/wire/validate';
import type { LocalView } from './local';
import { result, type CheckResult } from './result';
import {
  at,
  NAMESPACE,
  parseJsonRecord,
  DOCUMENTS_SECRET,
  REMOTES_KEY,
  secretData,
  text,
  type Read,
} from './snapshot';

/**
 * The checks of one peer (one IstioFederation): its documents fetched now with our token,
 * the peer's verdict on that token, what the fetch hook recorded, a TLS dial to each of its
 * gateways and our ServiceEntries against its status. Pure: fetch and probe results in.
 */

export const peerScope = (name: string): string => `peer ${name}`;

/** An IstioFederation object as the hooks read it (spec, status, cached documents validated). */
export function readPeer(raw: unknown, ownTrustDomain: string): Federation | undefined {
  return readFederation(
    {
      name: text(raw, 'metadata', 'name'),
      generation: at(raw, 'metadata', 'generation'),
      spec: at(raw, 'spec'),
      status: at(raw, 'status'),
    },
    { ownTrustDomain },
  );
}

export function peerTarget(peer: Federation): PeerTarget<CachedPrivateDocument> {
  return {
    name: peer.name,
    trustDomain: peer.trustDomain,
    metadataEndpoint: peer.metadataEndpoint,
    tls: peer.tls,
  };
}

/** What the peer's admin must create so that the peer accepts our token. */
export function tokenRefusedHint(peer: Federation, local: LocalView): string {
  return (
    `the peer does not accept our token: in the cluster of ${peer.trustDomain}, its admin must create an IstioFederation ` +
    `with spec.trustDomain: ${local.trustDomain ?? '<our cluster domain>'} and spec.metadataEndpoint: ` +
    `${local.metadataEndpoint ?? 'https://istio-metadata.<our public domain>/metadata/'} ` +
    `(plus spec.metadata.ca if our endpoint's certificate is not publicly trusted), and its fetch of our public ` +
    `document must succeed (kubectl get istiofederations there). Our clusterUUID is ${local.clusterUUID ?? '?'}; ` +
    `\`istio-federation check token --peer ${peer.name}\` prints a request to try by hand`
  );
}

function fetchFailureHint(failure: FetchFailure, peer: Federation): string {
  switch (failure.reason) {
    case 'Unreachable':
    case 'Timeout':
      return `the peer's metadata endpoint ${peer.metadataEndpoint} does not answer from here: is its exporter running (peer: kubectl -n ${NAMESPACE} get pods -l app=metadata-exporter), its Ingress and DNS reachable?`;
    case 'TLSError':
      return "TLS to the peer's endpoint failed: set spec.metadata.ca to the CA of its certificate (or fix the peer's certificate)";
    case 'Redirect':
      return 'the endpoint redirects (redirects are not followed): use the final https URL in spec.metadataEndpoint';
    case 'InvalidDocument':
      return "the endpoint answers with something that is not a valid federation document: check spec.metadataEndpoint ends in /metadata/ and points at the peer's exporter";
    case 'TooLarge':
      return 'the peer publishes more than the fetch accepts';
    case 'AllItemsRejected':
      return 'every item the peer publishes was refused: see status.rejectedItems of this IstioFederation';
    default:
      return `see status.lastError of IstioFederation ${peer.name}`;
  }
}

export interface PeerFetch {
  outcome: FetchOutcome<CachedPrivateDocument>;
  durationMs: number;
}

export function checkPublicDocument(peer: Federation, fetched: PeerFetch | undefined): CheckResult {
  const scope = peerScope(peer.name);
  const title = 'public document fetched';
  if (!fetched) return result('peer.public-document', scope, title, 'skip', { detail: 'not fetched' });
  const pub = fetched.outcome.public;
  if (!pub.ok) {
    return result('peer.public-document', scope, title, 'fail', {
      detail: `${pub.failure.reason}: ${pub.failure.message}`,
      hint: fetchFailureHint(pub.failure, peer),
    });
  }
  const cachedUUID = peer.status.metadataCache?.public?.clusterUUID;
  const uuid = pub.document.clusterUUID;
  if (cachedUUID && cachedUUID !== uuid) {
    return result('peer.public-document', scope, title, 'warn', {
      detail: `clusterUUID ${uuid}, but status caches ${cachedUUID}`,
      hint: 'the peer changed identity (or the endpoint now points at another cluster); the next fetch updates status',
    });
  }
  return result('peer.public-document', scope, title, 'pass', { detail: `clusterUUID ${uuid}` });
}

/** The private document fetched with our token: the peer's verdict on our token. */
export function checkPrivateDocument(
  peer: Federation,
  fetched: PeerFetch | undefined,
  local: LocalView,
): CheckResult {
  const scope = peerScope(peer.name);
  const title = 'private document fetched with our token';
  const priv = fetched?.outcome.private;
  if (!fetched || !fetched.outcome.public.ok || !priv) {
    return result('peer.private-document', scope, title, 'skip', {
      detail: 'needs the public document (the token is addressed to its clusterUUID)',
    });
  }
  if (!priv.ok) {
    const refused = priv.failure.reason === 'TokenRejected';
    return result('peer.private-document', scope, title, 'fail', {
      detail: refused
        ? `the peer refused our token (HTTP ${priv.failure.status ?? '401/403'} from ${priv.failure.endpoint})`
        : `${priv.failure.reason}: ${priv.failure.message}`,
      hint: refused ? tokenRefusedHint(peer, local) : fetchFailureHint(priv.failure, peer),
    });
  }
  const doc = priv.document;
  const rejected = priv.rejected?.length ?? 0;
  return result('peer.private-document', scope, title, rejected ? 'warn' : 'pass', {
    detail:
      `${doc.publicServices.length} services, ${doc.ingressGateways.length} gateways (${fetched.durationMs.toFixed(0)} ms)` +
      (rejected ? `; ${rejected} items refused: ${priv.rejected!.slice(0, 3).join('; ')}` : ''),
    ...(rejected ? { hint: 'the peer publishes items we refuse; see status.rejectedItems' } : {}),
  });
}

/** What the fetch hook recorded: the Ready condition. */
export function checkRecordedStatus(peer: Federation): CheckResult {
  const scope = peerScope(peer.name);
  const title = 'status Ready (as the module recorded it)';
  const conditions = peer.status.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (!ready) {
    return result('peer.status', scope, title, 'fail', {
      detail: 'no Ready condition yet',
      hint: 'the fetch hook has not processed this IstioFederation: is federation enabled and the module running?',
    });
  }
  if (ready.status === 'True') return result('peer.status', scope, title, 'pass', { detail: ready.reason });
  const failing = conditions.filter((c) => c.status !== 'True' && c.type !== 'Ready');
  return result('peer.status', scope, title, 'fail', {
    detail: [ready, ...failing].map((c) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join('; '),
    hint: `kubectl get istiofederation ${peer.name} -o yaml: the conditions say which step fails (USAGE: condition reasons)`,
  });
}

/**
 * The other direction: our exporter accepts this peer's token only when the module rendered
 * the peer's public document (its authn key) into the documents Secret (remote-public-metadata.json).
 */
export function checkAcceptedByUs(
  peer: Federation,
  fetched: PeerFetch | undefined,
  remotes: Read<unknown>,
): CheckResult {
  const scope = peerScope(peer.name);
  const title = "our exporter accepts this peer's token";
  const known = fetched?.outcome.public.ok
    ? fetched.outcome.public.document
    : peer.status.metadataCache?.public;
  if (!known) {
    return result('peer.accepted-by-us', scope, title, 'skip', {
      detail: "the peer's public document is not known yet",
    });
  }
  if (!remotes.ok) {
    return result('peer.accepted-by-us', scope, title, 'warn', {
      detail: `cannot read Secret ${NAMESPACE}/${DOCUMENTS_SECRET}: ${remotes.error}`,
      hint: 'the check needs get on that Secret to say whether this peer can read our private document',
    });
  }
  const map = parseJsonRecord(secretData(remotes.value, REMOTES_KEY)) ?? {};
  const entry = map[known.clusterUUID];
  const key = text(entry, 'authnKeyPub');
  if (!key) {
    return result('peer.accepted-by-us', scope, title, 'fail', {
      detail: `clusterUUID ${known.clusterUUID} is not among the ${Object.keys(map).length} peers in ${REMOTES_KEY} of Secret ${DOCUMENTS_SECRET}`,
      hint: 'the module trusts a peer once its public document is fetched and accepted (TrustEstablished=True); until then the peer gets 401 from us: see this IstioFederation\u2019s conditions',
    });
  }
  if (key.trim() !== known.authnKeyPub.trim()) {
    return result('peer.accepted-by-us', scope, title, 'fail', {
      detail: `${REMOTES_KEY} of Secret ${DOCUMENTS_SECRET} holds another authn key for clusterUUID ${known.clusterUUID}`,
      hint: 'the peer rotated its key pair; the next fetch and Helm run update it (see MetadataFetched)',
    });
  }
  return result('peer.accepted-by-us', scope, title, 'pass', { detail: `clusterUUID ${known.clusterUUID}` });
}
