import { checkGatewayAddress } from '../net/address';
import {
  isValidTrustDomain,
  validateIngressGateway,
  validatePrivateDocumentShape,
  validatePublicDocument,
  validatePublicService,
  type IngressGateway,
  type PublicDocument,
  type PublicService,
} from './documents';
import { sortGateways } from './gateways';
import { protocolFromPortName, type Protocol } from './protocol';
import { checkPublicDocument, CLUSTER_LOCAL, hostnameScopeChecker } from './remote-validation';
import { compareStrings, generatedPortName } from './public-services';
import { buildServiceEntries, type MergedPort, type ServiceEntryValue } from './service-entries';

/**
 * The merge: from the IstioFederation statuses (written by the fetch hook, but editable by
 * anyone) to the trusted peers and the imported ServiceEntries. Everything here is pure
 * and total: garbage is dropped and reported, never thrown.
 */

/** Name, trust domain and cached documents; conditions are left out so status churn does not re-run the merge. */
export const FEDERATION_JQ_FILTER = `{
  name: .metadata.name,
  trustDomain: .spec.trustDomain,
  public: .status.metadataCache.public,
  private: .status.metadataCache.private
}`;

export interface PrivateMetadata {
  ingressGateways: IngressGateway[];
  publicServices: PublicService[];
}

export interface FederationInput {
  name: string;
  trustDomain: string;
  public?: PublicDocument;
  private?: PrivateMetadata;
}

export interface ParsedFederation extends FederationInput {
  /** What was dropped while reading the status, with the reason. */
  rejected: string[];
}

export interface TrustedPeer {
  name: string;
  trustDomain: string;
  clusterUUID: string;
  rootCA: string;
  authnKeyPub: string;
}

export type RefusalReason =
  | 'InvalidTrustDomain'
  | 'LocalTrustDomain'
  | 'ClusterLocalTrustDomain'
  | 'NoPublicMetadata'
  | 'InvalidPublicMetadata'
  | 'DuplicateTrustDomain'
  | 'DuplicateClusterUUID'
  | 'LocalClusterUUID';

export interface RefusedFederation {
  federation: string;
  reason: RefusalReason;
  message: string;
}

export type ConflictReason = 'PortCollision' | 'PortNameCollision' | 'DuplicatePort';

export interface ImportConflict {
  /** The federation whose port was not merged. */
  federation: string;
  hostname: string;
  port: number;
  reason: ConflictReason;
  message: string;
}

export interface ImportRejection {
  federation: string;
  item: string;
  message: string;
}

export interface MergeLimits {
  maxServicesPerFederation: number;
  maxServicesTotal: number;
}

/** Bounds the values (and the Helm release, ~1 MiB) whatever peers publish. */
export const DEFAULT_MERGE_LIMITS: MergeLimits = { maxServicesPerFederation: 5000, maxServicesTotal: 10000 };

export interface MergeResult {
  trustedPeers: TrustedPeer[];
  serviceEntries: ServiceEntryValue[];
  refused: RefusedFederation[];
  conflicts: ImportConflict[];
  rejected: ImportRejection[];
  /** Federations that are trusted but contribute no services, with why. */
  incomplete: { federation: string; message: string }[];
  /** Services not imported because a limit was reached, per federation. */
  dropped: Record<string, number>;
  /** Hostnames imported per federation (every input federation has a key). */
  importedServices: Record<string, number>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MAX_REJECTIONS_PER_FEDERATION = 20;

function parsePrivate(raw: unknown, rejected: string[]): PrivateMetadata | undefined {
  if (raw === undefined || raw === null) return undefined;
  const shape = validatePrivateDocumentShape(raw);
  if (!shape.ok) {
    rejected.push(shape.error);
    return undefined;
  }
  const reject = (message: string) => {
    if (rejected.length < MAX_REJECTIONS_PER_FEDERATION) rejected.push(message);
  };
  const ingressGateways = (shape.value.ingressGateways ?? []).flatMap((g, i) => {
    const v = validateIngressGateway(g);
    if (!v.ok) reject(`ingressGateways[${i}]: ${v.error}`);
    return v.ok ? [{ address: v.value.address, port: v.value.port }] : [];
  });
  const publicServices = (shape.value.publicServices ?? []).flatMap((s, i) => {
    const v = validatePublicService(s);
    if (!v.ok) reject(`publicServices[${i}]: ${v.error}`);
    if (!v.ok) return [];
    // Copy only known fields: the status may carry anything next to them.
    const ports = (v.value.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      ...(p.protocol ? { protocol: p.protocol } : {}),
    }));
    return [{ hostname: v.value.hostname, ports }];
  });
  return { ingressGateways, publicServices };
}

