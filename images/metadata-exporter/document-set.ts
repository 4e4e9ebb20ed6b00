import Ajv from 'ajv';
import { parseAuthnPublicKey } from '../../lib/federation/identity/authn-keys';
import {
  validateIngressGateway,
  validatePrivateDocumentShape,
  validatePublicDocument,
  validatePublicService,
  type IngressGateway,
  type PublicDocument,
  type PublicService,
  type Validation,
} from '../../lib/federation/wire/documents';
import { spiffeBundleFromPem, type SpiffeBundle } from './spiffe-bundle';

/** File names inside the documents directory (keys of the Secrets Helm renders). */
export const DOCUMENT_FILES = {
  public: 'public.json',
  federation: 'federation.json',
  remotes: 'remote-public-metadata.json',
} as const;

export type DocumentFileName = (typeof DOCUMENT_FILES)[keyof typeof DOCUMENT_FILES];

/** A public service as rendered from values: the wire shape plus the export restriction. */
export interface ExportedService extends PublicService {
  /** When present, only peers whose trust domain is listed may see the service. */
  allowedTrustDomains?: string[];
}

export interface FederationSource {
  ingressGateways: IngressGateway[];
  publicServices: ExportedService[];
}

/** A federated cluster allowed to read the private document. */
export interface RemotePeer {
  clusterUUID: string;
  authnKeyPub: string;
  /** Absent for peers rendered without one: they only see unrestricted services. */
  trustDomain?: string;
}

export interface DocumentSet {
  public: PublicDocument;
  federation: FederationSource;
  remotes: ReadonlyMap<string, RemotePeer>;
  spiffeBundle: SpiffeBundle;
}

export interface LoadedDocumentSet {
  set: DocumentSet;
  /** Remote entries left out of the set (the rest of the set is still usable). */
  rejectedRemotes: { clusterUUID: string; reason: string }[];
}

export type RawDocuments = Record<keyof typeof DOCUMENT_FILES, string>;

const TRUST_DOMAIN_PATTERN = /^[0-9a-zA-Z._-]+$/;

const ajv = new Ajv({ allErrors: false, strict: true });
const validateAllowedTrustDomains = ajv.compile<string[]>({
  type: 'array',
  maxItems: 1024,
  items: { type: 'string', minLength: 1, maxLength: 253, pattern: TRUST_DOMAIN_PATTERN.source },
});

function parseJson(text: string, what: string): Validation<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, error: `${what} is not valid JSON` };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseFederationSource(raw: unknown): Validation<FederationSource> {
  const shape = validatePrivateDocumentShape(raw);
  if (!shape.ok) return { ok: false, error: `${DOCUMENT_FILES.federation}: ${shape.error}` };
  const ingressGateways: IngressGateway[] = [];
  for (const [index, item] of (shape.value.ingressGateways ?? []).entries()) {
    const gateway = validateIngressGateway(item);
    if (!gateway.ok) return { ok: false, error: `${DOCUMENT_FILES.federation}: [${index}] ${gateway.error}` };
    ingressGateways.push({ address: gateway.value.address, port: gateway.value.port });
  }
  const publicServices: ExportedService[] = [];
  for (const [index, item] of (shape.value.publicServices ?? []).entries()) {
    const service = validatePublicService(item);
    if (!service.ok) return { ok: false, error: `${DOCUMENT_FILES.federation}: [${index}] ${service.error}` };
    const allowed = (item as { allowedTrustDomains?: unknown }).allowedTrustDomains;
    if (allowed !== undefined && allowed !== null && !validateAllowedTrustDomains(allowed)) {
      return {
        ok: false,
        error: `${DOCUMENT_FILES.federation}: [${index}] allowedTrustDomains must be a list of trust domains`,
      };
    }
    publicServices.push({
      hostname: service.value.hostname,
      ports: (service.value.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port })),
      ...(service.value.identities?.length ? { identities: [...service.value.identities] } : {}),
      ...(Array.isArray(allowed) ? { allowedTrustDomains: allowed as string[] } : {}),
    });
  }
  return { ok: true, value: { ingressGateways, publicServices } };
}

function remotePeerProblem(key: string, entry: unknown): string | RemotePeer {
  const doc = validatePublicDocument(entry);
  if (!doc.ok) return doc.error;
  if (doc.value.clusterUUID !== key) return 'clusterUUID differs from its key';
  const trustDomain = (entry as { trustDomain?: unknown }).trustDomain;
  if (
    trustDomain !== undefined &&
    (typeof trustDomain !== 'string' || !TRUST_DOMAIN_PATTERN.test(trustDomain))
  )
    return 'trustDomain is invalid';
  try {
    parseAuthnPublicKey(doc.value.authnKeyPub);
  } catch (error) {
    return `authnKeyPub: ${(error as Error).message}`;
  }
  return {
    clusterUUID: key,
    authnKeyPub: doc.value.authnKeyPub,
    ...(typeof trustDomain === 'string' ? { trustDomain } : {}),
  };
}

/**
 * Validates the three documents as one set. Our own documents must be valid as a whole;
 * a broken remote entry only drops that remote, so one bad peer cannot freeze reloads
 * of our own documents (e.g. a root CA rotation).
 */
export function parseDocumentSet(raw: RawDocuments): Validation<LoadedDocumentSet> {
  const publicJson = parseJson(raw.public, DOCUMENT_FILES.public);
  if (!publicJson.ok) return publicJson;
  const publicDoc = validatePublicDocument(publicJson.value);
  if (!publicDoc.ok) return { ok: false, error: `${DOCUMENT_FILES.public}: ${publicDoc.error}` };
  try {
    parseAuthnPublicKey(publicDoc.value.authnKeyPub);
  } catch (error) {
    return { ok: false, error: `${DOCUMENT_FILES.public}: authnKeyPub: ${(error as Error).message}` };
  }
  let spiffeBundle: SpiffeBundle;
  try {
    spiffeBundle = spiffeBundleFromPem(publicDoc.value.rootCA);
  } catch (error) {
    return { ok: false, error: `${DOCUMENT_FILES.public}: rootCA: ${(error as Error).message}` };
  }

  const federationJson = parseJson(raw.federation, DOCUMENT_FILES.federation);
  if (!federationJson.ok) return federationJson;
  const federation = parseFederationSource(federationJson.value);
  if (!federation.ok) return federation;

  const remotesJson = parseJson(raw.remotes, DOCUMENT_FILES.remotes);
  if (!remotesJson.ok) return remotesJson;
  if (!isRecord(remotesJson.value)) {
    return { ok: false, error: `${DOCUMENT_FILES.remotes}: must be an object keyed by clusterUUID` };
  }
  const remotes = new Map<string, RemotePeer>();
  const rejectedRemotes: LoadedDocumentSet['rejectedRemotes'] = [];
  for (const [clusterUUID, entry] of Object.entries(remotesJson.value)) {
    const peer = remotePeerProblem(clusterUUID, entry);
    if (typeof peer === 'string') rejectedRemotes.push({ clusterUUID, reason: peer });
    else remotes.set(clusterUUID, peer);
  }

  const { clusterUUID, authnKeyPub, rootCA } = publicDoc.value;
  return {
    ok: true,
    value: {
      set: {
        public: { clusterUUID, authnKeyPub, rootCA },
        federation: federation.value,
        remotes,
        spiffeBundle,
      },
      rejectedRemotes,
    },
  };
}
