import type { IngressGateway, PublicService } from '../../lib/federation/wire/documents';
import type { ExportedService, FederationSource } from './document-set';

/** The private document as the reference serves it, plus the optional `identities` of a service. */
export interface FederationDocument {
  ingressGateways: IngressGateway[];
  publicServices: PublicService[];
}

/** A service without an allow-list is exported to every authenticated peer. */
export function isServiceVisibleTo(service: ExportedService, peerTrustDomain: string | undefined): boolean {
  if (!service.allowedTrustDomains) return true;
  return peerTrustDomain !== undefined && service.allowedTrustDomains.includes(peerTrustDomain);
}

/** The private document one peer may read: restricted services filtered, restrictions stripped. */
export function federationDocumentFor(
  source: FederationSource,
  peerTrustDomain: string | undefined,
): FederationDocument {
  return {
    ingressGateways: source.ingressGateways.map(({ address, port }) => ({ address, port })),
    publicServices: source.publicServices
      .filter((service) => isServiceVisibleTo(service, peerTrustDomain))
      .map(({ hostname, ports, identities }) => ({
        hostname,
        ports: ports.map(({ name, port }) => ({ name, port })),
        // Optional key (ours): the workload identities peers pin the host to.
        ...(identities?.length ? { identities: [...identities] } : {}),
      })),
  };
}
