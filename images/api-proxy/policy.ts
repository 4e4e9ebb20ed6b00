/**
 * What the api-proxy forwards: read methods on Kubernetes API paths, with an allow-list of
 * request headers. Pure functions; the server applies them before and after authentication.
 */

/**
 * GET only (a watch is a GET). HEAD is refused too: the apiserver never answers it usefully
 * (405 on resources) and authorizes it as the verb `head` on non-resource URLs, which no
 * RBAC rule grants, so allowing it would only widen what reaches the apiserver.
 */
export const ALLOWED_METHODS = ['GET'] as const;
export const ALLOW_HEADER = ALLOWED_METHODS.join(', ');

export function isAllowedMethod(method: string | undefined): boolean {
  return method === 'GET';
}

export type PathDecision =
  | { kind: 'forward'; verb: 'discovery' | 'get' | 'list' | 'watch'; resource?: string }
  /** A read of core v1 Secrets: answered by the proxy from an empty view (empty-secrets.ts). */
  | { kind: 'emptySecrets'; verb: 'get' | 'list' | 'watch'; name?: string; query: string }
  | { kind: 'forbidden'; reason: string }
  | { kind: 'notFound' };

/** Longest request target we forward (path and query). */
export const MAX_TARGET_LENGTH = 8192;

/**
 * Resources refused by the proxy itself, whatever RBAC says (defence in depth): Secrets
 * hold the mesh CA key and the cluster's signing key; none of these is something istiod
 * needs to read from a remote cluster. Reads of core v1 `secrets` are the one exception:
 * they get the proxy's empty view (never the apiserver's data); `secrets` of any other
 * group and every Secret subresource stay refused.
 */
export const REFUSED_RESOURCES: ReadonlySet<string> = new Set([
  'secrets',
  'serviceaccounts',
  'tokenreviews',
  'subjectaccessreviews',
  'selfsubjectaccessreviews',
  'selfsubjectrulesreviews',
  'localsubjectaccessreviews',
  'certificatesigningrequests',
]);

/**
 * A boolean query parameter as the apiserver converts it: the first value, decoded; any
 * value but `0` or `false` (any case), the empty one included, is true. Absent: undefined.
 */
export function queryBool(params: URLSearchParams, name: string): boolean | undefined {
  const value = params.getAll(name)[0];
  if (value === undefined) return undefined;
  return value !== '0' && value.toLowerCase() !== 'false';
}

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const GROUP = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const VERSION = /^v[0-9]+((alpha|beta)[0-9]+)?$/;

/**
 * Classifies a request target. Only canonical paths are accepted: no `.`/`..` segments, no
 * empty segments, no percent-escapes or backslashes in the path (Kubernetes object names
 * never need them), so what we check is exactly what the apiserver routes.
 */
