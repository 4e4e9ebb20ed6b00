/**
 * Request routing. Paths are matched byte for byte against a fixed table, before any
 * decoding or normalisation: `..`, `%2e%2e`, `//` or `%2f` simply never match a route,
 * so there is no traversal to defend against further down.
 */
import type { PrivateDocumentKind } from './document-set';

/** The private routes are named after their document (and relationship). */
export type RouteName = 'public' | 'spiffeBundle' | PrivateDocumentKind | 'healthz' | 'livez' | 'metrics';

export const ROUTES: Readonly<Record<string, RouteName>> = {
  '/metadata/public/public.json': 'public',
  '/metadata/public/spiffe-bundle-endpoint': 'spiffeBundle',
  '/metadata/private/federation.json': 'federation',
  '/metadata/private/multicluster.json': 'multicluster',
  '/healthz': 'healthz',
  '/livez': 'livez',
  '/metrics': 'metrics',
};

export const ALLOWED_METHODS = ['GET', 'HEAD'] as const;
export const ALLOW_HEADER = ALLOWED_METHODS.join(', ');

export type RouteDecision =
  { kind: 'route'; route: RouteName } | { kind: 'notFound' } | { kind: 'methodNotAllowed'; route: RouteName };

export function isPrivateRoute(route: RouteName): route is PrivateDocumentKind {
  return route === 'federation' || route === 'multicluster';
}

/**
 * A private document that is not served (its relationship is disabled) is 404 like any
 * unknown path, whatever the method: nothing tells it apart from an exporter without it.
 */
export function resolveRoute(
  method: string | undefined,
  url: string | undefined,
  served: readonly PrivateDocumentKind[],
): RouteDecision {
  const rawPath = (url ?? '').split('?', 1)[0]!;
  const route = Object.hasOwn(ROUTES, rawPath) ? ROUTES[rawPath] : undefined;
  if (!route || (isPrivateRoute(route) && !served.includes(route))) return { kind: 'notFound' };
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
