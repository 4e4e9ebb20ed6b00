import { isIP } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import type { Protocol } from './protocol';

/**
 * The metadata documents exchanged between clusters: the wire contract shared with the
 * reference (Deckhouse) implementation. This file owns their types, paths and shape
 * schemas; scoping rules (which hostnames a peer may publish) live with the fetcher.
 */

export const METADATA_PATHS = {
  public: '/public/public.json',
  private: '/private/federation.json',
  privateMulticluster: '/private/multicluster.json',
  spiffeBundle: '/public/spiffe-bundle-endpoint',
} as const;

/**
 * Names Istio accepts, shared by every check that feeds a ServiceEntry (a name it refuses
 * fails the whole Helm release). Port names: the CEL rule on endpoint port-map keys
 * (size < 63). DNS names: RFC 1123 labels of 1-63 characters (hosts, DNS endpoints).
 */
export const PORT_NAME_PATTERN = '^[a-zA-Z0-9]([-a-zA-Z0-9]{0,60}[a-zA-Z0-9])?$';
export const DNS_NAME_PATTERN =
  '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$';
const DNS_NAME = new RegExp(DNS_NAME_PATTERN);

/** A trust domain (cluster domain) as the CRD's spec.trustDomain pattern allows it. */
const TRUST_DOMAIN = /^[0-9a-zA-Z._-]{1,253}$/;

export function isValidTrustDomain(domain: string): boolean {
  return TRUST_DOMAIN.test(domain);
}

/** An address Istio accepts for an endpoint: an IP address or a DNS name. */
export function isIpOrDnsName(address: string): boolean {
  return isIP(address) !== 0 || (address.length <= 253 && DNS_NAME.test(address));
}

/** Gateways one peer may publish (a NodePort inlet lists one per node; beyond that is abuse). */
const MAX_GATEWAYS_PER_PEER = 64;

/** Upper bound of one document on the wire (the fetcher refuses larger bodies). */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export interface PublicDocument {
  clusterUUID: string;
  authnKeyPub: string;
  rootCA: string;
}

export interface IngressGateway {
  address: string;
  port: number;
}

export interface PublicServicePort {
  name: string;
  port: number;
  /** Added by the importing side (status.metadataCache.private), absent on the wire. */
  protocol?: Protocol;
}

export interface PublicService {
  hostname: string;
  ports: PublicServicePort[];
  /**
   * Optional key (ours; Deckhouse peers neither send nor read it): the SPIFFE identities
   * (`spiffe://<trust domain>/ns/<namespace>/sa/<service account>`) of the workloads behind
   * the service, sorted. The importer pins the host to them (ServiceEntry subjectAltNames).
   */
  identities?: string[];
}

/** At most this many identities per service, on the wire and in values. */
export const MAX_IDENTITIES_PER_SERVICE = 64;

/** A service account name: a Kubernetes DNS subdomain (RFC 1123), at most 253 characters. */
export const SERVICE_ACCOUNT_PATTERN = '^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$';

/** The SPIFFE identity Istio gives a workload. */
export function spiffeIdentity(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain.toLowerCase()}/ns/${namespace}/sa/${serviceAccount}`;
}

/** Keys may be absent or null when empty (Go marshals nil slices as null). */
export interface PrivateDocument {
  ingressGateways?: IngressGateway[] | null;
  publicServices?: PublicService[] | null;
}

const PEM_MAX = 64 * 1024;

const publicDocumentSchema = {
  type: 'object',
  required: ['clusterUUID', 'authnKeyPub', 'rootCA'],
  properties: {
    clusterUUID: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[0-9A-Za-z._-]+$' },
    authnKeyPub: { type: 'string', minLength: 1, maxLength: 4096 },
    rootCA: { type: 'string', minLength: 1, maxLength: PEM_MAX },
  },
};

/** Shape only; each item is checked separately so one bad item does not sink the rest. */
const privateDocumentSchema = {
  type: 'object',
  properties: {
    ingressGateways: { type: ['array', 'null'], maxItems: MAX_GATEWAYS_PER_PEER },
    publicServices: { type: ['array', 'null'], maxItems: 20000 },
  },
};

const ingressGatewaySchema = {
  type: 'object',
  required: ['address', 'port'],
  properties: {
    address: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[0-9A-Za-z.:-]+$' },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
};

const publicServiceSchema = {
  type: 'object',
  required: ['hostname', 'ports'],
  properties: {
    hostname: {
      type: 'string',
      maxLength: 253,
      pattern: DNS_NAME_PATTERN,
    },
    ports: {
      type: ['array', 'null'],
      // Istio caps an endpoint's port map at 128 entries.
      maxItems: 128,
      items: {
        type: 'object',
        required: ['port'],
        properties: {
          // Istio's rule for endpoint port-map keys (ServiceEntry CEL: size < 63, this pattern);
          // a name it refuses would fail the whole Helm release. Empty = unnamed.
          name: { type: 'string', anyOf: [{ const: '' }, { pattern: PORT_NAME_PATTERN }] },
          port: { type: 'integer', minimum: 1, maximum: 65535 },
          protocol: { type: 'string', enum: ['HTTP', 'HTTP2', 'TLS', 'TCP'] },
        },
      },
    },
    // Meaning (trust domain, namespace) is checked per item by wire/validate.ts.
    identities: {
      type: ['array', 'null'],
      maxItems: MAX_IDENTITIES_PER_SERVICE,
      items: { type: 'string', maxLength: 512 },
    },
  },
};

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

function validator<T>(schema: object, what: string): (raw: unknown) => Validation<T> {
  let compiled: ValidateFunction | undefined;
  return (raw) => {
    compiled ??= ajv.compile(schema);
    if (compiled(raw)) return { ok: true, value: raw as T };
    const e = compiled.errors?.[0];
    return { ok: false, error: `${what}${e?.instancePath ?? ''} ${e?.message ?? 'is invalid'}` };
  };
}

export const validatePublicDocument = validator<PublicDocument>(publicDocumentSchema, 'public document');
export const validatePrivateDocumentShape = validator<PrivateDocument>(
  privateDocumentSchema,
  'private document',
);
const validateIngressGatewayShape = validator<IngressGateway>(ingressGatewaySchema, 'ingress gateway');

export function validateIngressGateway(raw: unknown): Validation<IngressGateway> {
  const shape = validateIngressGatewayShape(raw);
  if (!shape.ok || isIpOrDnsName(shape.value.address)) return shape;
  return {
    ok: false,
    error: `ingress gateway address ${JSON.stringify(shape.value.address)} is neither an IP address nor a DNS name`,
  };
}
export const validatePublicService = validator<PublicService>(publicServiceSchema, 'public service');

/** Builds a document URL from `spec.metadataEndpoint` exactly as the reference: one trailing `/` removed. */
export function metadataUrl(
  endpoint: string,
  path: (typeof METADATA_PATHS)[keyof typeof METADATA_PATHS],
): string {
  return (endpoint.endsWith('/') ? endpoint.slice(0, -1) : endpoint) + path;
}
