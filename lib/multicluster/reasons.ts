import { FETCH_FAILURE_REASONS } from '../federation/status/reasons';
import { JOIN_STATES, type MulticlusterRefusalReason } from './verdict';

/**
 * The vocabulary of IstioMulticluster condition reasons, by condition (the sibling of
 * lib/federation/status/reasons.ts, whose fetch reasons it shares). docs/USAGE.md's
 * multicluster Conditions table must name each (tests/docs/conditions.test.ts).
 */

export const MULTICLUSTER_REFUSAL_REASONS = [
  'NoPublicMetadata',
  'InvalidPublicMetadata',
  'DuplicateClusterUUID',
  'LocalClusterUUID',
  'MulticlusterDisabled',
] as const satisfies readonly MulticlusterRefusalReason[];

/** The remote-API probe's outcomes (lib/multicluster/probe.ts), `NotProbed` while not due. */
export const API_PROBE_REASONS = [
  'RemoteAPIReachable',
  'NotProbed',
  'MissingAPIHost',
  'LocalIdentityMissing',
  'RemoteAPIUnreachable',
  'RemoteAPITLSError',
  'RemoteAPITokenRejected',
  'RemoteAPIBadResponse',
  'RemoteAPIInvalidResponse',
  'RemoteAPIUnexpectedResponse',
  'MulticlusterDisabled',
] as const;

export type APIProbeReason = (typeof API_PROBE_REASONS)[number];

export const MULTICLUSTER_CONDITION_REASONS = {
  MetadataFetched: ['Fetched', ...FETCH_FAILURE_REASONS],
  TrustEstablished: ['PeerTrusted', 'IdentityChanged', ...MULTICLUSTER_REFUSAL_REASONS],
  /** True: rendered for istiod (remote Secret, network, gateways); the verdict's join state. */
  Joined: [...JOIN_STATES, 'TokenRejected'],
  RemoteAPIReachable: API_PROBE_REASONS,
  /** `Ready`, else the reason of the first condition that is not True (Ready copies it). */
  Ready: ['Ready'],
} as const;

export type MulticlusterConditionType = keyof typeof MULTICLUSTER_CONDITION_REASONS;
export type MulticlusterConditionReason =
  (typeof MULTICLUSTER_CONDITION_REASONS)[MulticlusterConditionType][number];

type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : Exclude<Union, Listed>;
const _refusal: Exhaustive<MulticlusterRefusalReason, (typeof MULTICLUSTER_REFUSAL_REASONS)[number]> = true;
void _refusal;
