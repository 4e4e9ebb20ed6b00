import type { LocalIdentity } from '../identity/local';
import { parseJsonBody } from '../wire/validate';
import { tokenRejectedMessage, withPeerExcerpt, type FetchFailure } from './outcome';
import type { FetchResult } from './transport';

/** What one response of a peer means: a parsed body, or the failure with its reason and message. */

export function invalid(url: string, error: string): { ok: false; failure: FetchFailure } {
  return { ok: false, failure: { reason: 'InvalidDocument', message: `${url}: ${error}`, endpoint: url } };
}

/** A 401 or 403 to our token has its own reason, and says what the peer's admin must create. */
export function tokenRejected(
  result: { ok: false; failure: FetchFailure },
  local: LocalIdentity,
  advice: typeof tokenRejectedMessage = tokenRejectedMessage,
): { ok: false; failure: FetchFailure } {
  const { failure } = result;
  if (failure.status !== 401 && failure.status !== 403) return result;
  return {
    ok: false,
    failure: {
      ...failure,
      reason: 'TokenRejected',
      message: withPeerExcerpt(advice(failure.message, local), failure.bodyExcerpt),
    },
  };
}

export function parsedBody(
  result: FetchResult,
  url: string,
): { ok: true; value: unknown } | { ok: false; failure: FetchFailure } {
  if (!result.ok) {
    const { status, bodyExcerpt } = result;
    const tokenRefused = status === 401 || status === 403;
    return {
      ok: false,
      failure: {
        reason: result.reason,
        // A refused token gets the excerpt after the admin hint (tokenRejected above).
        message: tokenRefused ? result.message : withPeerExcerpt(result.message, bodyExcerpt),
        endpoint: url,
        ...(status !== undefined ? { status } : {}),
        ...(bodyExcerpt ? { bodyExcerpt } : {}),
      },
    };
  }
  const parsed = parseJsonBody(result.body);
  return parsed.ok ? parsed : invalid(url, parsed.error);
}
