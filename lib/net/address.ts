import { isIP } from 'node:net';

/**
 * Peer gateway addresses: parse, canonicalise, refuse what would point imported traffic
 * back at this node, this cluster or a cloud's metadata service. Pure; no DNS lookups.
 *
 * Policy (README, "Gateway addresses"):
 * - Refused in every spelling: loopback, unspecified ("this network" 0.0.0.0/8, `::`),
 *   link-local (169.254.0.0/16, fe80::/10), multicast (224.0.0.0/4, ff00::/8), reserved
 *   and broadcast (240.0.0.0/4), site-local fec0::/10, and the cloud metadata endpoints
 *   (169.254.169.254 and the rest of link-local, fd00:ec2::254, 100.100.100.200,
 *   168.63.129.16, 192.0.0.192, metadata.google.internal, ...).
 * - IPv6 that embeds an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96,
 *   IPv4-translated ::ffff:0:0:0/96) is refused whatever it embeds: a peer can publish
 *   the IPv4 address itself, and these forms are how filters get bypassed. NAT64
 *   (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16) are normal on IPv6-only networks,
 *   so they are allowed, but their embedded IPv4 must pass the IPv4 rules.
 * - Private ranges (RFC 1918, 100.64.0.0/10, ULA fc00::/7) are ALLOWED: peers on a VPN or
 *   in one VPC are normal, and the reference's own NodePort inlet publishes node
 *   InternalIPs. A peer's endpoints only carry traffic for the peer's own hostnames
 *   (hostname scoping), with ISTIO_MUTUAL, so a private address can only misdirect traffic
 *   meant for that peer. Loopback, link-local and metadata addresses are different: they
 *   reach the proxy itself, node-local services and credentials.
 * - Host names: lowercased, one trailing dot removed, RFC 1123. Refused: anything a
 *   resolver reads as an IPv4 address (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`: the
 *   WHATWG URL host parser decides, as inet_aton would), any name ending in a numeric
 *   label (WHATWG: not a valid domain), local names (`localhost`, `*.localhost`,
 *   `localhost.localdomain`, `ip6-localhost`, ...), single-label names and names that the
 *   pod resolver's Kubernetes search path completes into our cluster (`*.svc`,
 *   `*.svc.cluster`, `<name>.default`, `<name>.kube-system`, ...), and every name inside
 *   our own cluster domain or cluster.local (they would resolve inside our cluster).
 */

export type GatewayAddressCheck =
  { ok: true; address: string; kind: 'ipv4' | 'ipv6' | 'dns' } | { ok: false; reason: string };

