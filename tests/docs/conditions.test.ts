// docs/USAGE.md's Conditions tables against the code's vocabularies (IstioFederation:
// lib/federation/status/reasons.ts; IstioMulticluster: lib/multicluster/reasons.ts): every
// reason a condition can carry has a row for that condition, and a table names no reason the
// code cannot produce.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_CONDITION_REASONS,
  CONDITION_REASONS,
  type ConditionType,
} from '../../lib/federation/status/reasons';
import { MULTICLUSTER_CONDITION_REASONS } from '../../lib/multicluster/reasons';

const USAGE = readFileSync(join(__dirname, '../../docs/USAGE.md'), 'utf8');

/** condition type -> the reasons (in backticks) of the rows of the table under `heading`. */
function documentedReasons(heading = '## Conditions'): Map<string, Set<string>> {
  expect(USAGE).toContain(`\n${heading}\n`);
  const section = USAGE.slice(USAGE.indexOf(`\n${heading}\n`) + 1);
  const table = section.slice(0, section.indexOf('\n## '));
  const byType = new Map<string, Set<string>>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || cells[1] === 'condition' || cells[1]!.startsWith('---')) continue;
    const reasons = [...cells[2]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!);
    for (const type of cells[1]!.split(',').map((t) => t.trim())) {
      const set = byType.get(type) ?? new Set<string>();
      reasons.forEach((r) => set.add(r));
      byType.set(type, set);
    }
  }
  return byType;
}

const documented = documentedReasons();

describe('USAGE.md Conditions table', () => {
  it('has the four conditions', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(CONDITION_REASONS).sort());
  });

  it.each(Object.entries(CONDITION_REASONS) as [ConditionType, readonly string[]][])(
    '%s: every reason the code can write has a row',
    (type, reasons) => {
      const rows = documented.get(type) ?? new Set();
      expect(reasons.filter((r) => !rows.has(r))).toEqual([]);
    },
  );

  it('names no reason the code cannot write (for that condition)', () => {
    const stale = [...documented].flatMap(([type, rows]) =>
      [...rows]
        .filter(
          (r) => !(CONDITION_REASONS[type as ConditionType] as readonly string[] | undefined)?.includes(r),
        )
        .map((r) => `${type}: ${r}`),
    );
    expect(stale).toEqual([]);
  });

  it('Ready says that it takes the blocking condition’s reason (any of the others)', () => {
    expect(USAGE).toMatch(/\| Ready \| the reason of the first condition that is not True \|/);
    expect(ALL_CONDITION_REASONS.length).toBeGreaterThan(20);
  });
});

describe('USAGE.md IstioMulticluster conditions table', () => {
  const multicluster = documentedReasons('## IstioMulticluster conditions');
  const vocabulary = MULTICLUSTER_CONDITION_REASONS as Record<string, readonly string[]>;

  it('has the five conditions', () => {
    expect([...multicluster.keys()].sort()).toEqual(Object.keys(vocabulary).sort());
  });

  it.each(Object.entries(vocabulary))('%s: every reason the code can write has a row', (type, reasons) => {
    const rows = multicluster.get(type) ?? new Set();
    expect(reasons.filter((r) => !rows.has(r))).toEqual([]);
  });

  it('names no reason the code cannot write (for that condition)', () => {
    const stale = [...multicluster].flatMap(([type, rows]) =>
      [...rows].filter((r) => !vocabulary[type]?.includes(r)).map((r) => `${type}: ${r}`),
    );
    expect(stale).toEqual([]);
  });
});
