import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IngressGateway } from './documents';
import type { Protocol } from './protocol';
import { compareStrings } from './public-services';

/**
 * ServiceEntry grouping and naming: the single owner of how imported ports become
 * `istio.internal.federation.serviceEntries`. One entry per (hostname, endpoint set).
 */

export interface ServiceEntryPort {
  number: number;
  name: string;
  protocol: Protocol;
}

export interface ServiceEntryEndpoint {
  address: string;
  /** Port name -> the gateway port that carries it. */
  ports: Record<string, number>;
}

export interface ServiceEntryValue {
  name: string;
  hostname: string;
  resolution: 'STATIC' | 'DNS';
  federations: string[];
  ports: ServiceEntryPort[];
  endpoints: ServiceEntryEndpoint[];
}

/** One imported (hostname, port) after conflict resolution, with every gateway that serves it. */
export interface MergedPort extends ServiceEntryPort {
  gateways: Map<string, IngressGateway>;
  federations: Set<string>;
}

export const gatewayKey = (g: IngressGateway): string => `${g.address}\u0000${g.port}`;

const MAX_NAME = 63;
const SHORT_HASH = 10;

/** DNS-label-safe hostname prefix plus a hash of the group key: stable, at most 63 characters. */
export function serviceEntryName(hostname: string, endpointKey: string, hashLength = SHORT_HASH): string {
  const hash = createHash('sha256').update(`${hostname}\n${endpointKey}`).digest('hex').slice(0, hashLength);
  const prefix = hostname
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_NAME - hashLength - 1)
    .replace(/^-+|-+$/g, '');
  return prefix ? `${prefix}-${hash}` : `se-${hash}`;
}

/** Istio needs DNS resolution as soon as one endpoint is a name rather than an IP. */
export function resolutionFor(addresses: readonly string[]): 'STATIC' | 'DNS' {
  return addresses.some((a) => isIP(a) === 0) ? 'DNS' : 'STATIC';
}

function compareGateways(a: IngressGateway, b: IngressGateway): number {
  return compareStrings(a.address, b.address) || a.port - b.port;
}

/** Groups one hostname's ports by their exact gateway set. */
type ServiceEntryGroup = Omit<ServiceEntryValue, 'name'> & { key: string };

function groupsOfHost(hostname: string, ports: Iterable<MergedPort>): ServiceEntryGroup[] {
  const groups = new Map<string, { gateways: IngressGateway[]; ports: MergedPort[] }>();
  for (const port of ports) {
    const gateways = [...port.gateways.values()].sort(compareGateways);
    if (gateways.length === 0) continue;
    const key = gateways.map(gatewayKey).join('\u0001');
    const group = groups.get(key) ?? { gateways, ports: [] };
    group.ports.push(port);
    groups.set(key, group);
  }
  return [...groups].map(([key, group]): ServiceEntryGroup => {
    const ports = group.ports.sort((a, b) => a.number - b.number);
    return {
      key,
      hostname,
      resolution: resolutionFor(group.gateways.map((g) => g.address)),
      federations: [...new Set(ports.flatMap((p) => [...p.federations]))].sort(compareStrings),
      ports: ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
      endpoints: group.gateways.map((g) => ({
        address: g.address,
        ports: Object.fromEntries(ports.map((p) => [p.name, g.port])),
      })),
    };
  });
}

/**
 * All ServiceEntries, sorted by hostname then first port. Names are unique: in the
 * (astronomically unlikely) case of a short-hash clash, the later entry in this stable
 * order gets a longer hash.
 */
export function buildServiceEntries(
  hosts: ReadonlyMap<string, ReadonlyMap<number, MergedPort>>,
): ServiceEntryValue[] {
  const groups = [...hosts].flatMap(([hostname, ports]) => groupsOfHost(hostname, ports.values()));
  groups.sort(
    (a, b) =>
      compareStrings(a.hostname, b.hostname) ||
      a.ports[0]!.number - b.ports[0]!.number ||
      compareStrings(a.key, b.key),
  );
  const used = new Set<string>();
  return groups.map(({ key, ...group }) => {
    let name = serviceEntryName(group.hostname, key);
    if (used.has(name)) name = serviceEntryName(group.hostname, key, 32);
    used.add(name);
    return { name, ...group };
  });
}
