// Entry point of the perf tool (bundled and run by `npm run perf -- ...`, see bench/run.mjs).

import { parseCommand, UsageError, USAGE } from './cli';
import { formatLatency, formatThroughput } from './format';
import { runLatency } from './latency';
import { fmtInt } from './stats';
import { runThroughput, type ThroughputTick } from './throughput';

function printTick(tick: ThroughputTick, confirms: boolean): void {
  const parts = [
    `${String(tick.second).padStart(4)}s`,
    `publish ${fmtInt(tick.publishRate).padStart(10)} msg/s`,
    `consume ${fmtInt(tick.consumeRate).padStart(10)} msg/s`,
  ];
  if (confirms) parts.push(`confirm ${fmtInt(tick.confirmRate).padStart(10)} msg/s`);
  console.log(parts.join('   '));
}

async function main(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`perf: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  if (command.mode === 'help') {
    console.log(USAGE);
    return 0;
  }
  const interrupt = new AbortController();
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (command.mode === 'throughput') {
      const o = command.options;
      const confirms = (o.confirm ?? 0) > 0;
      const result = await runThroughput({
        ...o,
        signal: interrupt.signal,
        onPhase: command.json ? (phase) => console.log(JSON.stringify({ phase })) : undefined,
        onTick: command.quiet ? undefined : (tick) => printTick(tick, confirms),
      });
      if (command.json) console.log(JSON.stringify({ mode: 'throughput', ...result }));
      else console.log(formatThroughput(result, confirms, o.ack === true));
      if (result.stoppedBy === 'stall') {
        console.error(`perf: nothing moved for ${o.stallSeconds ?? 10} s; gave up`);
        return 1;
      }
      return 0;
    }
    const result = await runLatency({
      ...command.options,
      signal: interrupt.signal,
      onPhase: command.json ? (phase) => console.log(JSON.stringify({ phase })) : undefined,
    });
    if (command.json) console.log(JSON.stringify({ mode: 'latency', ...result }));
    else console.log(formatLatency(result));
    return 0;
  } catch (error) {
    console.error(`perf: ${(error as Error).message}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
