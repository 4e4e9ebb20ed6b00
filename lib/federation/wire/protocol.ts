/** Istio port protocols this module emits for imported services. */
export type Protocol = 'HTTP' | 'HTTP2' | 'TLS' | 'TCP';

/**
 * Deckhouse's keywords, longest first: a name matching several takes the longest (`https`
 * is TLS although it contains `http`); of the two five-letter ones `http2` is tried before
 * `https` (only a name holding both, such as `http2https`, can tell them apart).
 */
const REFERENCE_KEYWORDS: readonly (readonly [string, Protocol])[] = [
  ['http2', 'HTTP2'],
  ['https', 'TLS'],
  ['grpc', 'HTTP2'],
  ['http', 'HTTP'],
  ['tls', 'TLS'],
];

/**
 * The reference rule, applied to a PEER's ports (issue 10 item 13), so that both sides of
 * a federation classify a port alike: the text before the first `-` is searched for the
 * keywords by SUBSTRING, case-sensitive, longest keyword first. `myhttp` is HTTP, `HTTP`
 * is TCP, `grpcweb-x` is HTTP2, `mtls` is TLS; no keyword: TCP.
 */
export function protocolFromPortName(name: string | undefined): Protocol {
  const prefix = (name ?? '').split('-')[0]!;
  for (const [keyword, protocol] of REFERENCE_KEYWORDS) if (prefix.includes(keyword)) return protocol;
  return 'TCP';
}

/**
 * Our own ports (discovery): the prefix before the first `-` must BE a keyword, any case
 * (`HTTP-x` is HTTP, `myhttp` is TCP). We publish the result as the port's `protocol`, so
 * peers running this module use it as is; see README "Port protocols" for why our own
 * ports keep this stricter rule.
 */
function ownProtocolFromPortName(name: string | undefined): Protocol {
  const prefix = (name ?? '').split('-')[0]!.toLowerCase();
  switch (prefix) {
    case 'grpc':
    case 'http2':
      return 'HTTP2';
    case 'http':
      return 'HTTP';
    case 'https':
    case 'tls':
      return 'TLS';
    default:
      return 'TCP';
  }
}

const APP_PROTOCOLS: Record<string, Protocol> = {
  http: 'HTTP',
  'kubernetes.io/ws': 'HTTP',
  http2: 'HTTP2',
  grpc: 'HTTP2',
  'grpc-web': 'HTTP2',
  'kubernetes.io/h2c': 'HTTP2',
  https: 'TLS',
  tls: 'TLS',
  'kubernetes.io/wss': 'TLS',
  tcp: 'TCP',
};

/** `appProtocol` (when it names a known protocol) wins over the port-name prefix. */
export function detectProtocol(port: { name?: string; appProtocol?: string }): Protocol {
  const fromAppProtocol = port.appProtocol ? APP_PROTOCOLS[port.appProtocol.toLowerCase()] : undefined;
  return fromAppProtocol ?? ownProtocolFromPortName(port.name);
}
