import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Collections the proxy answers itself, with nothing, without asking the apiserver.
 *
 * istiod (1.31 line, pilot/pkg/credentials/kube) builds for EVERY remote cluster a credentials
 * informer: a cluster-wide list+watch of Secrets, and it serves the remote cluster only once
 * that informer has synced (pkg/kube/multicluster/cluster.go: a refused list keeps it
 * "syncing", then "timeout" after 30 s, and the remote's services never reach the registry;
 * measured in tests/e2e/multicluster.e2e.test.ts). A remote istiod never needs our Secrets: a
 * proxy's credentials are read in the proxy's own cluster. So a list of Secrets is answered
 * with an empty list and a watch with no events (a streaming list, `sendInitialEvents=true`,
 * gets the bookmark that ends the initial events): the informer syncs, the apiserver is never
 * asked, the proxy's ServiceAccount keeps no access to Secrets, and a Secret by name stays 403.
 */
export const EMPTY_COLLECTIONS: Readonly<Record<string, string>> = { secrets: 'Secret' };

/** A resourceVersion of our own: the informer only hands it back to us. */
export const EMPTY_RESOURCE_VERSION = '1';
const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export function emptyListBody(resource: string): Buffer {
  const kind = EMPTY_COLLECTIONS[resource] ?? 'Unknown';
  return Buffer.from(
    JSON.stringify({
      kind: `${kind}List`,
      apiVersion: 'v1',
      metadata: { resourceVersion: EMPTY_RESOURCE_VERSION },
      items: [],
    }),
  );
}

/** The BOOKMARK that tells a streaming list all initial events (none) were sent. */
export function initialEventsEndEvent(resource: string): string {
  const kind = EMPTY_COLLECTIONS[resource] ?? 'Unknown';
  const object = {
    kind,
    apiVersion: 'v1',
    metadata: { resourceVersion: EMPTY_RESOURCE_VERSION, annotations: { [INITIAL_EVENTS_END]: 'true' } },
  };
  return `${JSON.stringify({ type: 'BOOKMARK', object })}\n`;
}

export interface EmptyWatchParams {
  sendInitialEvents: boolean;
  /** The client's timeoutSeconds, in ms (the apiserver ends a watch then). */
  timeoutMs: number | undefined;
}

export function emptyWatchParams(url: string): EmptyWatchParams {
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const timeout = Number(query.get('timeoutSeconds'));
  return {
    sendInitialEvents: query.get('sendInitialEvents') === 'true',
    timeoutMs: Number.isInteger(timeout) && timeout > 0 ? timeout * 1000 : undefined,
  };
}

/**
 * Answers one empty list or watch. A watch stays open (no events) until the client's
 * timeoutSeconds, the client leaving, or the connection bounds of the server.
 */
export function serveEmpty(
  req: IncomingMessage,
  res: ServerResponse,
  verb: 'list' | 'watch',
  resource: string,
  done: (outcome: string) => void,
): void {
  const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
  if (verb === 'list') {
    const body = emptyListBody(resource);
    res.writeHead(200, { ...headers, 'Content-Length': body.length });
    res.end(body);
    done('answered empty');
    return;
  }
  const params = emptyWatchParams(req.url ?? '');
  res.writeHead(200, headers);
  if (params.sendInitialEvents) res.write(initialEventsEndEvent(resource));
  res.flushHeaders();
  const timer = params.timeoutMs === undefined ? undefined : setTimeout(() => res.end(), params.timeoutMs);
  res.on('close', () => {
    if (timer) clearTimeout(timer);
    done(res.writableFinished ? 'empty watch ended' : 'client closed');
  });
}
