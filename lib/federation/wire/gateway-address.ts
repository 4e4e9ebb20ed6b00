import { isIP } from 'node:net';

/**
 * The gateway-address rule: addresses a peer may not publish for its ingress gateways,
 * since they would point imported traffic at the proxy itself or at node-local services
 * (loopback, unspecified, link-local such as cloud metadata, multicast, IPv4-mapped IPv6).
 * Applied where documents are validated (wire/validate.ts), fetched or read back from status.
 */

const FORBIDDEN_V4 = [/^127\./, /^0\./, /^169\.254\./, /^2(2[4-9]|[3-5]\d)\./];

export function isAcceptableGatewayAddress(address: string): boolean {
  const a = address.toLowerCase();
  switch (isIP(a)) {
    case 4:
      return !FORBIDDEN_V4.some((r) => r.test(a));
    case 6:
      return !(a === '::' || a === '::1' || /^fe[89ab]/.test(a) || /^ff/.test(a) || /^::ffff:/.test(a));
    default:
      return a !== 'localhost' && !a.endsWith('.localhost');
  }
}
