// Wire shapes of addon-operator's batch-hook protocol (see shared/PROTOCOL.md).

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

export interface NameSelector {
  matchNames: string[];
}

export interface FieldSelector {
  matchExpressions: { field: string; operator: 'Equals' | 'NotEquals'; value: string }[];
}

/** A kubernetes binding as printed by `hook config` (module-sdk's KubernetesConfig). */
export interface KubernetesConfigJson {
  name: string;
  apiVersion: string;
  kind: string;
  nameSelector?: NameSelector;
  namespace?: { nameSelector?: NameSelector; labelSelector?: LabelSelector };
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  jqFilter?: string;
  executeHookOnEvent?: boolean;
  executeHookOnSynchronization?: boolean;
  waitForSynchronization?: boolean;
  keepFullObjectsInMemory?: boolean;
  allowFailure?: boolean;
  resynchronizationPeriod?: string;
  includeSnapshotsFrom?: string[];
  queue?: string;
}

export interface ScheduleConfigJson {
  name: string;
  crontab: string;
  queue?: string;
}

export interface HookConfigJson {
  configVersion: 'v1';
  metadata: { name: string; path: string };
  onStartup?: number;
  beforeHelm?: number;
  afterHelm?: number;
  beforeDeleteHelm?: number;
  afterDeleteHelm?: number;
  schedule?: ScheduleConfigJson[];
  kubernetes?: KubernetesConfigJson[];
  settings?: { executionMinInterval?: number; executionBurst?: number };
}

export interface BatchHookConfigJson {
  version: 'v1';
  hooks: HookConfigJson[];
}

/** One item of a binding's snapshot. */
export interface SnapshotItem {
  object?: unknown;
  filterResult?: unknown;
}

/** One binding context as found in the array at BINDING_CONTEXT_PATH. */
export interface BindingContext {
  binding: string;
  type?: 'Group' | 'Event' | 'Synchronization' | 'Schedule';
  groupName?: string;
  watchEvent?: 'Added' | 'Modified' | 'Deleted';
  object?: unknown;
  filterResult?: unknown;
  objects?: SnapshotItem[];
  snapshots?: Record<string, SnapshotItem[]>;
}

export type ValuesPatchOperation =
  { op: 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

export type KubeOperation =
  | { operation: 'Create' | 'CreateOrUpdate' | 'CreateIfNotExists'; object: KubeObject; subresource?: string }
  | {
      operation: 'Delete' | 'DeleteInBackground' | 'DeleteNonCascading';
      apiVersion: string;
      kind: string;
      namespace?: string;
      name: string;
    }
  | {
      operation: 'MergePatch';
      apiVersion: string;
      kind: string;
      namespace?: string;
      name: string;
      subresource?: string;
      mergePatch: unknown;
      ignoreMissingObject?: boolean;
    }
  | {
      operation: 'JSONPatch';
      apiVersion: string;
      kind: string;
      namespace?: string;
      name: string;
      subresource?: string;
      jsonPatch: unknown[];
      ignoreMissingObject?: boolean;
    };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export type MetricOperation =
  | { name: string; action: 'set' | 'add'; value: number; labels?: Record<string, string>; group?: string }
  | {
      name: string;
      action: 'observe';
      value: number;
      labels?: Record<string, string>;
      group?: string;
      buckets: number[];
    }
  | { action: 'expire'; group: string };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