export function classifyTarget(url: string | undefined): PathDecision {
  if (!url || url.length > MAX_TARGET_LENGTH || !url.startsWith('/')) return { kind: 'notFound' };
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt + 1);
  if (path === '/version' || path === '/api' || path === '/apis')
    return { kind: 'forward', verb: 'discovery' };
  // One trailing slash is how clients address proxy roots (`.../proxy/`); it adds nothing.
  const segments = (path.endsWith('/') ? path.slice(0, -1) : path).split('/').slice(1);
  if (segments.some((s) => !SEGMENT.test(s))) return { kind: 'notFound' };

  let rest: string[];
  if (segments[0] === 'api') {
    if (segments[1] !== 'v1') return { kind: 'notFound' };
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    if (segments.length < 2 || !GROUP.test(segments[1]!)) return { kind: 'notFound' };
    if (segments.length === 2) return { kind: 'forward', verb: 'discovery' };
    if (!VERSION.test(segments[2]!)) return { kind: 'notFound' };
    rest = segments.slice(3);
  } else {
    return { kind: 'notFound' };
  }
  if (rest.length === 0) return { kind: 'forward', verb: 'discovery' };

  // The legacy `/watch/` prefix still routes to a watch in current apiservers.
  let watch = queryBool(new URLSearchParams(query), 'watch') === true;
  if (rest[0] === 'watch') {
    watch = true;
    rest = rest.slice(1);
    if (rest.length === 0) return { kind: 'notFound' };
  }
  if (rest[0] === 'proxy') return { kind: 'forbidden', reason: 'proxy is not served' };

  // namespaces/<ns>/<resource>[/<name>[/<subresource>]] or <resource>[/<name>[/<subresource>]]
  let resource: string;
  let name: string | undefined;
  let subresource: string[];
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    [resource, name] = [rest[2]!, rest[3]];
    subresource = rest.slice(4);
  } else {
    [resource, name] = [rest[0]!, rest[1]];
    subresource = rest.slice(2);
  }
  if (subresource.length > 0) {
    return { kind: 'forbidden', reason: `subresource ${subresource[0]} is not served` };
  }
  if (resource === 'secrets' && segments[0] === 'api') {
    const verb = watch ? 'watch' : name === undefined ? 'list' : 'get';
    return { kind: 'emptySecrets', verb, ...(name === undefined ? {} : { name }), query };
  }
  if (REFUSED_RESOURCES.has(resource)) return { kind: 'forbidden', reason: `${resource} are not served` };
  if (watch) return { kind: 'forward', verb: 'watch', resource };
  return { kind: 'forward', verb: name === undefined ? 'list' : 'get', resource };
}

/**
 * Request headers passed to the apiserver: an allow-list, so anything that could change
 * who the request runs as (`Authorization`, `Impersonate-*`, `X-Remote-*` of the
 * front-proxy authenticator, cookies) or how it is routed (`Connection`, `Upgrade` for
 * exec/attach/port-forward streams, `Transfer-Encoding`) never reaches it.
 */
export const FORWARDED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'accept',
  'accept-encoding',
  'user-agent',
  'if-none-match',
  'if-modified-since',
]);

/** Response headers that describe this hop only (RFC 9110 §7.6.1) and are not copied. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

type HeaderValue = string | string[] | number | undefined;

export function forwardedRequestHeaders(
  incoming: Readonly<Record<string, HeaderValue>>,
  bearer: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (!FORWARDED_REQUEST_HEADERS.has(lower) || value === undefined) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  out.authorization = `Bearer ${bearer}`;
  return out;
}

export function forwardedResponseHeaders(
  incoming: Readonly<Record<string, HeaderValue>>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || value === undefined) continue;
    out[lower] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}

/**
 * The resourceVersion of the empty Secrets view when the client names none (or `0`, "any").
 * The view is empty at every resourceVersion, so any value is a consistent snapshot; a
 * client-supplied one is echoed back (a list "not older than" or "exactly at" X is the empty
 * list at X; a watch-list from X ends its initial events at X), and this constant is the
 * answer otherwise. It never changes, across restarts and replicas included: the view never
 * changes either. A decimal, as the apiserver's are, for clients that parse it.
 */
export const EMPTY_VIEW_RESOURCE_VERSION = '1';

export type EmptySecretsAnswer =
  | { kind: 'list'; resourceVersion: string }
  | {
      kind: 'watch';
      resourceVersion: string;
      /** Send the bookmark that ends the (empty) initial events of a streaming list. */
      initialEventsEnd: boolean;
      /** The client's `timeoutSeconds`, when positive: the watch ends then, as the apiserver's does. */
      timeoutMs?: number;
    }
  | { kind: 'notFound'; name: string }
  /** 400: a parameter the apiserver cannot parse; 422: list options it rejects (`Invalid`). */
  | { kind: 'invalid'; code: 400 | 422; message: string };

const RESOURCE_VERSION = /^[1-9][0-9]{0,19}$/;
const NOT_OLDER_THAN = 'NotOlderThan';

