import type { KubeObject, KubeOperation } from './types';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface PatchOptions {
  subresource?: string;
  ignoreMissingObject?: boolean;
}

/** Collects Kubernetes operations for KUBERNETES_PATCH_PATH (one JSON object per line). */
export class KubeOperations {
  private readonly operations: KubeOperation[] = [];

  create(object: KubeObject): void {
    this.operations.push({ operation: 'Create', object });
  }

  createOrUpdate(object: KubeObject): void {
    this.operations.push({ operation: 'CreateOrUpdate', object });
  }

  createIfNotExists(object: KubeObject): void {
    this.operations.push({ operation: 'CreateIfNotExists', object });
  }

  delete(ref: ObjectRef, mode: 'Delete' | 'DeleteInBackground' | 'DeleteNonCascading' = 'Delete'): void {
    this.operations.push({ operation: mode, ...withoutEmptyNamespace(ref) });
  }

  mergePatch(ref: ObjectRef, mergePatch: unknown, options: PatchOptions = {}): void {
    this.operations.push({ operation: 'MergePatch', ...withoutEmptyNamespace(ref), mergePatch, ...options });
  }

  jsonPatch(ref: ObjectRef, jsonPatch: unknown[], options: PatchOptions = {}): void {
    this.operations.push({ operation: 'JSONPatch', ...withoutEmptyNamespace(ref), jsonPatch, ...options });
  }

  list(): KubeOperation[] {
    return [...this.operations];
  }
}

function withoutEmptyNamespace(ref: ObjectRef): ObjectRef {
  const { namespace, ...rest } = ref;
  return namespace ? { ...rest, namespace } : rest;
}