/** Reads one jqFilter result; never throws. Undefined only when there is no usable name. */
export function parseFederationSnapshot(raw: unknown): ParsedFederation | undefined {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') return undefined;
  const rejected: string[] = [];
  const trustDomain = typeof raw.trustDomain === 'string' ? raw.trustDomain : '';
  let pub: PublicDocument | undefined;
  if (raw.public !== undefined && raw.public !== null) {
    const v = validatePublicDocument(raw.public);
    if (v.ok)
      pub = { clusterUUID: v.value.clusterUUID, authnKeyPub: v.value.authnKeyPub, rootCA: v.value.rootCA };
    else rejected.push(v.error);
  }
  const priv = parsePrivate(raw.private, rejected);
  return {
    name: raw.name,
    trustDomain,
    ...(pub ? { public: pub } : {}),
    ...(priv ? { private: priv } : {}),
    rejected,
  };
}

function sortedUniqueByName<T extends { name: string }>(federations: readonly T[]): T[] {
  const byName = new Map<string, T>();
  for (const f of federations) if (!byName.has(f.name)) byName.set(f.name, f);
  return [...byName.values()].sort((a, b) => compareStrings(a.name, b.name));
}

/** Why a federation's trust domain can never be federated with, if it cannot. */
export function trustDomainRefusal(
  trustDomain: string,
  localTrustDomain: string,
): { reason: RefusalReason; message: string } | undefined {
  if (!isValidTrustDomain(trustDomain))
    return {
      reason: 'InvalidTrustDomain',
      message: `trust domain ${JSON.stringify(trustDomain)} is invalid`,
    };
  const td = trustDomain.toLowerCase();
  if (td === CLUSTER_LOCAL)
    return {
      reason: 'ClusterLocalTrustDomain',
      message: 'trust domain cluster.local is not unique between clusters and cannot be federated',
    };
  if (td === localTrustDomain.toLowerCase())
    return { reason: 'LocalTrustDomain', message: `trust domain ${trustDomain} is this cluster's own` };
  return undefined;
}

/** What the merge knows of this cluster. */
export interface LocalCluster {
  trustDomain: string;
  /** Our own clusterUUID: a peer claiming it is refused. */
  clusterUUID?: string;
  /** Root CAs are checked for expiry at this time. */
  now?: Date;
}

/**
 * Peers whose root CA and key we trust: a public document that passes the fetcher's checks
 * again (the status may have been edited by hand: the key must parse, the root CA must be a
 * valid CA certificate) and a foreign, unique trust domain (on a duplicate, the first by
 * name is kept). A clusterUUID claimed by several federations is refused for all of them —
 * keeping "the first by name" would let a hostile peer evict another by claiming its UUID
 * and take its key slot — and so is our own.
 */
