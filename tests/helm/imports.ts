// What the rendered ServiceEntries and DestinationRules mean, independent of how they are
// packed into objects: one (hostname, resolution, ports, endpoints) per imported group,
// and the DestinationRule Istio picks for each host.
import type { JsonObject, KubeObject } from './render';

export interface ImportedService {
  hostname: string;
  resolution: string;
  ports: JsonObject[];
  endpoints: JsonObject[];
}

interface ServiceEntrySpec {
  hosts: string[];
  resolution: string;
  location: string;
  ports: JsonObject[];
  endpoints: JsonObject[];
}

function byHostThenJson(a: ImportedService, b: ImportedService): number {
  return a.hostname.localeCompare(b.hostname) || JSON.stringify(a).localeCompare(JSON.stringify(b));
}

/** One item per host of each rendered ServiceEntry, sorted. */
export function renderedImports(objects: KubeObject[]): ImportedService[] {
  return objects
    .filter((o) => o.kind === 'ServiceEntry')
    .flatMap((o) => {
      const spec = o.spec as ServiceEntrySpec;
      return spec.hosts.map((hostname) => ({
        hostname,
        resolution: spec.resolution,
        ports: spec.ports,
        endpoints: spec.endpoints,
      }));
    })
    .sort(byHostThenJson);
}

/** What the values ask for: each serviceEntries item without its bookkeeping fields. */
export function expectedImports(entries: JsonObject[]): ImportedService[] {
  return entries
    .map((e) => ({
      hostname: e.hostname as string,
      resolution: e.resolution as string,
      ports: e.ports as JsonObject[],
      endpoints: e.endpoints as JsonObject[],
    }))
    .sort(byHostThenJson);
}

/** Istio's choice among DestinationRule hosts: the exact host, else the longest matching wildcard. */
export function destinationRuleHostFor(hostname: string, ruleHosts: string[]): string | undefined {
  if (ruleHosts.includes(hostname)) return hostname;
  return ruleHosts
    .filter((h) => h.startsWith('*.') && hostname.endsWith(h.slice(1)))
    .sort((a, b) => b.length - a.length)[0];
}

export function destinationRules(objects: KubeObject[]): { host: string; spec: JsonObject }[] {
  return objects
    .filter((o) => o.kind === 'DestinationRule')
    .map((o) => ({ host: (o.spec as { host: string }).host, spec: o.spec as JsonObject }));
}
