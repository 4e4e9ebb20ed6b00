import { federationSni, type ProbeResult } from './gateway-probe';
import type { Federation } from '../federation/kind';
import { peerScope, type PeerFetch } from './peer';
import { result, type CheckResult } from './result';
import { at, list, NAMESPACE, text } from './snapshot';

/**
 * The checks of what the mesh uses of one peer: a TLS dial to each of its gateways, and our
 * imported ServiceEntries against its status. Pure: probe results and objects in.
 */

/** The gateways to dial and the SNI to send: from the fresh document, else the cached one. */
export function gatewayPlan(
  peer: Federation,
  fetched: PeerFetch | undefined,
): { gateways: { address: string; port: number }[]; sni?: string; source: 'fetched' | 'cached' | 'none' } {
  const fresh = fetched?.outcome.private?.ok ? fetched.outcome.private.document : undefined;
  const doc = fresh ?? peer.status.metadataCache?.private;
  if (!doc) return { gateways: [], source: 'none' };
  const service = [...doc.publicServices]
    .filter((s) => s.ports.length > 0)
    .sort((a, b) => a.hostname.localeCompare(b.hostname))[0];
  const port = service?.ports[0]?.port;
  return {
    gateways: doc.ingressGateways.map((g) => ({ address: g.address, port: g.port })),
    ...(service && port !== undefined ? { sni: federationSni(service.hostname, port) } : {}),
    source: fresh ? 'fetched' : 'cached',
  };
}

const ms = (value: number | undefined): string => (value === undefined ? '?' : `${value.toFixed(1)} ms`);

function probeHint(probe: ProbeResult, peer: Federation): string {
  const where = `${probe.target.address}:${probe.target.port}`;
  switch (probe.stage) {
    case 'refused':
      return `nothing listens on ${where}: is the peer's Service ${NAMESPACE}/ingressgateway up, and its address (advertise, LoadBalancer, NodePort) current?`;
    case 'connect-timeout':
    case 'unreachable':
      return `no TCP connection to ${where} from this machine: firewall, load balancer or routing. The check dials from where it runs; sidecars dial from the pods' network`;
    case 'closed-before-tls':
    case 'handshake-timeout':
      return `the gateway took TCP but no TLS for SNI ${probe.sni ?? '?'}: on the peer, is Gateway ${NAMESPACE}/ingressgateway (AUTO_PASSTHROUGH, hosts *.${peer.trustDomain}) there and the service's workload in the mesh?`;
    default:
      return `TLS to ${where} failed; the peer's gateway logs (kubectl -n ${NAMESPACE} logs deploy/ingressgateway) say more`;
  }
}

export function checkGateways(
  peer: Federation,
  plan: ReturnType<typeof gatewayPlan>,
  probes: readonly ProbeResult[],
): CheckResult[] {
  const scope = peerScope(peer.name);
  if (plan.gateways.length === 0) {
    return [
      result('peer.gateway', scope, 'gateways reachable', plan.source === 'none' ? 'skip' : 'warn', {
        detail: plan.source === 'none' ? 'no private document yet' : 'the peer publishes no gateway',
        ...(plan.source === 'none'
          ? {}
          : { hint: "the peer's gateway addresses are not discovered: see its ingressgateway Service" }),
      }),
    ];
  }
  return probes.map((probe) => {
    const via =
      probe.dialed.address !== probe.target.address || probe.dialed.port !== probe.target.port
        ? ` via ${probe.dialed.address}:${probe.dialed.port}`
        : '';
    const title = `gateway ${probe.target.address}:${probe.target.port} answers TLS${probe.sni ? ` for SNI ${probe.sni}` : ' (TCP only: no service to name)'}`;
    if (!probe.alive) {
      return result('peer.gateway', scope, title, 'fail', {
        detail: `${probe.stage}${via}: ${probe.error ?? ''}`.trim(),
        hint: probeHint(probe, peer),
      });
    }
    const parts = [`tcp ${ms(probe.connectMs)}`];
    if (probe.handshakeMs !== undefined) parts.push(`tls ${ms(probe.handshakeMs)}`);
    if (probe.stage === 'tls-alert')
      parts.push(`alive, refused without a client certificate (${probe.error ?? 'alert'})`);
    if (probe.peerCertificate?.subjectAltName) parts.push(probe.peerCertificate.subjectAltName);
    return result('peer.gateway', scope, title, 'pass', { detail: parts.join(', ') + via });
  });
}

/** Imported ServiceEntries of this peer's domain, against status (importedServices, cached hosts). */
export function checkServiceEntries(peer: Federation, serviceEntries: readonly unknown[]): CheckResult {
  const scope = peerScope(peer.name);
  const title = `ServiceEntries in ${NAMESPACE} match what status says was imported`;
  const suffix = `.svc.${peer.trustDomain}`;
  const hosts = new Set<string>();
  const endpoints = new Set<string>();
  for (const se of serviceEntries) {
    const mine = list(at(se, 'spec', 'hosts')).filter(
      (h): h is string => typeof h === 'string' && h.endsWith(suffix),
    );
    if (mine.length === 0) continue;
    mine.forEach((h) => hosts.add(h));
    for (const e of list(at(se, 'spec', 'endpoints'))) {
      const address = text(e, 'address');
      if (address) endpoints.add(address);
    }
  }
  const imported = peer.status.importedServices;
  const cached = peer.status.metadataCache?.private;
  if (imported === undefined) {
    return result('peer.service-entries', scope, title, hosts.size ? 'fail' : 'skip', {
      detail: `status has no importedServices; ${hosts.size} ServiceEntry hosts in ${peer.trustDomain}`,
      ...(hosts.size ? { hint: 'ServiceEntries exist for a peer whose status records no import' } : {}),
    });
  }
  const cachedHosts = new Set((cached?.publicServices ?? []).map((s) => s.hostname));
  const gateways = new Set((cached?.ingressGateways ?? []).map((g) => g.address));
  const unknownHosts = [...hosts].filter((h) => !cachedHosts.has(h)).sort();
  const unknownEndpoints = [...endpoints].filter((a) => !gateways.has(a)).sort();
  const problems = [
    ...(hosts.size !== imported
      ? [`${hosts.size} hosts in ServiceEntries, status.importedServices ${imported}`]
      : []),
    ...(unknownHosts.length
      ? [`hosts not in the cached document: ${unknownHosts.slice(0, 5).join(', ')}`]
      : []),
    ...(unknownEndpoints.length
      ? [`endpoints not among the peer's gateways: ${unknownEndpoints.slice(0, 5).join(', ')}`]
      : []),
  ];
  if (problems.length) {
    return result('peer.service-entries', scope, title, 'fail', {
      detail: problems.join('; '),
      hint: 'Helm has not applied the last values yet or failed: look at the istio module in the addon-operator (deckhouse) log; a ServiceEntry the module did not render is someone else\u2019s',
    });
  }
  return result('peer.service-entries', scope, title, 'pass', {
    detail: `${hosts.size} services via ${[...endpoints].sort().join(', ') || 'no endpoint'}`,
  });
}