export function selectTrustedPeers(
  federations: readonly FederationInput[],
  local: LocalCluster,
): { peers: TrustedPeer[]; trusted: FederationInput[]; refused: RefusedFederation[] } {
  const refused: RefusedFederation[] = [];
  const candidates: (FederationInput & { public: PublicDocument })[] = [];
  const domains = new Map<string, string>();
  for (const f of sortedUniqueByName(federations)) {
    const refusal = trustDomainRefusal(f.trustDomain, local.trustDomain);
    if (refusal) {
      refused.push({ federation: f.name, ...refusal });
      continue;
    }
    if (!f.public) {
      refused.push({
        federation: f.name,
        reason: 'NoPublicMetadata',
        message: 'no valid public metadata yet',
      });
      continue;
    }
    const checked = checkPublicDocument(f.public, local.now ?? new Date());
    if (!checked.ok) {
      refused.push({ federation: f.name, reason: 'InvalidPublicMetadata', message: checked.error });
      continue;
    }
    const td = f.trustDomain.toLowerCase();
    const domainOwner = domains.get(td);
    if (domainOwner !== undefined) {
      refused.push({
        federation: f.name,
        reason: 'DuplicateTrustDomain',
        message: `trust domain ${f.trustDomain} is already federated by ${domainOwner}`,
      });
      continue;
    }
    domains.set(td, f.name);
    // The checked document: its rootCA holds only re-encoded CA certificates.
    candidates.push({ ...f, public: checked.value });
  }
  const claimants = new Map<string, string[]>();
  for (const f of candidates)
    claimants.set(f.public.clusterUUID, [...(claimants.get(f.public.clusterUUID) ?? []), f.name]);
  const peers: TrustedPeer[] = [];
  const trusted: FederationInput[] = [];
  for (const f of candidates) {
    const uuid = f.public.clusterUUID;
    if (local.clusterUUID !== undefined && uuid === local.clusterUUID) {
      refused.push({
        federation: f.name,
        reason: 'LocalClusterUUID',
        message: `clusterUUID ${uuid} is this cluster's own`,
      });
      continue;
    }
    const sharing = claimants.get(uuid)!;
    if (sharing.length > 1) {
      refused.push({
        federation: f.name,
        reason: 'DuplicateClusterUUID',
        message: `clusterUUID ${uuid} is claimed by several federations (${sharing.join(', ')}); none is trusted`,
      });
      continue;
    }
    trusted.push(f);
    peers.push({
      name: f.name,
      trustDomain: f.trustDomain,
      clusterUUID: uuid,
      rootCA: f.public.rootCA,
      authnKeyPub: f.public.authnKeyPub,
    });
  }
  refused.sort((a, b) => compareStrings(a.federation, b.federation));
  return { peers, trusted, refused };
}

/**
 * Gateway addresses that would point imported traffic at the proxy itself, node-local
 * services, cloud metadata or our own cluster, in any spelling (lib/net/address.ts owns
 * the rule). Status written by the fetcher is canonical already; this re-checks it.
 */
export function isAcceptableGatewayAddress(address: string, localClusterDomain = ''): boolean {
  return checkGatewayAddress(address, { localClusterDomain }).ok;
}

interface MergeOptions {
  localTrustDomain: string;
  localClusterUUID?: string;
  now?: Date;
  limits?: MergeLimits;
}

