import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A hostile "exporter" on a peer's address: serves the peer's real public document and a
 * garbage private one. The real exporter refuses to serve malformed documents, so a
 * compromised or buggy peer is played by this server instead, with the same certificate.
 */
export interface Impostor {
  close(): Promise<void>;
}

export function startImpostor(options: {
  port: number;
  certPem: string;
  keyPem: string;
  publicJson: string;
  privateBody: string;
}): Promise<Impostor> {
  const server: Server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metadata/public/public.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(options.publicJson);
    } else if (path === '/metadata/private/federation.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(options.privateBody);
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok');
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: options.port }, () => {
      const bound = (server.address() as AddressInfo).port;
      if (bound !== options.port) reject(new Error(`impostor bound ${bound}, wanted ${options.port}`));
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
