/** Istio port protocols this module emits for imported services. */
export type Protocol = 'HTTP' | 'HTTP2' | 'TLS' | 'TCP';

/**
 * The reference rule: the port name's prefix before the first `-` decides.
 * `grpc`/`http2` -> HTTP2, `http` -> HTTP, `https`/`tls` -> TLS, anything else TCP.
 */
export function protocolFromPortName(name: string | undefined): Protocol {
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
  return fromAppProtocol ?? protocolFromPortName(port.name);
}
