import https from 'node:https';

/**
 * A keep-alive connection of ONE peer's fetch: its public and private documents travel
 * over one TLS connection (one handshake instead of two). Never shared between peers;
 * close() it when the peer's fetch is done.
 */
export interface PeerConnection {
  agent: https.Agent;
  close(): void;
}

export function peerConnection(): PeerConnection {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  return { agent, close: () => agent.destroy() };
}
