import type { FailureReason } from '../fetch/outcome';
import type { ImportState } from '../import/verdict';
import { TRUST_DOMAIN_REFUSALS, type RefusalReason } from '../trust/refusals';

/**
 * The one vocabulary of condition reasons, by condition: every reason the status projection
 * (record.ts, project.ts) can write. ConditionInput's `reason` is typed by it, so a reason
 * not listed here does not compile; and the lists below are checked against the unions they
 * come from (fetch failures, trust refusals, import states). docs/USAGE.md's Conditions
 * table must name each of them (docs test: lib/federation/status/reasons.test.ts).
 */

/** Why a fetch failed (fetch/outcome.ts, fetch/transport.ts). */
export const FETCH_FAILURE_REASONS = [
  'Unreachable',
  'TLSError',
  'HTTPError',
  'TokenRejected',
  'Timeout',
  'TooLarge',
  'Redirect',
  'InvalidDocument',
  'LocalIdentityMissing',
  'AllItemsRejected',
] as const satisfies readonly FailureReason[];

/** Why a peer is not trusted (trust/refusals.ts, trust/select.ts). */
export const REFUSAL_REASONS = [
  ...TRUST_DOMAIN_REFUSALS,
  'NoPublicMetadata',
  'InvalidPublicMetadata',
  'DuplicateClusterUUID',
  'LocalClusterUUID',
  'FederationDisabled',
] as const satisfies readonly RefusalReason[];

/** ServicesImported when the import state is not a refusal (import/verdict.ts ImportState). */
export const IMPORT_STATE_REASONS = [
  'PeerNotTrusted',
  'NoPrivateMetadata',
  'NoGateways',
  'NoPublicServices',
  'Imported',
] as const;

export const CONDITION_REASONS = {
  MetadataFetched: ['Fetched', ...FETCH_FAILURE_REASONS, ...TRUST_DOMAIN_REFUSALS],
  TrustEstablished: ['PeerTrusted', 'IdentityChanged', ...REFUSAL_REASONS],
  ServicesImported: [
    ...IMPORT_STATE_REASONS,
    'ImportConflicts',
    'ImportLimitReached',
    'TokenRejected',
    ...TRUST_DOMAIN_REFUSALS,
    'FederationDisabled',
  ],
  /** `Ready`, else the reason of the first condition that is not True (Ready copies it). */
  Ready: ['Ready'],
  /** From the gateway probe's record (status/gateway.ts); not part of Ready. */
  GatewayReachable: ['GatewaysReachable', 'GatewayUnreachable', 'NotProbed'],
} as const;

export type ConditionType = keyof typeof CONDITION_REASONS;

/** Every reason a condition can carry (Ready's False reasons are the others' reasons). */
export type ConditionReason = (typeof CONDITION_REASONS)[ConditionType][number];

/** Every reason, once, in a stable order. */
export const ALL_CONDITION_REASONS: readonly ConditionReason[] = [
  ...new Set(Object.values(CONDITION_REASONS).flat()),
] as ConditionReason[];

// Each list holds every member of the union it comes from: a new fetch failure, refusal or
// import state that is not listed here is a compile error.
type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : Exclude<Union, Listed>;
const _fetch: Exhaustive<FailureReason, (typeof FETCH_FAILURE_REASONS)[number]> = true;
const _refusal: Exhaustive<RefusalReason, (typeof REFUSAL_REASONS)[number]> = true;
const _state: Exhaustive<
  Exclude<ImportState, 'NotTrusted'> | 'PeerNotTrusted',
  (typeof IMPORT_STATE_REASONS)[number]
> = true;
void [_fetch, _refusal, _state];
