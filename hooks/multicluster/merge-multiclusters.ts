import type { AuthnKeypair } from '../../lib/federation/identity/authn-keys';
import { localIdentity } from '../../lib/federation/identity/local';
import { defineHook, kubernetesBinding } from '../../lib/hook-sdk';
import {
  MULTICLUSTER_KIND,
  MULTICLUSTER_MERGE_JQ_FILTER,
  readMulticluster,
  type Multicluster,
} from '../../lib/multicluster/kind';
import { mergeMulticlusters, needIngressGateway, type MulticlusterValue } from '../../lib/multicluster/merge';
import {
  readRemoteSecrets,
  REMOTE_SECRET_JQ_FILTER,
  REMOTE_SECRET_LABEL,
} from '../../lib/multicluster/remote-secret';

/**
 * From the IstioMulticluster statuses (written by the fetch hook) and the remote Secrets we
 * rendered before, to values: verdict (the one the fetch hook projects onto status) ->
 * api tokens reused or issued -> values. The daily schedule renews tokens without events.
 */

export const NAMESPACE = 'd8-istio';
export const RENEWAL_SCHEDULE = 'api-token-renewal';

export function createMergeMulticlustersHook() {
  return defineHook({
    name: 'multicluster/merge-multiclusters',
    beforeHelm: 30,
    schedule: [{ name: RENEWAL_SCHEDULE, crontab: '0 3 * * *' }],
    kubernetes: {
      multiclusters: kubernetesBinding({
        ...MULTICLUSTER_KIND.ref,
        jqFilter: MULTICLUSTER_MERGE_JQ_FILTER,
        parse: (raw: unknown) => raw, // read in run(): the reader needs our trust domain
      }),
      remoteSecrets: kubernetesBinding({
        apiVersion: 'v1',
        kind: 'Secret',
        namespace: { nameSelector: { matchNames: [NAMESPACE] } },
        labelSelector: { matchLabels: { [REMOTE_SECRET_LABEL]: 'true' } },
        jqFilter: REMOTE_SECRET_JQ_FILTER,
        parse: (raw: unknown) => raw,
      }),
    },
    async run({ snapshots, values, log, now }) {
      const local = localIdentity(values);
      const enabled = values.get<boolean>('istio.multicluster.enabled') === true;
      const peers = enabled
        ? snapshots.multiclusters
            .map((raw) => readMulticluster(raw, { ownTrustDomain: local.trustDomain }))
            .filter((p): p is Multicluster => p !== undefined)
        : [];
      const verdict = MULTICLUSTER_KIND.decide(peers, {
        trustDomain: local.trustDomain,
        clusterUUID: local.clusterUUID,
        now,
      });
      const secrets = readRemoteSecrets(enabled ? snapshots.remoteSecrets : []);
      for (const { secret, problem } of secrets.ignored) {
        log.info('ignored a Secret labelled istio/multiCluster', {
          secret: `${NAMESPACE}/${secret}`,
          problem,
        });
      }
      const keypair = values.get<Partial<AuthnKeypair>>('istio.internal.remoteAuthnKeypair');
      const merged = await mergeMulticlusters({
        usable: verdict.usable,
        secrets: secrets.byPeer,
        previous: values.get<MulticlusterValue[]>('istio.internal.multiclusters') ?? [],
        ownUUID: local.clusterUUID,
        keys: keypair?.pub && keypair.priv ? { pub: keypair.pub, priv: keypair.priv } : undefined,
        now,
      });
      for (const event of merged.events) log[event.level](event.message, event.fields);
      values.set('istio.internal.multiclusters', merged.multiclusters);
      values.set('istio.internal.multiclustersNeedIngressGateway', needIngressGateway(peers));
      values.set('istio.internal.multicluster.trustedPeers', verdict.trusted);
    },
  });
}

export default createMergeMulticlustersHook();
