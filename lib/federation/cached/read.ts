import type { Condition, ConditionStatus } from '../status/conditions';
import { validateIngressGateway, validatePublicDocument, validatePublicService } from '../wire/documents';
import type { CachedPrivateDocument } from '../wire/validate';
import type { FederationStatus, FetchRetry, MetadataCache } from '../status/project';

/**
 * Reads an IstioFederation status back from a snapshot. The status is ours, but anyone
 * with write access can edit it: malformed fields are dropped (and then rewritten), never
 * trusted and never a hook failure.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

export function parseFederationStatus(raw: unknown): FederationStatus {
  if (!isObject(raw)) return {};
  const status: FederationStatus = {};
  if (isCount(raw.observedGeneration)) status.observedGeneration = raw.observedGeneration;
  const cache = parseCache(raw.metadataCache);
  if (cache) status.metadataCache = cache;
  if (Array.isArray(raw.conditions)) {
    const conditions = raw.conditions.map(parseCondition).filter((c): c is Condition => c !== undefined);
    if (conditions.length) status.conditions = conditions;
  }
  if (isCount(raw.importedServices)) status.importedServices = raw.importedServices;
  if (isString(raw.lastError)) status.lastError = raw.lastError;
  if (Array.isArray(raw.rejectedItems) && raw.rejectedItems.every(isString)) {
    status.rejectedItems = raw.rejectedItems;
  }
  const retry = parseRetry(raw.fetchRetry);
  if (retry) status.fetchRetry = retry;
  return status;
}

function parseCache(raw: unknown): MetadataCache | undefined {
  if (!isObject(raw)) return undefined;
  const cache: MetadataCache = {};
  const pub = validatePublicDocument(raw.public);
  if (pub.ok) {
    const { clusterUUID, authnKeyPub, rootCA } = pub.value;
    cache.public = { clusterUUID, authnKeyPub, rootCA };
  }
  if (isString(raw.publicLastFetchTimestamp)) cache.publicLastFetchTimestamp = raw.publicLastFetchTimestamp;
  const priv = parseCachedPrivate(raw.private);
  if (priv) cache.private = priv;
  if (isString(raw.privateLastFetchTimestamp))
    cache.privateLastFetchTimestamp = raw.privateLastFetchTimestamp;
  return Object.keys(cache).length ? cache : undefined;
}

function parseCachedPrivate(raw: unknown): CachedPrivateDocument | undefined {
  if (!isObject(raw)) return undefined;
  const gateways = raw.ingressGateways ?? [];
  const services = raw.publicServices ?? [];
  if (!Array.isArray(gateways) || !Array.isArray(services)) return undefined;
  if (!gateways.every((g) => validateIngressGateway(g).ok)) return undefined;
  if (!services.every((s) => validatePublicService(s).ok)) return undefined;
  return { ingressGateways: gateways, publicServices: services } as CachedPrivateDocument;
}

const CONDITION_STATUSES: readonly string[] = ['True', 'False', 'Unknown'];

function parseCondition(raw: unknown): Condition | undefined {
  if (!isObject(raw)) return undefined;
  const { type, status, reason, message, lastTransitionTime, observedGeneration } = raw;
  if (!isString(type) || !isString(status) || !CONDITION_STATUSES.includes(status)) return undefined;
  if (!isString(reason) || !isString(lastTransitionTime)) return undefined;
  return {
    type,
    status: status as ConditionStatus,
    reason,
    message: isString(message) ? message : '',
    lastTransitionTime,
    ...(isCount(observedGeneration) ? { observedGeneration } : {}),
  };
}

function parseRetry(raw: unknown): FetchRetry | undefined {
  if (!isObject(raw)) return undefined;
  const { failures, notBefore, failedEndpoint } = raw;
  if (!isCount(failures) || !isString(notBefore)) return undefined;
  return { failures, notBefore, failedEndpoint: isString(failedEndpoint) ? failedEndpoint : '' };
}
