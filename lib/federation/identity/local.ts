/**
 * This cluster's identity, read from values in one place with one default: the trust
 * domain (`global.discovery.clusterDomain`, Deckhouse's default `cluster.local` when
 * missing), the clusterUUID and the authn private key (both undefined until their hooks ran).
 */

const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

export interface LocalIdentity {
  trustDomain: string;
  clusterUUID: string | undefined;
  /** PEM of `istio.internal.remoteAuthnKeypair.priv`. */
  authnPrivateKey: string | undefined;
  /**
   * What peers put in spec.metadataEndpoint: `https://istio-metadata.<public domain>/metadata/`
   * from `global.modules.publicDomainTemplate`, as the chart names the exporter's host
   * (templates/_helpers.tpl `istio.federation.metadataHost`); undefined without a usable template.
   */
  metadataEndpoint?: string | undefined;
}

export function localIdentity(values: { get<T>(path: string): T | undefined }): LocalIdentity {
  const text = (path: string) => {
    const value = values.get<unknown>(path);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    trustDomain: text('global.discovery.clusterDomain') ?? DEFAULT_CLUSTER_DOMAIN,
    clusterUUID: text('global.discovery.clusterUUID'),
    authnPrivateKey: text('istio.internal.remoteAuthnKeypair.priv'),
    metadataEndpoint: metadataEndpointOf(text('global.modules.publicDomainTemplate')),
  };
}

/** As the chart's `istio.federation.metadataHost`: every `%s` of the template becomes `istio-metadata`. */
export function metadataEndpointOf(publicDomainTemplate: string | undefined): string | undefined {
  if (!publicDomainTemplate?.includes('%s')) return undefined;
  return `https://${publicDomainTemplate.replaceAll('%s', 'istio-metadata')}/metadata/`;
}

/** The values our identity is read from that are not set yet (start-up: before their hooks ran). */
export function missingLocalIdentity(local: LocalIdentity): string[] {
  return [
    ...(local.clusterUUID ? [] : ['global.discovery.clusterUUID']),
    ...(local.authnPrivateKey ? [] : ['istio.internal.remoteAuthnKeypair']),
  ];
}
