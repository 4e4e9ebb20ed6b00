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
  private readonly privateByTrustDomain = new Map<string, Body>();

  constructor(readonly set: DocumentSet) {
    this.public = jsonBody(set.public);
    this.spiffeBundle = jsonBody(set.spiffeBundle);
  }

  /** The number of distinct keys is bounded by the remote peers of the set. */
  privateFor(peerTrustDomain: string | undefined): Body {
    const key = peerTrustDomain === undefined ? '' : `td:${peerTrustDomain}`;
    let body = this.privateByTrustDomain.get(key);
    if (!body) {
      body = jsonBody(federationDocumentFor(this.set.federation, peerTrustDomain));
      this.privateByTrustDomain.set(key, body);
    }
    return body;
  }
}
