import { sortGateways } from '../discovery/gateways';
import type { Refusal } from '../trust/refusals';
import {
  identityOf,
  selectTrustedPeers,
  type LocalCluster,
  type PeerIdentity,
  type TrustInput,
  type TrustedPeer,
} from '../trust/select';
import type { IngressGateway, PublicDocument } from '../wire/documents';
import type { CachedPrivateDocument } from '../wire/validate';
import { mergeServicePorts, type ImportConflict } from './ports';
import { buildServiceEntries, type MergedPort, type ServiceEntryValue } from './service-entries';

/**
 * The verdict over all federations: who is trusted, what each imports and why not, and
 * the ServiceEntries. The fetch hook projects it onto every status, the merge hook writes
 * it to values: both call this function on the same parsed input (cached/read.ts), so
 * status and values agree by construction. Pure, total and deterministic whatever the
 * input order.
 */

/** One federation as the verdict needs it (read by cached/read.ts, items already validated). */
export interface ImportInput extends TrustInput {
  public?: PublicDocument | undefined;
  private?: CachedPrivateDocument | undefined;
}

export interface ImportLimits {
  maxServicesPerFederation: number;
  maxServicesTotal: number;
}

/** Bounds the values (and the Helm release, ~1 MiB) whatever peers publish. */
export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxServicesPerFederation: 10000,
  maxServicesTotal: 10000,
};

/** Why a trusted federation imports what it does. */
export type ImportState = 'NotTrusted' | 'NoPrivateMetadata' | 'NoGateways' | 'NoPublicServices' | 'Imported';

export interface PeerVerdict {
  /** Trusted: with the identity (clusterUUID, authn key) it holds, recorded on its status. */
  trust: { trusted: true; identity: PeerIdentity } | ({ trusted: false } & Refusal);
  state: ImportState;
  /** Services and gateways in its cached private document. */
  published: number;
  gateways: number;
  /** Hostnames imported, and those left out by a limit. */
  imported: number;
  dropped: number;
  /** Its ports not imported because they clash with ports merged before. */
  conflicts: ImportConflict[];
  /** Imported hostnames without identities (the peer sent none): not pinned to its workloads. */
  unpinned: number;
}

export interface ImportVerdict {
  trustedPeers: TrustedPeer[];
  serviceEntries: ServiceEntryValue[];
  /** Every input federation, in name order. */
  federations: Map<string, PeerVerdict>;
}

export interface ImportOptions {
  limits?: ImportLimits | undefined;
  /** `istio.federation.enabled` is false: nothing is trusted or imported, every peer says why. */
  disabled?: boolean | undefined;
}

export const FEDERATION_DISABLED = {
  reason: 'FederationDisabled',
  message: 'federation is disabled (istio.federation.enabled is false): nothing is trusted or imported',
} as const;

