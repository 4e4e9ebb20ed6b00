/**
 * Request routing. Paths are matched byte for byte against a fixed table, before any
 * decoding or normalisation: `..`, `%2e%2e`, `//` or `%2f` simply never match a route,
 * so there is no traversal to defend against further down.
 */
export type RouteName = 'public' | 'spiffeBundle' | 'private' | 'healthz' | 'livez' | 'metrics';

export const ROUTES: Readonly<Record<string, RouteName>> = {
  '/metadata/public/public.json': 'public',
  '/metadata/public/spiffe-bundle-endpoint': 'spiffeBundle',
  '/metadata/private/federation.json': 'private',
  '/healthz': 'healthz',
  '/livez': 'livez',
  '/metrics': 'metrics',
};

export const ALLOWED_METHODS = ['GET', 'HEAD'] as const;
export const ALLOW_HEADER = ALLOWED_METHODS.join(', ');

export type RouteDecision =
  { kind: 'route'; route: RouteName } | { kind: 'notFound' } | { kind: 'methodNotAllowed'; route: RouteName };

export function resolveRoute(method: string | undefined, url: string | undefined): RouteDecision {
  const rawPath = (url ?? '').split('?', 1)[0]!;
  const route = Object.hasOwn(ROUTES, rawPath) ? ROUTES[rawPath] : undefined;
  if (!route) return { kind: 'notFound' };
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'methodNotAllowed', route };
  return { kind: 'route', route };
}

/** `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 7235). */
export function bearerToken(
  header: string | undefined,
): { ok: true; token: string } | { ok: false; reason: string } {
  if (header === undefined || header === '') return { ok: false, reason: 'missing authorization header' };
  const match = /^Bearer +([A-Za-z0-9\-_.]+=*) *$/i.exec(header);
  if (!match) return { ok: false, reason: 'malformed authorization header' };
  return { ok: true, token: match[1]! };
}
