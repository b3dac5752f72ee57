// Runs a Node script as a child in the foreground: its output on ours, Ctrl-C and SIGTERM forwarded, and our
// exit code its own. Only node: built-ins, so the demo can use it before dependencies are installed.
import { spawn } from 'node:child_process';

export function runForeground(script, args = [], options = {}) {
  const child = spawn(process.execPath, ['--enable-source-maps', script, ...args], { stdio: 'inherit', ...options });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return child;
}