/** The whole merge; deterministic whatever the input order. */
export function mergeFederations(
  federations: readonly FederationInput[],
  options: MergeOptions,
): MergeResult {
  const limits = options.limits ?? DEFAULT_MERGE_LIMITS;
  const { peers, trusted, refused } = selectTrustedPeers(federations, {
    trustDomain: options.localTrustDomain,
    ...(options.localClusterUUID ? { clusterUUID: options.localClusterUUID } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const conflicts: ImportConflict[] = [];
  const rejected: ImportRejection[] = [];
  const incomplete: MergeResult['incomplete'] = [];
  const dropped: Record<string, number> = {};
  const importedServices: Record<string, number> = {};
  for (const f of sortedUniqueByName(federations)) importedServices[f.name] = 0;

  const hosts = new Map<string, Map<number, MergedPort>>();
  const gatewaysByFederation = new Map<string, IngressGateway[]>();
  for (const f of trusted) {
    const services = f.private?.publicServices ?? [];
    const gateways = sortGateways(
      (f.private?.ingressGateways ?? []).filter((g) => {
        if (isAcceptableGatewayAddress(g.address, options.localTrustDomain)) return true;
        rejected.push({
          federation: f.name,
          item: `gateway ${g.address}`,
          message: 'address is not routable',
        });
        return false;
      }),
    );
    if (services.length === 0 || gateways.length === 0) {
      incomplete.push({
        federation: f.name,
        message: !f.private
          ? 'no private metadata yet'
          : services.length === 0
            ? 'the peer publishes no services'
            : 'the peer publishes no usable ingress gateway',
      });
      continue;
    }
    gatewaysByFederation.set(f.name, gateways);
    const outOfScope = hostnameScopeChecker({
      peerTrustDomain: f.trustDomain,
      ownTrustDomain: options.localTrustDomain,
    });
    const ordered = [...services].sort((a, b) => compareStrings(a.hostname, b.hostname));
    let count = 0;
    let lastHostname: string | undefined;
    for (const service of ordered) {
      const hostname = service.hostname.toLowerCase();
      if (hostname === lastHostname) {
        rejected.push({
          federation: f.name,
          item: hostname,
          message: 'hostname listed twice; the first is used',
        });
        continue;
      }
      lastHostname = hostname;
      const violation = outOfScope(hostname);
      if (violation) {
        rejected.push({ federation: f.name, item: hostname, message: violation });
        continue;
      }
      const isNewHost = !hosts.has(hostname);
      if (count >= limits.maxServicesPerFederation || (isNewHost && hosts.size >= limits.maxServicesTotal)) {
        dropped[f.name] = (dropped[f.name] ?? 0) + 1;
        continue;
      }
      const ports = hosts.get(hostname) ?? new Map<number, MergedPort>();
      if (mergeServicePorts(f.name, hostname, service, ports, conflicts)) {
        hosts.set(hostname, ports);
        count++;
      }
    }
    importedServices[f.name] = count;
  }
  return {
    trustedPeers: peers,
    serviceEntries: buildServiceEntries(hosts, (name) => gatewaysByFederation.get(name) ?? []),
    refused,
    conflicts,
    rejected,
    incomplete,
    dropped,
    importedServices,
  };
}

function portNamed(ports: ReadonlyMap<number, MergedPort>, name: string): MergedPort | undefined {
  for (const port of ports.values()) if (port.name === name) return port;
  return undefined;
}

/** Merges one service's ports into its host's ports; true when at least one port was accepted. */
function mergeServicePorts(
  federation: string,
  hostname: string,
  service: PublicService,
  ports: Map<number, MergedPort>,
  conflicts: ImportConflict[],
): boolean {
  const conflict = (port: number, reason: ConflictReason, message: string) =>
    conflicts.push({ federation, hostname, port, reason, message });
  const seen = new Set<number>();
  let namedHere: Set<string> | undefined; // only needed for unnamed ports
  let accepted = false;
  for (const p of service.ports) {
    if (seen.has(p.port)) {
      conflict(p.port, 'DuplicatePort', `port ${p.port} is listed twice by ${federation}; the first is used`);
      continue;
    }
    seen.add(p.port);
    const protocol: Protocol = p.protocol ?? protocolFromPortName(p.name);
    let name = p.name;
    if (!name) {
      namedHere ??= new Set(service.ports.map((q) => q.name).filter((n) => n !== ''));
      name = generatedPortName(protocol, p.port, namedHere);
      namedHere.add(name);
    }
    const existing = ports.get(p.port);
    if (existing) {
      if (existing.name !== name || existing.protocol !== protocol) {
        conflict(
          p.port,
          'PortCollision',
          `port ${p.port} is ${name}/${protocol} here but ${existing.name}/${existing.protocol} from ${existing.federations[0]}`,
        );
        continue;
      }
    } else {
      const owner = portNamed(ports, name);
      if (owner) {
        conflict(p.port, 'PortNameCollision', `port name ${name} already names port ${owner.number}`);
        continue;
      }
    }
    if (!existing) ports.set(p.port, { number: p.port, name, protocol, federations: [federation] });
    else if (!existing.federations.includes(federation)) existing.federations.push(federation);
    accepted = true;
  }
  return accepted;
}

/**
 * The collisions the merge would report, per federation whose port lost: for the fetch
 * hook to put on status conditions (the merge hook itself only logs them and sets metrics,
 * so that status keeps a single writer).
 */
export function detectImportConflicts(
  federations: readonly FederationInput[],
  localTrustDomain: string,
  limits: MergeLimits = DEFAULT_MERGE_LIMITS,
): ImportConflict[] {
  return mergeFederations(federations, { localTrustDomain, limits }).conflicts;
}
