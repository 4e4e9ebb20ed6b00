import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makeServerPki } from '../fetch/certs';

/**
 * A stand-in for a peer's federation gateway on 127.0.0.1: TLS that demands a client
 * certificate (as the mesh workload behind an AUTO_PASSTHROUGH gateway does) and records
 * the SNI of every ClientHello. Where the real gateway has no route for an SNI it closes
 * the connection; `knownSni` plays that: any other SNI is cut off before the handshake.
 */
export interface GatewayStandIn {
  port: number;
  /** SNIs received, in order. */
  snis: string[];
  close(): Promise<void>;
}

export async function startGatewayStandIn(options: { knownSni?: string } = {}): Promise<GatewayStandIn> {
  const pki = makeServerPki('gateway stand-in');
  const snis: string[] = [];
  const server: Server = createServer({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    ca: pki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    SNICallback: (servername, callback) => {
      snis.push(servername);
      if (options.knownSni !== undefined && servername !== options.knownSni) {
        callback(new Error(`no route for ${servername}`));
        return;
      }
      callback(null, undefined);
    },
  });
  server.on('tlsClientError', (_error, socket) => socket.destroy());
  server.on('secureConnection', (socket) => socket.end());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    snis,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
