import { readdirSync, readFileSync } from 'node:fs';

/** This process's open file descriptors and their limit, from /proc (0 where /proc is not there). */
export function processFds(): { used: number; total: number } {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return { used: readdirSync('/proc/self/fd').length, total: match ? Number(match[1]) : 0 };
  } catch {
    return { used: 0, total: 0 };
  }
}
