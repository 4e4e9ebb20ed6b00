/**
 * The Istio cluster ID the chart gives the federation gateway (template helper
 * `istio.federation.clusterId`): `<cluster domain with dashes>-<adler32 of the cluster UUID>`.
 * istiod's CLUSTER_ID must equal it, or istiod refuses the gateway's xDS connection and
 * certificate requests. The `check` command and the e2e harness compute it here.
 */
export function istioClusterId(clusterDomain: string, clusterUUID: string): string {
  return `${clusterDomain.replaceAll('.', '-')}-${adler32(clusterUUID)}`;
}

/** Adler-32 as Sprig's `adler32sum` prints it (decimal). */
export function adler32(input: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(input, 'utf8')) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
