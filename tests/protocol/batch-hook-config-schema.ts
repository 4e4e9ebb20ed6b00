// The `hook config` document as addon-operator reads it (module-sdk BatchHookConfig v1, see
// shared/PROTOCOL.md): unknown keys would be silently ignored by the operator, so we refuse them.
const order = { type: 'integer', minimum: 0 };
const nonEmptyStringArray = { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } };
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
    matchExpressions: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['key', 'operator'],
        additionalProperties: false,
        properties: {
          key: { type: 'string' },
          operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};
const nameSelector = {
  type: 'object',
  required: ['matchNames'],
  additionalProperties: false,
  properties: { matchNames: nonEmptyStringArray },
};

export const batchHookConfigSchema = {
  type: 'object',
  required: ['version', 'hooks'],
  additionalProperties: false,
  properties: {
    version: { const: 'v1' },
    hooks: {
      type: 'array',
      minItems: 1,
      maxItems: 9999,
      items: {
        type: 'object',
        required: ['configVersion', 'metadata'],
        additionalProperties: false,
        properties: {
          configVersion: { const: 'v1' },
          metadata: {
            type: 'object',
            required: ['name', 'path'],
            additionalProperties: false,
            properties: { name: { type: 'string', minLength: 1 }, path: { type: 'string', minLength: 1 } },
          },
          onStartup: order,
          beforeHelm: order,
          afterHelm: order,
          beforeDeleteHelm: order,
          afterDeleteHelm: order,
          schedule: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['name', 'crontab'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1 },
                // 5 fields, or 6 with leading seconds.
                crontab: { type: 'string', pattern: '^\\S+( \\S+){4,5}$' },
                queue: { type: 'string', minLength: 1 },
              },
            },
          },
          kubernetes: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['name', 'apiVersion', 'kind'],
              additionalProperties: false,
              properties: {
                name: { type: 'string', minLength: 1 },
                apiVersion: { type: 'string', minLength: 1 },
                kind: { type: 'string', minLength: 1 },
                nameSelector,
                namespace: {
                  type: 'object',
                  additionalProperties: false,
                  properties: { nameSelector, labelSelector },
                },
                labelSelector,
                fieldSelector: {
                  type: 'object',
                  required: ['matchExpressions'],
                  properties: { matchExpressions: { type: 'array', minItems: 1 } },
                },
                jqFilter: { type: 'string', minLength: 1 },
                allowFailure: { type: 'boolean' },
                includeSnapshotsFrom: nonEmptyStringArray,
                queue: { type: 'string', minLength: 1 },
                resynchronizationPeriod: { type: 'string' },
                executeHookOnEvent: { type: 'boolean' },
                executeHookOnSynchronization: { type: 'boolean' },
                waitForSynchronization: { type: 'boolean' },
                keepFullObjectsInMemory: { type: 'boolean' },
              },
            },
          },
          settings: {
            type: 'object',
            additionalProperties: false,
            properties: {
              executionMinInterval: { type: 'integer', minimum: 0 },
              executionBurst: { type: 'integer', minimum: 1 },
            },
          },
        },
      },
    },
  },
} as const;
