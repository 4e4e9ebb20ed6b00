import { parseConnectTo } from './args';
import { renderJson, renderText } from './render';
import { exitCode, result } from './result';

const results = [
  result('crd', 'module', 'CRD installed', 'pass', { detail: 'v1alpha1' }),
  result('istiod', 'istiod', 'istiod settings', 'skip', { detail: 'none', hint: 'not shown' }),
  result('peer.private-document', 'peer b', 'private document', 'fail', {
    detail: 'HTTP 401',
    hint: 'create X',
  }),
];

describe('render', () => {
  test('one line per check under its scope, hints only for failures and warnings, a summary', () => {
    expect(renderText(results)).toBe(
      [
        'module',
        '  [PASS] CRD installed: v1alpha1',
        '',
        'istiod',
        '  [SKIP] istiod settings: none',
        '',
        'peer b',
        '  [FAIL] private document: HTTP 401',
        '         hint: create X',
        '',
        '1 passed, 1 failed, 0 warnings, 1 skipped',
        '',
      ].join('\n'),
    );
  });

  test('JSON carries the records and the counts; exit code 1 on a failure only', () => {
    expect(JSON.parse(renderJson(results))).toMatchObject({
      summary: { pass: 1, fail: 1, skip: 1, warn: 0 },
    });
    expect(exitCode(results)).toBe(1);
    expect(exitCode(results.slice(0, 2))).toBe(0);
  });
});

describe('--connect-to', () => {
  test('HOST:PORT:HOST2:PORT2, repeatable, IPv6 in brackets', () => {
    const first = parseConnectTo('203.0.113.20:15443:127.0.0.1:4443');
    expect(parseConnectTo('[2001:db8::1]:15443:[::1]:1', first)).toStrictEqual([
      { from: { address: '203.0.113.20', port: 15443 }, to: { address: '127.0.0.1', port: 4443 } },
      { from: { address: '2001:db8::1', port: 15443 }, to: { address: '::1', port: 1 } },
    ]);
  });
  test.each(['a:1', 'a:1:b', 'a:1:b:99999', ':1:b:2'])('%p is refused', (value) => {
    expect(() => parseConnectTo(value)).toThrow('expected HOST:PORT:HOST2:PORT2');
  });
});
