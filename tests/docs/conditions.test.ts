// docs/USAGE.md's Conditions table against the code's vocabulary (lib/federation/status/reasons.ts):
// every reason a condition can carry has a row for that condition, and the table names no
// reason the code cannot produce.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALL_CONDITION_REASONS,
  CONDITION_REASONS,
  type ConditionType,
} from '../../lib/federation/status/reasons';

const USAGE = readFileSync(join(__dirname, '../../docs/USAGE.md'), 'utf8');

/** condition type -> the reasons (in backticks) of its rows. */
function documentedReasons(): Map<string, Set<string>> {
  const section = USAGE.slice(USAGE.indexOf('## Conditions'));
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