export interface GatewayAddressOptions {
  /** Our cluster domain (`global.discovery.clusterDomain`); names inside it are refused. */
  localClusterDomain: string;
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;

/** Host names that resolve to this machine (glibc, systemd-resolved, Debian/RHEL /etc/hosts). */
const LOCAL_NAMES = new Set([
  'localhost',
  'localhost.localdomain',
  'localhost4',
  'localhost4.localdomain4',
  'localhost6',
  'localhost6.localdomain6',
  'ip6-localhost',
  'ip6-loopback',
  'ip6-localnet',
  'ip6-mcastprefix',
  'ip6-allnodes',
  'ip6-allrouters',
  'ip6-allhosts',
  '_gateway',
  '_outbound',
]);

/** Cloud metadata services by name (the addresses are refused by range or below). */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

/** Metadata endpoints outside link-local: Alibaba, Azure wireserver, Oracle Cloud Classic. */
const METADATA_IPV4 = new Set(['100.100.100.200', '168.63.129.16', '192.0.0.192']);
/** AWS IMDS over IPv6 (inside ULA, which is otherwise allowed), as expanded decimal groups. */
const METADATA_IPV6 = new Set([[0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')]);

/**
 * Namespaces every Kubernetes cluster has: `<svc>.<one of these>` is completed by the pod
 * resolver's search path (`svc.<domain>`) into one of our own Services.
 */
const ALWAYS_PRESENT_NAMESPACES = new Set([
  'default',
  'kube-system',
  'kube-public',
  'kube-node-lease',
  // Deckhouse's own, and this module's (d8-istio: istiod, the gateway, the exporter).
  'd8-system',
  'd8-istio',
]);

const refuse = (reason: string): GatewayAddressCheck => ({ ok: false, reason });

export function checkGatewayAddress(input: string, options: GatewayAddressOptions): GatewayAddressCheck {
  if (typeof input !== 'string' || input === '') return refuse('empty address');
  if (input.length > 253) return refuse('longer than 253 characters');
  // Printable ASCII only: whitespace, control characters and unencoded IDN are never a host.
  if (!/^[\x21-\x7e]+$/.test(input))
    return refuse('contains whitespace, control or non-ASCII characters (IDN names go in punycode)');
  const lower = input.toLowerCase();
  switch (isIP(lower)) {
    case 4:
      return checkIPv4(lower);
    case 6:
      return checkIPv6(lower);
    default:
      return checkName(lower, options);
  }
}

function checkIPv4(address: string): GatewayAddressCheck {
  // isIP accepted it: four decimal octets. Re-serialise to drop nothing but be sure of the form.
  const bytes = address.split('.').map(Number);
  const canonical = bytes.join('.');
  const problem = ipv4Problem(bytes);
  if (problem) return refuse(`${canonical} is ${problem}`);
  return { ok: true, address: canonical, kind: 'ipv4' };
}

/** What is wrong with an IPv4 address as a gateway, or undefined. */
export function ipv4Problem(bytes: readonly number[]): string | undefined {
  const [a = 0, b = 0] = bytes;
  const text = bytes.join('.');
  if (a === 0) return 'unspecified ("this network", 0.0.0.0/8)';
  if (a === 127) return 'loopback (127.0.0.0/8)';
  if (text === '169.254.169.254') return 'the cloud metadata service (169.254.169.254)';
  if (a === 169 && b === 254) return 'link-local (169.254.0.0/16, cloud metadata services)';
  if (a >= 224 && a <= 239) return 'multicast (224.0.0.0/4)';
  if (text === '255.255.255.255') return 'the broadcast address';
  if (a >= 240) return 'reserved (240.0.0.0/4)';
  if (METADATA_IPV4.has(text)) return 'a cloud metadata service address';
  return undefined;
}

function checkIPv6(address: string): GatewayAddressCheck {
  if (address.includes('%')) return refuse(`${address} has a zone index (link-local scope)`);
  // The WHATWG URL serialiser is RFC 5952 compression: lowercase, no leading zeros, the
  // longest run (first on a tie) of two or more zero groups as `::`, IPv4 tails in hex.
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return refuse(`${address} is not an IPv6 address`);
  }
  const groups = expandIPv6(canonical);
  if (!groups) return refuse(`${address} is not an IPv6 address`);
  const problem = ipv6Problem(groups);
  if (problem) return refuse(`${canonical} is ${problem}`);
  return { ok: true, address: canonical, kind: 'ipv6' };
}

/** Eight 16-bit groups of a valid, compressed IPv6 text (no IPv4 tail: URL serialises to hex). */
function expandIPv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff)
    ? groups
    : undefined;
}

function embeddedIPv4(hi: number, lo: number): number[] {
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
}

function ipv6Problem(g: readonly number[]): string | undefined {
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const [g0 = 0, g1 = 0, , , , g5 = 0, g6 = 0, g7 = 0] = g;
  if (zeros(0, 8)) return 'unspecified (::)';
  if (zeros(0, 7) && g7 === 1) return 'loopback (::1)';
  if (zeros(0, 5) && g5 === 0xffff)
    return `an IPv4-mapped address (of ${embeddedIPv4(g6, g7).join('.')}): publish the IPv4 address`;
  if (zeros(0, 4) && g[4] === 0xffff && g5 === 0)
    return `an IPv4-translated address (of ${embeddedIPv4(g6, g7).join('.')}): publish the IPv4 address`;
  if (zeros(0, 6))
    return `an IPv4-compatible address (of ${embeddedIPv4(g6, g7).join('.')}): publish the IPv4 address`;
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local (fe80::/10)';
  if ((g0 & 0xffc0) === 0xfec0) return 'site-local (fec0::/10, deprecated)';
  if ((g0 & 0xff00) === 0xff00) return 'multicast (ff00::/8)';
  if (METADATA_IPV6.has(g.join(':'))) return 'a cloud metadata service address (fd00:ec2::254)';
  // NAT64 (well-known and local-use prefixes) and 6to4 carry an IPv4 destination.
  if (g0 === 0x64 && g1 === 0xff9b && zeros(2, 6)) return embeddedProblem('NAT64', embeddedIPv4(g6, g7));
  if (g0 === 0x64 && g1 === 0xff9b && g[2] === 1) return embeddedProblem('NAT64', embeddedIPv4(g6, g7));
  if (g0 === 0x2002) return embeddedProblem('6to4', embeddedIPv4(g1, g[2] ?? 0));
  return undefined;
}

function embeddedProblem(kind: string, bytes: number[]): string | undefined {
  const problem = ipv4Problem(bytes);
  return problem ? `a ${kind} address of ${bytes.join('.')}, which is ${problem}` : undefined;
}

function checkName(lower: string, options: GatewayAddressOptions): GatewayAddressCheck {
  const name = lower.endsWith('.') ? lower.slice(0, -1) : lower;
  if (!DNS_NAME.test(name)) return refuse(`${JSON.stringify(lower)} is neither an IP address nor a DNS name`);
  // Resolvers read numeric host forms as IPv4 (inet_aton: `2130706433`, `0177.0.0.1`,
  // `0x7f.1`, `127.1`). The WHATWG URL host parser implements the same reading; a name
  // whose last label is numeric is either such an address or, to WHATWG, no valid host.
  let host: string | undefined;
  try {
    host = new URL(`http://${name}/`).hostname;
  } catch {
    host = undefined;
  }
  if (host !== undefined && isIP(host) === 4) {
    const problem = ipv4Problem(host.split('.').map(Number));
    return refuse(
      `${JSON.stringify(lower)} is a numeric host that resolvers read as the IPv4 address ${host}` +
        (problem ? ` (${problem})` : '') +
        '; publish addresses in dotted-decimal form',
    );
  }
  const labels = name.split('.');
  const last = labels[labels.length - 1]!;
  if (host === undefined || /^(\d+|0x[0-9a-f]*)$/.test(last))
    return refuse(`${JSON.stringify(lower)} ends in a numeric label: not a host name`);
  if (host !== name) return refuse(`${JSON.stringify(lower)} is not a canonical host name`);
  if (LOCAL_NAMES.has(name) || last === 'localhost') return refuse(`${name} is a local host name (loopback)`);
  if (METADATA_NAMES.has(name)) return refuse(`${name} is a cloud metadata service name`);
  if (labels.length === 1) return refuse(`${name} is a single-label name (completed by the search path)`);
  const forbiddenDomains = ['cluster.local', options.localClusterDomain.toLowerCase().replace(/\.$/, '')];
  for (const domain of forbiddenDomains) {
    if (domain !== '' && (name === domain || name.endsWith(`.${domain}`)))
      return refuse(
        `${name} is inside our own cluster domain ${domain} (it would resolve inside this cluster)`,
      );
  }
  if (last === 'svc' || name.endsWith('.svc.cluster'))
    return refuse(`${name} would be completed by the pod resolver's search path into this cluster`);
  if (labels.length === 2 && ALWAYS_PRESENT_NAMESPACES.has(last))
    return refuse(`${name} names a Service in namespace ${last} of this cluster (search path)`);
  return { ok: true, address: name, kind: 'dns' };
}
