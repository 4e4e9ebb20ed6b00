import { spiffeIdentity, type IngressGateway, type PublicServicePort } from '../wire/documents';
import type { CachedPrivateDocument } from '../wire/validate';
import { isRecord } from '../../util/guards';

/**
 * The compact form of a cached private document in status.metadataCache.private. Scoping
 * makes every hostname `<service>.<namespace>.svc.<peer trust domain>`, and services of one
 * peer mostly share a few port lists, so status keeps each distinct port list once and each
 * service as `namespace -> service -> port list index`. 10,000 services with two ports take
 * 170 KB instead of 1.68 MB, well under the status cap (fetch/peer.ts). Reading
 * expands it back to the wire shape, which then goes through the same per-item validation
 * as a fetched document; a status in the wire shape (older versions) reads as well.
 */
export interface CompactPrivateDocument {
  ingressGateways: IngressGateway[];
  portSets: PublicServicePort[][];
  /**
   * Each distinct list of service accounts once (identities are validated to be
   * `spiffe://<trust domain>/ns/<the hostname's namespace>/sa/<account>`, so the account
   * is all that varies). Absent when no service has identities.
   */
  identitySets?: string[][];
  /** port list index, or [port list index, identity set index] for a pinned service. */
  services: Record<string, Record<string, number | [number, number]>>;
}

export function compactPrivateDocument(
  doc: CachedPrivateDocument,
  trustDomain: string,
): CompactPrivateDocument {
  const suffix = `.svc.${trustDomain.toLowerCase()}`;
  const portSets: PublicServicePort[][] = [];
  const indexOf = new Map<string, number>();
  const identitySets: string[][] = [];
  const identityIndexOf = new Map<string, number>();
  const services: Record<string, Record<string, number | [number, number]>> = {};
  for (const service of doc.publicServices) {
    const key = JSON.stringify(service.ports);
    let index = indexOf.get(key);
    if (index === undefined) {
      index = portSets.length;
      portSets.push(service.ports);
      indexOf.set(key, index);
    }
    // Validated hostnames are always <service>.<namespace><suffix>.
    const [name, namespace] = service.hostname.slice(0, -suffix.length).split('.') as [string, string];
    let value: number | [number, number] = index;
    if (service.identities?.length) {
      const accounts = service.identities.map((id) => id.slice(id.lastIndexOf('/sa/') + 4));
      const identityKey = JSON.stringify(accounts);
      let identityIndex = identityIndexOf.get(identityKey);
      if (identityIndex === undefined) {
        identityIndex = identitySets.length;
        identitySets.push(accounts);
        identityIndexOf.set(identityKey, identityIndex);
      }
      value = [index, identityIndex];
    }
    (services[namespace] ??= {})[name] = value;
  }
  return {
    ingressGateways: doc.ingressGateways,
    portSets,
    ...(identitySets.length ? { identitySets } : {}),
    services,
  };
}

/** The wire shape of a cached private document, compact or not; anything else as it is (the validator refuses it). */
export function expandPrivateDocument(raw: unknown, trustDomain: string): unknown {
  if (!isRecord(raw) || !isRecord(raw.services) || !Array.isArray(raw.portSets)) return raw;
  const portSets = raw.portSets;
  const identitySets = Array.isArray(raw.identitySets) ? raw.identitySets : [];
  const domain = trustDomain.toLowerCase();
  const publicServices: unknown[] = [];
  for (const [namespace, byName] of Object.entries(raw.services)) {
    if (!isRecord(byName)) {
      publicServices.push({ namespace });
      continue;
    }
    for (const [name, value] of Object.entries(byName)) {
      const pinned = Array.isArray(value) && value.length === 2 ? (value as unknown[]) : undefined;
      const index = pinned ? pinned[0] : value;
      const ports = typeof index === 'number' ? portSets[index] : undefined;
      const service: Record<string, unknown> = { hostname: `${name}.${namespace}.svc.${domain}`, ports };
      if (pinned) {
        // Anything malformed becomes an identity the validator refuses (the service with it).
        const accounts = typeof pinned[1] === 'number' ? (identitySets[pinned[1]] as unknown) : undefined;
        service.identities = Array.isArray(accounts)
          ? accounts.map((sa) => (typeof sa === 'string' ? spiffeIdentity(domain, namespace, sa) : ''))
          : [''];
      }
      publicServices.push(service);
    }
  }
  const hostname = (s: unknown) => (isRecord(s) && typeof s.hostname === 'string' ? s.hostname : '');
  publicServices.sort((a, b) => (hostname(a) < hostname(b) ? -1 : hostname(a) > hostname(b) ? 1 : 0));
  return { ingressGateways: raw.ingressGateways, publicServices };
}
