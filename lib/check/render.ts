import { summary, type CheckResult, type CheckStatus } from './result';

/**
 * Prints check results: one line per check, grouped by scope, with the hint on the next
 * line for failures and warnings; a last summary line. `--json` prints the records.
 */

const MARK: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };
const COLOUR: Record<CheckStatus, string> = { pass: '32', fail: '31', warn: '33', skip: '90' };

export interface RenderOptions {
  colour?: boolean;
}

export function renderText(results: readonly CheckResult[], options: RenderOptions = {}): string {
  const mark = (s: CheckStatus): string =>
    options.colour ? `\x1b[${COLOUR[s]}m[${MARK[s]}]\x1b[0m` : `[${MARK[s]}]`;
  const lines: string[] = [];
  let scope: string | undefined;
  for (const r of results) {
    if (r.scope !== scope) {
      scope = r.scope;
      lines.push(`${lines.length ? '\n' : ''}${scope}`);
    }
    lines.push(`  ${mark(r.status)} ${r.title}${r.detail ? `: ${r.detail}` : ''}`);
    if (r.hint && (r.status === 'fail' || r.status === 'warn')) lines.push(`         hint: ${r.hint}`);
  }
  const counts = summary(results);
  lines.push(
    '',
    `${counts.pass} passed, ${counts.fail} failed, ${counts.warn} warnings, ${counts.skip} skipped`,
  );
  return lines.join('\n') + '\n';
}

export function renderJson(results: readonly CheckResult[]): string {
  return JSON.stringify({ results, summary: summary(results) }, null, 2) + '\n';
}