/**
 * What the proxy answers to a read of core v1 Secrets, from an empty view: an empty list, a
 * watch on which nothing ever happens, or "not found" for a named object. Selectors change
 * nothing (a subset of nothing is nothing). The list options are defaulted and checked as
 * the apiserver does (apimachinery `SetListOptionsDefaults` and `ValidateListOptions`, with
 * WatchList enabled as it is by default since Kubernetes 1.32), so a client gets the answer
 * shape and the errors it would get from the apiserver.
 */
export function answerEmptySecrets(decision: {
  verb: 'get' | 'list' | 'watch';
  name?: string;
  query: string;
}): EmptySecretsAnswer {
  if (decision.verb === 'get') return { kind: 'notFound', name: decision.name ?? '' };
  const params = new URLSearchParams(decision.query);
  const first = (name: string): string | undefined => params.getAll(name)[0];
  const rv = first('resourceVersion') ?? '';
  const match = first('resourceVersionMatch') ?? '';
  let sendInitialEvents = queryBool(params, 'sendInitialEvents');
  const cont = first('continue') ?? '';
  const invalid = (message: string): EmptySecretsAnswer => ({
    kind: 'invalid',
    code: 422,
    message: `ListOptions.meta.k8s.io "" is invalid: ${message}`,
  });
  const badRequest = (message: string): EmptySecretsAnswer => ({ kind: 'invalid', code: 400, message });

  if (rv !== '' && rv !== '0' && !RESOURCE_VERSION.test(rv))
    return badRequest(`invalid resource version "${rv}"`);
  const resourceVersion = rv === '' || rv === '0' ? EMPTY_VIEW_RESOURCE_VERSION : rv;
  const unsupportedMatch = `resourceVersionMatch: Unsupported value: "${match}"`;
  const matchWithContinue =
    'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided';

  if (decision.verb === 'list') {
    if (match !== '') {
      if (rv === '')
        return invalid(
          'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
        );
      if (cont !== '') return invalid(matchWithContinue);
      if (match !== 'Exact' && match !== NOT_OLDER_THAN) return invalid(unsupportedMatch);
      if (match === 'Exact' && rv === '0')
        return invalid(
          'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        );
    }
    if (sendInitialEvents !== undefined)
      return invalid('sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list');
    // This view's lists are always complete: it never hands out a continue token to resume.
    if (cont !== '') return badRequest('continue key is not valid: the empty Secrets view never issues one');
    return { kind: 'list', resourceVersion };
  }

  const timeout = first('timeoutSeconds');
  if (timeout !== undefined && !/^-?[0-9]{1,12}$/.test(timeout))
    return badRequest(`timeoutSeconds: invalid value "${timeout}"`);
  // The apiserver's default: a watch from "now" or "any" (a legacy watch) is a streaming list.
  let defaultedMatch = match;
  if (sendInitialEvents === undefined && match === '' && (rv === '' || rv === '0')) {
    sendInitialEvents = true;
    defaultedMatch = NOT_OLDER_THAN;
  }
  if (sendInitialEvents !== undefined && defaultedMatch !== NOT_OLDER_THAN)
    return invalid(
      `resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to ${NOT_OLDER_THAN}`,
    );
  if (defaultedMatch !== '' && sendInitialEvents === undefined)
    return invalid(
      'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
    );
  if (defaultedMatch !== '' && defaultedMatch !== NOT_OLDER_THAN) return invalid(unsupportedMatch);
  if (defaultedMatch !== '' && cont !== '') return invalid(matchWithContinue);
  const timeoutSeconds = Number(timeout ?? 0);
  return {
    kind: 'watch',
    resourceVersion,
    // As the apiserver's cacher: the end-of-initial-events bookmark only if bookmarks are allowed.
    initialEventsEnd: sendInitialEvents === true && queryBool(params, 'allowWatchBookmarks') === true,
    ...(timeoutSeconds > 0 ? { timeoutMs: timeoutSeconds * 1000 } : {}),
  };
}
