// Imported services as the merge hook emits them (real grouping and naming from
// lib/federation/service-entries), with realistic names, for tests and the benchmark.
import type { IngressGateway } from '../../lib/federation/wire/documents';
import type { Protocol } from '../../lib/federation/wire/protocol';
import {
  buildServiceEntries,
  type MergedPort,
  type ServiceEntryValue,
} from '../../lib/federation/import/service-entries';

type PortShape = { number: number; name: string; protocol: Protocol }[];

/** The default mix: one service in five has a plain TCP port (one host per ServiceEntry). */
export const PORT_SHAPES: PortShape[] = [
  [{ number: 8080, name: 'http', protocol: 'HTTP' }],
  [{ number: 8080, name: 'http', protocol: 'HTTP' }],
  [{ number: 9090, name: 'grpc-api', protocol: 'HTTP2' }],
  [
    { number: 8080, name: 'http', protocol: 'HTTP' },
    { number: 9090, name: 'grpc-api', protocol: 'HTTP2' },
  ],
  [{ number: 5432, name: 'tcp-postgres', protocol: 'TCP' }],
];

export function peerName(p: number): string {
  return `cluster-${String(p).padStart(2, '0')}`;
}

export function peerGateways(p: number): IngressGateway[] {
  return [
    { address: `198.51.100.${10 + p * 3}`, port: 15443 },
    { address: `198.51.100.${11 + p * 3}`, port: 15443 },
  ];
}

// Service and namespace names drawn from a word list with a fixed-seed PRNG: real names
// repeat words but not in sequence, which matters for what gzip can save.
const WORDS = (
  'auth billing cart catalog checkout config customer data delivery email events feed files gateway geo ' +
  'history identity images inventory invoice ledger login mail media metrics notify orders partner payments ' +
  'pricing profile promo queue rates recommend report reviews risk search session shipping stock store ' +
  'subscription support sync tax tickets tracking users vault wallet warehouse web worker'
).split(' ');

function wordPicker(seed: number): () => string {
  let state = seed >>> 0;
  return () => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const random = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return WORDS[Math.floor(random * WORDS.length)]!;
  };
}

/** `count` services spread over the peers, as the merge hook would emit them. */
export function importedServices(
  count: number,
  peers: number,
  seed = 42,
  portShapes: PortShape[] = PORT_SHAPES,
): ServiceEntryValue[] {
  const word = wordPicker(seed);
  const hosts = new Map<string, Map<number, MergedPort>>();
  for (let i = 0; i < count; i++) {
    const peer = i % peers;
    const hostname = `${word()}-${word()}-${i.toString(36)}.${word()}-${word()}.svc.${peerName(peer)}.local`;
    const ports = new Map<number, MergedPort>();
    for (const port of portShapes[i % portShapes.length]!) {
      ports.set(port.number, { ...port, federations: [peerName(peer)] });
    }
    hosts.set(hostname, ports);
  }
  return buildServiceEntries(hosts, (federation) =>
    peerGateways(Number(federation.slice('cluster-'.length))),
  );
}
