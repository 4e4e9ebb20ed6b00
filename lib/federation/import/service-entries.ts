import { isIP } from 'node:net';
import type { IngressGateway } from '../wire/documents';
import type { Protocol } from '../wire/protocol';
import { compareStrings } from '../discovery/public-services';

/**
 * ServiceEntry grouping: the single owner of how imported ports become
 * `istio.internal.federation.serviceEntries`, one entry per (hostname, endpoint set).
 * Object names are the template's business (it packs entries into ServiceEntry objects;
 * templates/federation/remote-services.yaml).
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
  hostname: string;
  resolution: 'STATIC' | 'DNS';
  federations: string[];
  ports: ServiceEntryPort[];
  endpoints: ServiceEntryEndpoint[];
  /** The peer's workload identities for the host (identity pinning); absent: unpinned. */
  subjectAltNames?: string[];
}

/**
 * One imported (hostname, port) after conflict resolution. Its gateways are those of its
 * federations, looked up per federation set: peers publish one gateway list for all their
 * services, so sharing it keeps the merge linear in memory at 100 x 1,000.
 */
export interface MergedPort extends ServiceEntryPort {
  /** In merge order (sorted by name), without repeats. */
  federations: string[];
}

const gatewayKey = (g: IngressGateway): string => `${g.address}\u0000${g.port}`;

/** Istio needs DNS resolution as soon as one endpoint is a name rather than an IP. */
export function resolutionFor(addresses: readonly string[]): 'STATIC' | 'DNS' {
  return addresses.some((a) => isIP(a) === 0) ? 'DNS' : 'STATIC';
}

function compareGateways(a: IngressGateway, b: IngressGateway): number {
  return compareStrings(a.address, b.address) || a.port - b.port;
}

/** The gateways behind a set of federations, computed once per distinct set. */
interface EndpointSet {
  key: string;
  gateways: IngressGateway[];
  resolution: 'STATIC' | 'DNS';
}

interface Group {
  hostname: string;
  endpoints: EndpointSet;
  ports: MergedPort[];
}

/** Groups one hostname's ports by their exact gateway set (usually a single group). */
function groupsOfHost(
  hostname: string,
  ports: Iterable<MergedPort>,
  endpointsOf: (federations: readonly string[]) => EndpointSet,
  into: Group[],
): void {
  const groups = new Map<string, Group>();
  for (const port of ports) {
    const endpoints = endpointsOf(port.federations);
    if (endpoints.gateways.length === 0) continue;
    const group = groups.get(endpoints.key);
    if (group) group.ports.push(port);
    else groups.set(endpoints.key, { hostname, endpoints, ports: [port] });
  }
  for (const group of groups.values()) {
    group.ports.sort((a, b) => a.number - b.number);
    into.push(group);
  }
}

function toServiceEntry(
  { hostname, endpoints, ports }: Group,
  identities: readonly string[] | undefined,
): ServiceEntryValue {
  const federations =
    ports.length === 1 && ports[0]!.federations.length === 1
      ? [...ports[0]!.federations]
      : [...new Set(ports.flatMap((p) => p.federations))].sort(compareStrings);
  return {
    hostname,
    resolution: endpoints.resolution,
    federations,
    ports: ports.map((p) => ({ number: p.number, name: p.name, protocol: p.protocol })),
    endpoints: endpoints.gateways.map((g) => {
      const byName: Record<string, number> = {};
      for (const p of ports) byName[p.name] = g.port;
      return { address: g.address, ports: byName };
    }),
    ...(identities?.length ? { subjectAltNames: [...identities] } : {}),
  };
}

/**
 * All ServiceEntries, sorted by hostname then first port (object names are the template's:
 * templates/federation/remote-services.yaml).
 */
export function buildServiceEntries(
  hosts: ReadonlyMap<string, ReadonlyMap<number, MergedPort>>,
  gatewaysOf: (federation: string) => readonly IngressGateway[],
  identitiesOf: (hostname: string) => readonly string[] | undefined = () => undefined,
): ServiceEntryValue[] {
  const endpointSets = new Map<string, EndpointSet>();
  const endpointsOf = (federations: readonly string[]): EndpointSet => {
    const cacheKey = federations.join('\u0000');
    let set = endpointSets.get(cacheKey);
    if (!set) {
      const unique = new Map(
        federations.flatMap((f) => gatewaysOf(f).map((g) => [gatewayKey(g), g] as const)),
      );
      const gateways = [...unique.values()].sort(compareGateways);
      set = {
        key: gateways.map(gatewayKey).join('\u0001'),
        gateways,
        resolution: resolutionFor(gateways.map((g) => g.address)),
      };
      endpointSets.set(cacheKey, set);
    }
    return set;
  };
  const groups: Group[] = [];
  for (const [hostname, ports] of hosts) groupsOfHost(hostname, ports.values(), endpointsOf, groups);
  groups.sort(
    (a, b) =>
      compareStrings(a.hostname, b.hostname) ||
      a.ports[0]!.number - b.ports[0]!.number ||
      compareStrings(a.endpoints.key, b.endpoints.key),
  );
  return groups.map((group) => toServiceEntry(group, identitiesOf(group.hostname)));
}
