// A process's CPU time and resident memory, from /proc: the benchmarks' per-process figures and the chaos run's
// memory check.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clkTck: number | null = null;

/** Clock ticks per second of /proc's utime and stime (getconf CLK_TCK; 100 on every common Linux). */
export function clockTicksPerSecond(): number {
  if (clkTck === null) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU time a process has used so far, user + system, in seconds (all its threads: /proc/<pid>/stat fields
 * 14 and 15). Null when the process is gone or /proc is unreadable.
 */
export function processCpuSeconds(pid: number): number | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name (field 2) is in parentheses and may contain spaces: split after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / clockTicksPerSecond();
}

/** A field of /proc/<pid>/status given in kB (VmRSS, VmHWM), in bytes; null when unreadable. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
}
