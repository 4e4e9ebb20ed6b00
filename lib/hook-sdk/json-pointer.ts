// Dotted value paths (as in module-sdk: "istio.internal.x") and their JSON-pointer form.

export function splitValuesPath(path: string): string[] {
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) throw new Error(`invalid values path ${JSON.stringify(path)}`);
  return segments;
}

export function toJsonPointer(segments: readonly string[]): string {
  return '/' + segments.map((s) => s.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}
