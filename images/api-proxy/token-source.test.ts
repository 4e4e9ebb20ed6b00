import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenSource } from './token-source';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'api-proxy-token-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const rotate = (token: string) => {
  writeFileSync(join(dir, 'tmp'), token);
  renameSync(join(dir, 'tmp'), join(dir, 'token'));
};

test('the file is read once, and again only when it was replaced', () => {
  rotate('first\n');
  const source = new TokenSource(join(dir, 'token'));
  expect(source.current()).toBe('first');
  expect(source.current()).toBe('first');
  expect(source.reloads).toBe(1);
  rotate('second');
  expect(source.current()).toBe('second');
  expect(source.reloads).toBe(2);
});

test('an empty or missing file is an error, not an empty credential', () => {
  rotate('  \n');
  expect(() => new TokenSource(join(dir, 'token')).current()).toThrow(/empty/);
  expect(() => new TokenSource(join(dir, 'missing')).current()).toThrow();
});

test('a static token needs no file', () => {
  expect(new TokenSource(undefined, 'static').current()).toBe('static');
  expect(() => new TokenSource(undefined)).toThrow();
});
