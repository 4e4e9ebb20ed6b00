import { emptyListBody, emptyWatchParams, initialEventsEndEvent } from './empty-collection';

describe('empty collections', () => {
  test('an empty SecretList with a resourceVersion the informer can watch from', () => {
    expect(JSON.parse(emptyListBody('secrets').toString())).toEqual({
      kind: 'SecretList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: [],
    });
  });

  test('a streaming list ends its (no) initial events with the annotated bookmark', () => {
    const line = initialEventsEndEvent('secrets');
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({
      type: 'BOOKMARK',
      object: {
        kind: 'Secret',
        apiVersion: 'v1',
        metadata: { resourceVersion: '1', annotations: { 'k8s.io/initial-events-end': 'true' } },
      },
    });
  });

  test.each([
    ['/api/v1/secrets?watch=true', { sendInitialEvents: false, timeoutMs: undefined }],
    [
      '/api/v1/secrets?watch=true&sendInitialEvents=true&timeoutSeconds=412',
      { sendInitialEvents: true, timeoutMs: 412_000 },
    ],
    ['/api/v1/secrets?watch=true&timeoutSeconds=-3', { sendInitialEvents: false, timeoutMs: undefined }],
    ['/api/v1/secrets?watch=true&timeoutSeconds=1.5', { sendInitialEvents: false, timeoutMs: undefined }],
  ])('watch parameters of %s', (url, expected) => {
    expect(emptyWatchParams(url)).toEqual(expected);
  });
});
