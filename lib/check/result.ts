/**
 * What `check` produces: one record per verified thing. Checks are pure functions that
 * return these; render.ts prints them. `warn` and `skip` never fail the command.
 */

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** Stable id for scripts and tests, e.g. `crd`, `peer.private-document`. */
  id: string;
  /** `module`, `istiod`, or `peer <name>`. */
  scope: string;
  /** What was verified, as a short sentence. */
  title: string;
  status: CheckStatus;
  /** What was seen (counts, versions, latency, the error). */
  detail?: string;
  /** What to do about a failure or warning. */
  hint?: string;
}

export function result(
  id: string,
  scope: string,
  title: string,
  status: CheckStatus,
  extra: { detail?: string | undefined; hint?: string | undefined } = {},
): CheckResult {
  return {
    id,
    scope,
    title,
    status,
    ...(extra.detail !== undefined ? { detail: extra.detail } : {}),
    ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
  };
}

/** The command's exit code: 1 when any check failed, else 0. */
export function exitCode(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

export function summary(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
