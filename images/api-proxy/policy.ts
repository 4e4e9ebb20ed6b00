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
  | { kind: 'forbidden'; reason: string }
  | { kind: 'notFound' };

/** Longest request target we forward (path and query). */
export const MAX_TARGET_LENGTH = 8192;

/**
 * Resources refused by the proxy itself, whatever RBAC says (defence in depth): Secrets
 * hold the mesh CA key and the cluster's signing key; none of these is something istiod
 * needs to read from a remote cluster.
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
  // As the apiserver parses it: the first `watch` value, decoded; any value but `0` or
  // `false` (any case), the empty one included, makes a watch.
  const watchValue = new URLSearchParams(query).getAll('watch')[0];
  let watch = watchValue !== undefined && watchValue !== '0' && watchValue.toLowerCase() !== 'false';
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
