import { MAX_TOKEN_LIFETIME_SECONDS } from '../../images/metadata-exporter/server';
import { eddsaToken, referenceClaims } from '../../tests/exporter/tokens';

/** Seconds a token has left when wrk starts, for its start-up and the first connections. */
const TOKEN_MARGIN_SECONDS = 30;
/** The longest private-document run one token covers (the exporter refuses tokens over 300 s). */
export const MAX_BENCH_DURATION_SECONDS = MAX_TOKEN_LIFETIME_SECONDS - 2 * TOKEN_MARGIN_SECONDS;

/**
 * The bench's bearer token for the private document: the reference's claims (nbf = now),
 * living just long enough for one wrk run of `durationSeconds` plus a margin, never longer
 * than the exporter accepts (MAX_TOKEN_LIFETIME_SECONDS). Mint it right before the run.
 */
export function benchPrivateToken(
  peerPrivateKeyPem: string,
  audience: string,
  subject: string,
  durationSeconds: number,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  if (durationSeconds > MAX_BENCH_DURATION_SECONDS) {
    throw new Error(
      `--duration ${durationSeconds}: one token covers at most ${MAX_BENCH_DURATION_SECONDS} s ` +
        `(the exporter refuses tokens living over ${MAX_TOKEN_LIFETIME_SECONDS} s)`,
    );
  }
  const lifetime = Math.max(60, Math.ceil(durationSeconds) + TOKEN_MARGIN_SECONDS);
  return eddsaToken(peerPrivateKeyPem, {
    ...referenceClaims(audience, subject, nowSeconds),
    exp: nowSeconds + lifetime,
  });
}
