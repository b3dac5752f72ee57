// Facts about the machine and the RabbitMQ process, for the broker bench; a process's CPU time and memory come
// from tools/testing/proc.ts (the chaos run reads them too).

import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { processCpuSeconds, statusBytes } from '../../tools/testing/proc';

export { clockTicksPerSecond, processCpuSeconds, statusBytes } from '../../tools/testing/proc';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/**
 * The pid of the local RabbitMQ node's Erlang VM (beam.smp): asked of the node itself
 * (`rabbitmqctl eval 'os:getpid().'`), else the beam.smp process started with `-s rabbit boot`.
 */
export function findRabbitPid(): { pid: number; how: string } | null {
  try {
    const out = execFileSync('rabbitmqctl', ['eval', 'os:getpid().'], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const pid = Number(out.trim().replace(/"/g, ''));
    if (Number.isInteger(pid) && pid > 0 && processCpuSeconds(pid) !== null)
      return { pid, how: "rabbitmqctl eval 'os:getpid().'" };
  } catch {
    // no rabbitmqctl, or no permission to talk to the node: look for the process instead
  }
  let pids: number[] = [];
  try {
    pids = execFileSync('pgrep', ['-x', 'beam.smp'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    pids = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  }
  const servers = pids.filter((pid) => {
    const cmd = cmdline(pid);
    return cmd.includes('beam.smp') && cmd.includes('-s rabbit boot');
  });
  return servers.length === 1 ? { pid: servers[0], how: 'pgrep -x beam.smp (-s rabbit boot)' } : null;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverage: number[];
}

export function machine(): Machine {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) model = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  return {
    cpuModel: model,
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    node: process.version,
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Whether a host name is this machine (so the broker behind it can be measured from /proc). */
export function isLocalHost(host: string): boolean {
  return ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host) || host.startsWith('127.');
}

/** The file system type under a directory (`df -T`), e.g. ext4 or tmpfs: fsync costs differ wildly. */
export function fileSystemType(dir: string): string {
  try {
    const lines = execFileSync('df', ['-T', dir], { encoding: 'utf8' }).trim().split('\n');
    return lines[lines.length - 1].split(/\s+/)[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Follows a process's peak resident set size over a stretch of time: resets the kernel's high-water mark
 * (VmHWM) to the current RSS by writing 5 to /proc/<pid>/clear_refs (allowed for our own child processes),
 * and samples VmRSS every `everyMs` as well, for when the reset is not permitted. stop() returns the peak in
 * bytes (the larger of VmHWM, if it was reset, and the samples), or null when /proc could not be read.
 */
export function trackPeakRss(pid: number, everyMs = 100): { stop(): number | null; hwmReset: boolean } {
  let hwmReset = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    hwmReset = true;
  } catch {
    // not our process, or an old kernel: the samples will have to do
  }
  let peak = statusBytes(pid, 'VmRSS');
  const sample = () => {
    const rss = statusBytes(pid, 'VmRSS');
    if (rss !== null) peak = Math.max(peak ?? 0, rss);
  };
  const timer = setInterval(sample, everyMs);
  timer.unref();
  return {
    hwmReset,
    stop() {
      clearInterval(timer);
      sample();
      const hwm = hwmReset ? statusBytes(pid, 'VmHWM') : null;
      return hwm === null ? peak : Math.max(hwm, peak ?? 0);
    },
  };
}
