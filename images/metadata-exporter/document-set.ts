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
import { isRecord } from '../../lib/util/guards';
import { parseMulticlusterDocument, type MulticlusterDocument } from './multicluster-document';
import { spiffeBundleFromPem, type SpiffeBundle } from './spiffe-bundle';

/** File names inside the documents directory (keys of the Secret Helm renders). */
export const DOCUMENT_FILES = {
  public: 'public.json',
  federation: 'federation.json',
  remotes: 'remote-public-metadata.json',
  multicluster: 'multicluster.json',
  multiclusterRemotes: 'remote-multiclusters-public-metadata.json',
} as const;

export type DocumentKey = keyof typeof DOCUMENT_FILES;
export type DocumentFileName = (typeof DOCUMENT_FILES)[DocumentKey];

/**
 * The private documents, one per relationship. Each has its own allow-list: a federation
 * peer never reads multicluster.json and a multicluster peer never reads federation.json
 * (the reference has one list for both); a cluster in both lists reads both.
 */
export const PRIVATE_DOCUMENTS = ['federation', 'multicluster'] as const;
export type PrivateDocumentKind = (typeof PRIVATE_DOCUMENTS)[number];

/** The document file and the file of the peers allowed to read it. */
const PRIVATE_DOCUMENT_KEYS = {
  federation: { document: 'federation', peers: 'remotes' },
  multicluster: { document: 'multicluster', peers: 'multiclusterRemotes' },
} as const satisfies Record<PrivateDocumentKind, { document: DocumentKey; peers: DocumentKey }>;

/** The files a set is read from when these private documents are served. */
export function documentKeys(served: readonly PrivateDocumentKind[]): DocumentKey[] {
  return [
    'public',
    ...PRIVATE_DOCUMENTS.filter((kind) => served.includes(kind)).flatMap((kind) => [
      PRIVATE_DOCUMENT_KEYS[kind].document,
      PRIVATE_DOCUMENT_KEYS[kind].peers,
    ]),
  ];
}

/** A public service as rendered from values: the wire shape plus the export restriction. */
export interface ExportedService extends PublicService {
  /** When present, only peers whose trust domain is listed may see the service. */
  allowedTrustDomains?: string[];
}

export interface FederationSource {
  ingressGateways: IngressGateway[];
  publicServices: ExportedService[];
}

/** A remote cluster allowed to read a private document. */
export interface RemotePeer {
  clusterUUID: string;
  authnKeyPub: string;
  /** Absent for peers rendered without one (all multicluster peers): they only see unrestricted services. */
  trustDomain?: string;
}

export type PeerList = ReadonlyMap<string, RemotePeer>;

export interface DocumentSet {
  public: PublicDocument;
  spiffeBundle: SpiffeBundle;
  /** Present when federation.json is served. */
  federation?: FederationSource;
  /** Present when multicluster.json is served. */
  multicluster?: MulticlusterDocument;
  /** The allow-list of each served private document, by clusterUUID. */
  peers: { readonly [K in PrivateDocumentKind]?: PeerList };
}

export interface LoadedDocumentSet {
  set: DocumentSet;
  /** Remote entries left out of the set (the rest of the set is still usable). */
  rejectedRemotes: { list: DocumentFileName; clusterUUID: string; reason: string }[];
}

/** The files as read: public.json always, the others as the served documents require. */
export type RawDocuments = { public: string } & Partial<Record<Exclude<DocumentKey, 'public'>, string>>;

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

function parsePeerList(
  text: string,
  list: DocumentFileName,
  rejected: LoadedDocumentSet['rejectedRemotes'],
): Validation<PeerList> {
  const json = parseJson(text, list);
  if (!json.ok) return json;
  if (!isRecord(json.value)) return { ok: false, error: `${list}: must be an object keyed by clusterUUID` };
  const peers = new Map<string, RemotePeer>();
  for (const [clusterUUID, entry] of Object.entries(json.value)) {
    const peer = remotePeerProblem(clusterUUID, entry);
    if (typeof peer === 'string') rejected.push({ list, clusterUUID, reason: peer });
    else peers.set(clusterUUID, peer);
  }
  return { ok: true, value: peers };
}

/**
 * A private document and its allow-list: both files, or neither (that document is not
 * served). `parseDocument` reports errors with the file name.
 */
function parsePrivate<T>(
  raw: RawDocuments,
  kind: PrivateDocumentKind,
  parseDocument: (value: unknown) => Validation<T>,
  rejected: LoadedDocumentSet['rejectedRemotes'],
): Validation<{ document: T; peers: PeerList } | undefined> {
  const keys = PRIVATE_DOCUMENT_KEYS[kind];
  const [documentText, peersText] = [raw[keys.document], raw[keys.peers]];
  if (documentText === undefined && peersText === undefined) return { ok: true, value: undefined };
  if (documentText === undefined || peersText === undefined) {
    return {
      ok: false,
      error: `${DOCUMENT_FILES[documentText === undefined ? keys.document : keys.peers]}: missing`,
    };
  }
  const json = parseJson(documentText, DOCUMENT_FILES[keys.document]);
  if (!json.ok) return json;
  const document = parseDocument(json.value);
  if (!document.ok) return document;
  const peers = parsePeerList(peersText, DOCUMENT_FILES[keys.peers], rejected);
  if (!peers.ok) return peers;
  return { ok: true, value: { document: document.value, peers: peers.value } };
}

function parseMulticlusterFile(raw: unknown): Validation<MulticlusterDocument> {
  const document = parseMulticlusterDocument(raw);
  return document.ok ? document : { ok: false, error: `${DOCUMENT_FILES.multicluster}: ${document.error}` };
}

/**
 * Validates the documents as one set: public.json and each private document present with
 * its allow-list. Our own documents must be valid as a whole; a broken remote entry only
 * drops that remote, so one bad peer cannot freeze reloads of our own documents (e.g. a
 * root CA rotation).
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
  const rejectedRemotes: LoadedDocumentSet['rejectedRemotes'] = [];
  const federation = parsePrivate(raw, 'federation', parseFederationSource, rejectedRemotes);
  if (!federation.ok) return federation;
  const multicluster = parsePrivate(raw, 'multicluster', parseMulticlusterFile, rejectedRemotes);
  if (!multicluster.ok) return multicluster;

  const { clusterUUID, authnKeyPub, rootCA } = publicDoc.value;
  const set: DocumentSet = {
    public: { clusterUUID, authnKeyPub, rootCA },
    spiffeBundle,
    ...(federation.value ? { federation: federation.value.document } : {}),
    ...(multicluster.value ? { multicluster: multicluster.value.document } : {}),
    peers: {
      ...(federation.value ? { federation: federation.value.peers } : {}),
      ...(multicluster.value ? { multicluster: multicluster.value.peers } : {}),
    },
  };
  return { ok: true, value: { set, rejectedRemotes } };
}
