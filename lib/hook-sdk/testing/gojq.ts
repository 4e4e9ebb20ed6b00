import { execFileSync } from 'node:child_process';

/** gojq built from the Go module proxy at the version addon-operator uses (tools/upstream/gojq.sh). */
export function gojqBinary(): string {
  const path = process.env.GOJQ_BIN;
  if (!path)
    throw new Error('GOJQ_BIN is not set: run tests through jest (tests/global-setup.ts builds gojq)');
  return path;
}

/**
 * Applies a binding's jqFilter to each object, as shell-operator does: one result per
 * object. One gojq process per call; each object's outputs are collected in an array so
 * that a filter yielding zero or several values is caught instead of silently misaligned.
 */
export function applyJqFilter(filter: string, objects: readonly unknown[]): unknown[] {
  if (objects.length === 0) return [];
  const program = `[ .[] | [ ${filter} ] ]`;
  const stdout = execFileSync(gojqBinary(), ['-c', program], {
    input: JSON.stringify(objects),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const results = JSON.parse(stdout) as unknown[][];
  return results.map((outputs, i) => {
    if (outputs.length !== 1)
      throw new Error(`jqFilter yielded ${outputs.length} values for object #${i}: ${filter}`);
    return outputs[0];
  });
}
