/** Kubernetes `Status` bodies for the proxy's own answers, so kube clients print a useful message. */

export const STATUS_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  422: 'Invalid',
  502: 'InternalError',
  503: 'ServiceUnavailable',
};

export function statusBody(
  code: number,
  message: string,
  details?: { name: string; kind: string; group?: string },
): Buffer {
  return Buffer.from(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: STATUS_REASONS[code] ?? 'Unknown',
      ...(details ? { details } : {}),
      code,
    }),
  );
}
