// A Kubernetes client as istiod would use it, configured only from a kubeconfig (server =
// the api-proxy, bearer = a peer's JWT): @kubernetes/client-node, run under Bun (jest
// cannot load the ESM package). The jest side starts it and reads JSON lines from stdout.
//   bun kube-client.ts <kubeconfig> api-versions
//   bun kube-client.ts <kubeconfig> list <services|endpointslices|pods|namespaces> [namespace]
//   bun kube-client.ts <kubeconfig> paginate <namespace> <limit>      (services, limit/continue)
//   bun kube-client.ts <kubeconfig> watch <services|endpointslices|pods|namespaces|configmaps> [namespace]
//   bun kube-client.ts <kubeconfig> secret-informer [namespace]   (list, then watch, as an informer)
import { CoreApi, CoreV1Api, DiscoveryV1Api, KubeConfig, ListWatch, Watch } from '@kubernetes/client-node';

const [kubeconfigPath, command, ...args] = process.argv.slice(2);
const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath!);
const core = kc.makeApiClient(CoreV1Api);
const discovery = kc.makeApiClient(DiscoveryV1Api);

const emit = (value: unknown): void => {
  process.stdout.write(JSON.stringify(value) + '\n');
};

type Named = { metadata?: { name?: string; namespace?: string } };
const names = (items: readonly Named[]): string[] => items.map((i) => i.metadata?.name ?? '');

async function list(kind: string, namespace?: string): Promise<string[]> {
  switch (kind) {
    case 'services':
      return names(
        (namespace
          ? await core.listNamespacedService({ namespace })
          : await core.listServiceForAllNamespaces()
        ).items,
      );
    case 'pods':
      return names(
        (namespace ? await core.listNamespacedPod({ namespace }) : await core.listPodForAllNamespaces())
          .items,
      );
    case 'endpointslices':
      return names(
        (namespace
          ? await discovery.listNamespacedEndpointSlice({ namespace })
          : await discovery.listEndpointSliceForAllNamespaces()
        ).items,
      );
    case 'namespaces':
      return names((await core.listNamespace()).items);
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

function watchPath(kind: string, namespace?: string): string {
  const base = kind === 'endpointslices' ? '/apis/discovery.k8s.io/v1' : '/api/v1';
  return namespace && kind !== 'namespaces' ? `${base}/namespaces/${namespace}/${kind}` : `${base}/${kind}`;
}

async function main(): Promise<void> {
  switch (command) {
    case 'api-versions': {
      const versions = await kc.makeApiClient(CoreApi).getAPIVersions();
      emit({ kind: versions.kind, versions: versions.versions });
      return;
    }
    case 'list':
      emit({ items: await list(args[0]!, args[1]) });
      return;
    case 'paginate': {
      const [namespace, limit] = [args[0]!, Number(args[1])];
      const pages: string[][] = [];
      let token: string | undefined;
      for (let round = 0; round < 1000; round++) {
        const page = await core.listNamespacedService({
          namespace,
          limit,
          ...(token ? { _continue: token } : {}),
        });
        pages.push(names(page.items));
        token = page.metadata?._continue;
        if (!token) break;
      }
      emit({ pages });
      return;
    }
    case 'watch': {
      const [kind, namespace] = [args[0]!, args[1]];
      const started = await new Watch(kc).watch(
        watchPath(kind, namespace),
        {},
        (type: string, object: Named) => emit({ event: type, name: object.metadata?.name }),
        (error: unknown) => {
          emit({ done: error ? String((error as Error).message ?? error) : null });
          process.exit(0);
        },
      );
      emit({ watching: watchPath(kind, namespace), started: started !== undefined });
      return; // the process lives as long as the watch
    }
    case 'secret-informer': {
      // What istiod's credentials controller runs on every remote cluster, in client-node.
      const namespace = args[0];
      const path = namespace ? `/api/v1/namespaces/${namespace}/secrets` : '/api/v1/secrets';
      const informer = new ListWatch(
        path,
        new Watch(kc),
        () => (namespace ? core.listNamespacedSecret({ namespace }) : core.listSecretForAllNamespaces()),
        false,
      );
      for (const verb of ['add', 'update', 'delete'] as const)
        informer.on(verb, (object) => emit({ event: verb, name: object.metadata?.name }));
      informer.on('error', (error) => emit({ informerError: String(error) }));
      await informer.start(); // resolves once the list is in and the watch is open
      emit({
        synced: path,
        items: names(informer.list()),
        resourceVersion: informer.latestResourceVersion(),
      });
      return; // the process lives as long as the informer
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
}

main().catch((error: unknown) => {
  const e = error as { code?: number; body?: unknown; message?: string };
  emit({ error: e.message ?? String(error), code: e.code ?? null });
  process.exit(2);
});
