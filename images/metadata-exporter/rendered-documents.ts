import { createHash } from 'node:crypto';
import type { DocumentSet } from './document-set';
import { federationDocumentFor } from './scoping';

export interface Body {
  bytes: Buffer;
  etag: string;
}

function jsonBody(value: unknown): Body {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
}

/**
 * The response bodies of one document set, serialised once: the public routes are
 * served from memory without per-request work, private bodies once per trust domain.
 */
export class RenderedDocuments {
  readonly public: Body;
  readonly spiffeBundle: Body;
  /** The same for every multicluster peer; absent when multicluster.json is not served. */
  readonly multicluster: Body | undefined;
  private readonly privateByTrustDomain = new Map<string, Body>();

  constructor(readonly set: DocumentSet) {
    this.public = jsonBody(set.public);
    this.spiffeBundle = jsonBody(set.spiffeBundle);
    // Deckhouse's key order; ingressGateways is always a list.
    const mc = set.multicluster;
    this.multicluster =
      mc &&
      jsonBody({ ingressGateways: mc.ingressGateways, apiHost: mc.apiHost, networkName: mc.networkName });
  }

  /**
   * The federation document one peer may read; absent when federation.json is not served.
   * The number of distinct keys is bounded by the remote peers of the set.
   */
  federationFor(peerTrustDomain: string | undefined): Body | undefined {
    if (!this.set.federation) return undefined;
    const key = peerTrustDomain === undefined ? '' : `td:${peerTrustDomain}`;
    let body = this.privateByTrustDomain.get(key);
    if (!body) {
      body = jsonBody(federationDocumentFor(this.set.federation, peerTrustDomain));
      this.privateByTrustDomain.set(key, body);
    }
    return body;
  }
}
