import { statfsSync } from 'node:fs';
import { totalmem } from 'node:os';

export interface ResourceLimits {
  /** Resident memory above which publishers are blocked, in bytes (RabbitMQ: 40% of RAM by default). */
  memoryHighWatermark: number;
  /** Free disk space under the data directory below which publishers are blocked (RabbitMQ: 50 MB). */
  diskFreeLimit: number;
}

export const DEFAULT_LIMITS: ResourceLimits = {
  memoryHighWatermark: Math.floor(totalmem() * 0.4),
  diskFreeLimit: 50 * 1024 * 1024,
};

export type Alarm = 'memory' | 'disk';

/**
 * Resource alarms in the manner of RabbitMQ: a periodic check of the process's resident memory and of the free
 * space where data is written. When an alarm is raised or cleared, `onChange` gets the set of alarms in force;
 * the broker then blocks or unblocks its publishers.
 */
export class ResourceMonitor {
  private timer: NodeJS.Timeout | undefined;
  readonly alarms = new Set<Alarm>();

  constructor(
    public limits: ResourceLimits,
    private readonly dataDir: string | undefined,
    private readonly onChange: (alarms: ReadonlySet<Alarm>) => void,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    this.check();
    this.timer = setInterval(() => this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads memory and disk now and raises or clears alarms. */
  check(): void {
    const before = [...this.alarms].sort().join();
    this.set('memory', process.memoryUsage.rss() > this.limits.memoryHighWatermark);
    if (this.dataDir) {
      try {
        const fs = statfsSync(this.dataDir);
        this.set('disk', fs.bavail * fs.bsize < this.limits.diskFreeLimit);
      } catch {
        // the directory is not there (yet): no disk alarm
      }
    }
    if ([...this.alarms].sort().join() !== before) this.onChange(this.alarms);
  }

  private set(alarm: Alarm, on: boolean): void {
    if (on) this.alarms.add(alarm);
    else this.alarms.delete(alarm);
  }
}

export function blockedReason(alarms: ReadonlySet<Alarm>): string {
  return [...alarms].map((a) => (a === 'memory' ? 'low on memory' : 'low on disk space')).join(' & ');
}
