import { MODULE_NAMESPACE, type Cluster } from './cluster';
import { resourcePath, type KubeObject } from './kube-api';
import { pemKey, trustBundleFingerprints } from './istiod';
import { A_SIDECAR, waitForImportInSidecar } from './mesh';
import {
  BAR,
  BAR_PORTS,
  B_LOAD_BALANCER_IP,
  GATEWAY_TLS_PORT,
  STEP_TIMEOUT_MS,
  FEDERATIONS_PATH,
  importedServiceEntries,
  printerColumns,
  trustedRoots,
  type FederationObject,
  type FederationRun,
} from './scenario';

/** A readable picture of both clusters' federation state (what `kubectl get` would tell an admin). */

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export const cell = (value: unknown): string =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

async function clusterSummary(cluster: Cluster): Promise<string[]> {
  const api = cluster.api;
  const out: string[] = [
    `${cluster.spec.name}  (domain ${cluster.spec.clusterDomain}, UUID ${cluster.spec.clusterUUID}, API ${api.connection.server})`,
  ];
  const printed = await printerColumns(api);
  out.push('  $ kubectl get istiofederations');
  out.push(
    ...table(
      printed.columns,
      printed.rows.map((r) => printed.columns.map((c) => cell(r[c]))),
    ).map((l) => `    ${l}`),
  );
  for (const f of await api.list<FederationObject>(FEDERATIONS_PATH)) {
    out.push(`  IstioFederation ${f.metadata.name} conditions:`);
    for (const c of f.status?.conditions ?? []) {
      out.push(`    ${c.type.padEnd(17)} ${c.status.padEnd(5)} ${c.reason}: ${c.message}`);
    }
  }
  const entries = await importedServiceEntries(api);
  out.push(`  Imported ServiceEntries (d8-istio): ${entries.length}`);
  for (const se of entries) {
    const ports = se.spec.ports.map((p) => `${p.name}/${p.number}/${p.protocol}`).join(', ');
    const endpoints = se.spec.endpoints
      .map((e) => `${e.address} ${JSON.stringify(e.ports ?? {})}`)
      .join(', ');
    const pinned = se.spec.subjectAltNames?.length
      ? `pinned to ${se.spec.subjectAltNames.join(', ')}`
      : 'unpinned (any trusted root)';
    out.push(
      `    ${se.metadata.name}: hosts ${se.spec.hosts.join(', ')}; ports ${ports}; via ${endpoints}; ${pinned}`,
    );
  }
  const rules = await api.list<
    {
      metadata: { name: string };
      spec: { host: string; trafficPolicy?: { tls?: { mode?: string } } };
    } & KubeObject
  >(resourcePath('networking.istio.io/v1', 'destinationrules', { namespace: MODULE_NAMESPACE }));
  for (const rule of rules) {
    out.push(
      `  DestinationRule ${rule.metadata.name}: host ${rule.spec.host}, tls ${rule.spec.trafficPolicy?.tls?.mode ?? 'unset'}`,
    );
  }
  const roots = await trustedRoots(api);
  out.push(
    `  Trusted peer root CAs (mesh caCertificates): ${roots.map((r) => r.trustDomains.join('+')).join(', ') || 'none'}`,
  );
  return out;
}

export async function federationSummary(run: FederationRun): Promise<string> {
  const lines = [...(await clusterSummary(run.a)), '', ...(await clusterSummary(run.b))];
  const f = run.figures;
  lines.push('');
  if (f.barImportMs !== undefined) {
    lines.push(
      `Convergence: ServiceEntry for bar in cluster-a ${(f.barImportMs / 1000).toFixed(1)} s after bar was labelled public in cluster-b` +
        (f.barImportAfterFederationMs !== undefined
          ? ` (${(f.barImportAfterFederationMs / 1000).toFixed(1)} s after the IstioFederations were created)`
          : ''),
    );
  }
  return lines.join('\n');
}

/**
 * What istiod in cluster-a sends a sidecar for bar (cluster, endpoints, SNI, accepted
 * identities) and which trust domains its trust bundle (PCDS) covers.
 */
export async function sidecarViewOfBar(run: FederationRun): Promise<string> {
  const a = run.a;
  const { summary, views } = await waitForImportInSidecar(
    a,
    A_SIDECAR,
    BAR.hostname,
    BAR_PORTS,
    `${B_LOAD_BALANCER_IP}:${GATEWAY_TLS_PORT}`,
    STEP_TIMEOUT_MS,
  );
  const lines = [
    `What istiod in ${a.spec.name} sends a sidecar (${A_SIDECAR.namespace}/${A_SIDECAR.pod}) for ${BAR.hostname}:`,
  ];
  for (const v of views) {
    lines.push(`  cluster ${v.cluster.name} (${v.cluster.type})`);
    lines.push(`    endpoints: ${v.endpoints.join(', ')}`);
    lines.push(
      v.mtls
        ? `    Istio mTLS: certificate SDS ${v.mtls.certificateSds?.join(',') ?? ''}, roots SDS ${v.mtls.validationSds ?? ''}, SNI ${v.sni ?? '(none)'}`
        : '    no Istio mTLS',
    );
    lines.push(
      `    accepted server identities: ${v.sanMatchers.length ? v.sanMatchers.join(', ') : 'any certificate of any trusted root (no SAN pinning)'}`,
    );
  }
  const domainsByRoot = new Map<string, string[]>([[pemKey(a.rootCAPem), [`${a.spec.clusterDomain} (own)`]]]);
  for (const entry of await trustedRoots(a.api)) domainsByRoot.set(pemKey(entry.pem), entry.trustDomains);
  const bundle = trustBundleFingerprints(summary).map(
    (fp) => domainsByRoot.get(fp)?.join('+') ?? 'unknown root',
  );
  lines.push(`  trust bundle (PCDS, ${bundle.length} roots): ${bundle.sort().join(', ')}`);
  return lines.join('\n');
}
