import type { MetricOperation } from './types';

export type Labels = Record<string, string>;

/**
 * Collects metric operations for METRICS_PATH. A group's series can be expired as a
 * whole, so a hook that owns a group expires it and re-sets what is current: series
 * of deleted objects disappear instead of lingering with stale values.
 */
export class MetricsCollector {
  private readonly operations: MetricOperation[] = [];

  set(name: string, value: number, labels: Labels = {}, group?: string): void {
    this.operations.push({ name, action: 'set', value, labels, ...(group ? { group } : {}) });
  }

  add(name: string, value: number, labels: Labels = {}, group?: string): void {
    this.operations.push({ name, action: 'add', value, labels, ...(group ? { group } : {}) });
  }

  observe(name: string, value: number, buckets: number[], labels: Labels = {}, group?: string): void {
    this.operations.push({ name, action: 'observe', value, buckets, labels, ...(group ? { group } : {}) });
  }

  expire(group: string): void {
    this.operations.push({ action: 'expire', group });
  }

  list(): MetricOperation[] {
    return [...this.operations];
  }
}