export function decideImports(
  inputs: readonly ImportInput[],
  local: LocalCluster,
  options: ImportOptions = {},
): ImportVerdict {
  const limits = options.limits ?? DEFAULT_IMPORT_LIMITS;
  if (options.disabled) {
    const disabled = (input: ImportInput): [string, PeerVerdict] => [
      input.name,
      { ...emptyVerdict(input), trust: { trusted: false, ...FEDERATION_DISABLED } },
    ];
    const sorted = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { trustedPeers: [], serviceEntries: [], federations: new Map(sorted.map(disabled)) };
  }
  const { trusted, peers, refusals } = selectTrustedPeers(inputs, local);
  const federations = new Map<string, PeerVerdict>();
  for (const input of inputs) {
    const refusal = refusals.get(input.name);
    if (refusal)
      federations.set(input.name, { ...emptyVerdict(input), trust: { trusted: false, ...refusal } });
  }
  const hosts = new Map<string, Map<number, MergedPort>>();
  // Per host: the identities of every federation it comes from, or null when one of them
  // sent none (a host is pinned only when all its sources are).
  const identities = new Map<string, Set<string> | null>();
  const gatewaysByFederation = new Map<string, IngressGateway[]>();
  const importing: (typeof trusted)[number][] = [];
  for (const f of trusted) {
    const verdict: PeerVerdict = { ...emptyVerdict(f), trust: { trusted: true, identity: identityOf(f) } };
    federations.set(f.name, verdict);
    verdict.state = !f.private
      ? 'NoPrivateMetadata'
      : f.private.publicServices.length === 0
        ? 'NoPublicServices'
        : f.private.ingressGateways.length === 0
          ? 'NoGateways'
          : 'Imported';
    if (verdict.state === 'Imported') importing.push(f);
  }
  const shares = fairShares(
    new Map(
      importing.map((f) => [
        f.name,
        Math.min(f.private!.publicServices.length, limits.maxServicesPerFederation),
      ]),
    ),
    limits.maxServicesTotal,
  );
  for (const f of importing) {
    const verdict = federations.get(f.name)!;
    const doc = f.private!;
    const share = shares.get(f.name) ?? 0;
    gatewaysByFederation.set(f.name, sortGateways(doc.ingressGateways));
    const ordered = [...doc.publicServices].sort((a, b) =>
      a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0,
    );
    for (const service of ordered) {
      if (verdict.imported >= share) {
        verdict.dropped++;
        continue;
      }
      const ports = hosts.get(service.hostname) ?? new Map<number, MergedPort>();
      if (mergeServicePorts(f.name, service, ports, verdict.conflicts)) {
        hosts.set(service.hostname, ports);
        verdict.imported++;
        const known = identities.get(service.hostname);
        if (!service.identities?.length) {
          verdict.unpinned++;
          identities.set(service.hostname, null);
        } else if (known === undefined) identities.set(service.hostname, new Set(service.identities));
        else if (known !== null) for (const id of service.identities) known.add(id);
      }
    }
  }
  const names = [...federations.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    trustedPeers: peers,
    serviceEntries: buildServiceEntries(
      hosts,
      (name) => gatewaysByFederation.get(name) ?? [],
      (hostname) => {
        const set = identities.get(hostname);
        return set ? [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : undefined;
      },
    ),
    federations: new Map(names.map((name) => [name, federations.get(name)!])),
  };
}

/**
 * The import limit, shared fairly: every federation gets what it wants (its services, at
 * most the per-federation limit) when that fits; otherwise the total is shared max-min fair
 * (water-filling: the smaller wants are met in full, the larger ones get equal shares). A
 * unit left over from rounding goes to the first by name that still wants more. Within a
 * federation, services are taken in hostname order.
 */
export function fairShares(wants: ReadonlyMap<string, number>, total: number): Map<string, number> {
  const shares = new Map<string, number>();
  const byName = [...wants.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const byWant = [...byName].sort((a, b) => wants.get(a)! - wants.get(b)!);
  let remaining = total;
  let left = byWant.length;
  for (const name of byWant) {
    const share = Math.min(wants.get(name)!, Math.floor(remaining / left));
    shares.set(name, share);
    remaining -= share;
    left--;
  }
  for (const name of byName) {
    if (remaining <= 0) break;
    if (shares.get(name)! < wants.get(name)!) {
      shares.set(name, shares.get(name)! + 1);
      remaining--;
    }
  }
  return shares;
}

function emptyVerdict(input: ImportInput): Omit<PeerVerdict, 'trust'> {
  return {
    state: 'NotTrusted',
    published: input.private?.publicServices.length ?? 0,
    gateways: input.private?.ingressGateways.length ?? 0,
    imported: 0,
    dropped: 0,
    conflicts: [],
    unpinned: 0,
  };
}

/** All conflicts, in federation order (for metrics and logs). */
export function allConflicts(verdict: ImportVerdict): ImportConflict[] {
  return [...verdict.federations.values()].flatMap((v) => v.conflicts);
}
