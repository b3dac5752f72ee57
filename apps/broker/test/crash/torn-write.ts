// Torn-write checks: a segment file whose tail is damaged must be detected at start-up, logged, and skipped;
// the broker must start and keep every confirmed message before the damage, and must go on appending after
// it so that later messages survive the next restart.
//
// Each variant runs on its own data dir: publish N persistent messages with confirms and stop the broker
// (SIGTERM or SIGKILL per variant; confirmed means on disk either way). Variants that need the last record's
// exact bytes publish N-1, stop cleanly, start, publish the last one alone and stop: the two stops bracket its
// record (the bytes the segment grew by in between). Segments are found generically: the files under the data
// dir that hold the message bodies, preferring names starting with "msgs", newest first. Then the tail is
// damaged:
//   - appending (garbage, half a copy of the last record, a copy with a flipped byte, zeros) destroys nothing
//     that was confirmed: all N messages must come back, once each, intact, in order;
//   - truncating the file by a few bytes or flipping a byte inside the last record destroys that record: the
//     first N-1 must come back, and the last one at most intact, never corrupted.
// In every variant the start-up must log a line matching /corrupt|torn|truncat/i on stderr.
import * as amqp from 'amqplib';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BrokerProcess, BrokerSpec, Exit, startBroker } from './broker-process';
import { TORN_LOG } from './harness';
import { messageBody } from './ledger';
import { Prng } from '../../../../tools/testing/prng';

const N = 40;
const AFTER = 5;
const QUEUE = 'torn.q';

interface Region {
  /** Offsets in the segment: the last message's record (approximately, if bracketing failed). */
  start: number;
  end: number;
  /** Offset of the last message's body. */
  body: number;
  bodyLength: number;
}

export interface TornVariant {
  name: string;
  description: string;
  stop: 'SIGTERM' | 'SIGKILL';
  /**
   * Needs the last record's exact bytes: the last message is then published after a restart, alone, so the
   * segment's growth brackets it (it may land in a segment of its own). Otherwise all N go in one session and
   * the damaged segment holds them all.
   */
  bracket: boolean;
  /** The damage hits the last confirmed record, which may then be lost (but never delivered corrupted). */
  destroysLast: boolean;
  /** Damages the file; returns what it did. */
  damage(file: string, region: Region, rng: Prng): string;
}

function flip(buffer: Buffer, at: number): void {
  buffer[at] ^= 0x5a;
}

export const TORN_VARIANTS: TornVariant[] = [
  {
    name: 'append-garbage',
    description: 'random bytes appended after the last record (crash mid-append of a new record)',
    stop: 'SIGKILL',
    bracket: false,
    destroysLast: false,
    damage(file, _region, rng) {
      const bytes = Buffer.from(Array.from({ length: rng.int(17, 64) }, () => rng.int(0, 255)));
      bytes[0] |= 0x80;
      appendFileSync(file, bytes);
      return `appended ${bytes.length} random bytes`;
    },
  },
  {
    name: 'append-partial-record',
    description: 'the first half of a copy of the last record appended (a torn write of a whole record)',
    stop: 'SIGKILL',
    bracket: true,
    destroysLast: false,
    damage(file, region) {
      const record = readFileSync(file).subarray(region.start, region.end);
      const half = record.subarray(0, Math.max(1, Math.floor(record.length / 2)));
      appendFileSync(file, half);
      return `appended ${half.length} of the last record's ${record.length} bytes`;
    },
  },
  {
    name: 'append-corrupt-record',
    description:
      'a full copy of the last record with one body byte flipped appended (checksum mismatch), after a clean stop',
    stop: 'SIGTERM',
    bracket: true,
    destroysLast: false,
    damage(file, region) {
      const record = Buffer.from(readFileSync(file).subarray(region.start, region.end));
      flip(record, region.body - region.start + Math.floor(region.bodyLength / 2));
      appendFileSync(file, record);
      return `appended a ${record.length}-byte copy of the last record with a flipped body byte`;
    },
  },
  {
    name: 'append-zeros',
    description: '4096 zero bytes appended (file extended but the data never written)',
    stop: 'SIGKILL',
    bracket: false,
    destroysLast: false,
    damage(file) {
      appendFileSync(file, Buffer.alloc(4096));
      return 'appended 4096 zero bytes';
    },
  },
  {
    name: 'truncate-tail',
    description: 'the segment truncated by a few bytes, cutting into the last record',
    stop: 'SIGTERM',
    bracket: false,
    destroysLast: true,
    damage(file, region, rng) {
      const size = statSync(file).size;
      const cut = Math.min(rng.int(1, 8), Math.max(1, region.end - region.start - 1));
      truncateSync(file, size - cut);
      return `truncated ${cut} bytes (${size} -> ${size - cut})`;
    },
  },
  {
    name: 'flip-tail-byte',
    description: "one byte flipped inside the last record's body, in place",
    stop: 'SIGKILL',
    bracket: false,
    destroysLast: true,
    damage(file, region) {
      const content = readFileSync(file);
      const at = region.body + Math.floor(region.bodyLength / 2);
      flip(content, at);
      writeFileSync(file, content);
      return `flipped the byte at offset ${at}`;
    },
  },
];

export interface TornOptions {
  brokerMain: string;
  root: string;
  workDir: string;
  seed: string;
  /** Variant names to run (default all). */
  variants?: string[];
  log?: (line: string) => void;
}

export interface TornResult {
  variant: string;
  description: string;
  ok: boolean;
  problems: string[];
  /** Damaged file, relative to the variant's data dir. */
  file?: string;
  damage?: string;
  /** The broker's stderr line about the damage. */
  logLine?: string;
  /** Messages confirmed before the damage, and how many of them came back. */
  confirmed: number;
  recovered: number;
  elapsedMs: number;
}

interface Got {
  id: string;
  content: Buffer;
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function snapshot(dir: string): Map<string, number> {
  return new Map(walkFiles(dir).map((f) => [f, statSync(f).size]));
}

/** The segment holding `body`: files containing it, names starting with "msgs" first, then newest, then largest. */
export function locateSegment(dir: string, body: Buffer): { file: string; offset: number } | undefined {
  const found: { file: string; offset: number; msgs: boolean; mtime: number; size: number }[] = [];
  for (const file of walkFiles(dir)) {
    const st = statSync(file);
    if (st.size > 256 * 1024 * 1024) continue;
    const offset = readFileSync(file).lastIndexOf(body);
    if (offset < 0) continue;
    const name = file.slice(file.lastIndexOf('/') + 1);
    found.push({ file, offset, msgs: name.startsWith('msgs'), mtime: st.mtimeMs, size: st.size });
  }
  found.sort((a, b) => Number(b.msgs) - Number(a.msgs) || b.mtime - a.mtime || b.size - a.size);
  return found[0] && { file: found[0].file, offset: found[0].offset };
}

async function connect(port: number): Promise<amqp.ChannelModel> {
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`, { noDelay: true });
  conn.on('error', () => undefined);
  return conn;
}

async function publishConfirmed(port: number, messages: { id: string; body: Buffer }[]): Promise<void> {
  const conn = await connect(port);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(QUEUE, { durable: true });
    for (const m of messages) ch.sendToQueue(QUEUE, m.body, { persistent: true, messageId: m.id });
    await ch.waitForConfirms();
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Every message in the queue, by basic.get until empty, each acked; a last round trip proves the acks. */
async function drain(port: number): Promise<Got[] | 'no queue'> {
  const conn = await connect(port);
  const got: Got[] = [];
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      await ch.checkQueue(QUEUE);
    } catch (error) {
      if ((error as { code?: number }).code === 404) return 'no queue';
      throw error;
    }
    for (;;) {
      const m = await ch.get(QUEUE, { noAck: false });
      if (m === false) break;
      got.push({ id: m.properties.messageId ?? '(no message-id)', content: m.content });
      ch.ack(m);
    }
    await ch.checkQueue(QUEUE);
  } finally {
    await conn.close().catch(() => undefined);
  }
  return got;
}

async function runVariant(variant: TornVariant, options: TornOptions): Promise<TornResult> {
  const t0 = Date.now();
  const rng = new Prng(`${options.seed}/torn/${variant.name}`);
  const dataDir = join(options.workDir, `torn-${variant.name}`);
  mkdirSync(dataDir, { recursive: true });
  const spec: BrokerSpec = { main: options.brokerMain, dataDir, port: 0, root: options.root, cwd: options.workDir };
  const result: TornResult = {
    variant: variant.name,
    description: variant.description,
    ok: false,
    problems: [],
    confirmed: N,
    recovered: 0,
    elapsedMs: 0,
  };
  const problem = (text: string) => result.problems.push(text);
  const logs: string[] = [];
  let broker: BrokerProcess | undefined;
  const stop = async (how: 'SIGTERM' | 'SIGKILL', what: string): Promise<Exit | undefined> => {
    const b = broker;
    broker = undefined;
    if (!b) return undefined;
    const exit = how === 'SIGKILL' ? await b.kill() : await b.terminate();
    logs.push(b.stderr());
    if (how === 'SIGTERM' && (exit.code !== 0 || exit.signal))
      problem(`${what}: clean stop (SIGTERM) ended with ${exit.code ?? exit.signal}`);
    return exit;
  };
  const start = async () => {
    const up = await startBroker(spec);
    broker = up.broker;
    return up.port;
  };

  const messages = Array.from({ length: N }, (_, i) => {
    const id = `torn-${variant.name}-${i + 1}`;
    const size = i === N - 1 ? 300 : i === N / 2 ? 20_000 : rng.int(40, 2000);
    return { id, body: messageBody(id, size) };
  });
  const last = messages[N - 1];

  try {
    // Bracketing: everything but the last message, a clean stop, then the last one alone: its record is
    // what the segment grows by between the two snapshots.
    let port = await start();
    let before = new Map<string, number>();
    if (variant.bracket) {
      await publishConfirmed(port, messages.slice(0, -1));
      await stop('SIGTERM', 'first stop');
      before = snapshot(dataDir);
      port = await start();
      await publishConfirmed(port, [last]);
    } else {
      await publishConfirmed(port, messages);
    }
    await stop(variant.stop, 'stop before the damage');

    const segment = locateSegment(dataDir, last.body);
    if (!segment) {
      problem(
        `no file under the data dir holds the message bodies (${walkFiles(dataDir).length} files): durable storage is not in place`,
      );
      return result;
    }
    result.file = relative(dataDir, segment.file);
    const size = statSync(segment.file).size;
    const grownFrom = before.get(segment.file) ?? 0;
    const region: Region =
      variant.bracket && size > grownFrom && segment.offset >= grownFrom
        ? { start: grownFrom, end: size, body: segment.offset, bodyLength: last.body.length }
        : // Not bracketed: the body and a little around it.
          {
            start: Math.max(0, segment.offset - 32),
            end: Math.min(size, segment.offset + last.body.length + 8),
            body: segment.offset,
            bodyLength: last.body.length,
          };
    result.damage = variant.damage(segment.file, region, rng);

    // The start-up after the damage.
    try {
      port = await start();
    } catch (error) {
      problem(`the broker did not start after the damage: ${(error as Error).message}`);
      return result;
    }
    const got = await drain(port);
    const stderr = broker!.stderr();
    result.logLine = stderr.split('\n').find((line) => TORN_LOG.test(line));
    if (!result.logLine)
      problem(
        `no stderr line matching ${TORN_LOG} about the damaged tail; stderr: ${JSON.stringify(stderr.trim().slice(0, 500))}`,
      );
    if (got === 'no queue') {
      problem('the durable queue is gone after the restart');
      return result;
    }
    judge(got, messages, variant.destroysLast, problem, result);

    // Appending after the skipped tail: new messages must survive the next restart, and nothing else may.
    const after = Array.from({ length: AFTER }, (_, i) => {
      const id = `torn-${variant.name}-after-${i + 1}`;
      return { id, body: messageBody(id, rng.int(40, 400)) };
    });
    await publishConfirmed(port, after);
    await stop('SIGTERM', 'stop after recovery');
    try {
      port = await start();
    } catch (error) {
      problem(`the broker did not start again after recovering: ${(error as Error).message}`);
      return result;
    }
    const again = await drain(port);
    if (again === 'no queue') problem('the durable queue is gone after the second restart');
    else {
      const ids = again.map((g) => g.id);
      const want = after.map((m) => m.id);
      if (JSON.stringify(ids) !== JSON.stringify(want)) {
        problem(
          `after recovering, publishing ${AFTER} more and restarting: got [${ids.join(', ')}], want [${want.join(', ')}]`,
        );
      }
      for (const g of again) {
        const m = after.find((a) => a.id === g.id);
        if (m && !g.content.equals(m.body)) problem(`${g.id} (published after recovery) came back corrupted`);
      }
    }
    await stop('SIGTERM', 'final stop');
  } catch (error) {
    problem(`harness error: ${(error as Error).message}`);
  } finally {
    if (broker) await broker.kill();
    broker = undefined;
    result.ok = result.problems.length === 0;
    result.elapsedMs = Date.now() - t0;
    writeFileSync(join(options.workDir, `torn-${variant.name}.log`), logs.join(''));
  }
  return result;
}

/** Every confirmed message once, intact, in publish order; the last one may be missing if the damage hit it. */
function judge(
  got: Got[],
  messages: { id: string; body: Buffer }[],
  destroysLast: boolean,
  problem: (text: string) => void,
  result: TornResult,
): void {
  const index = new Map(messages.map((m, i) => [m.id, i]));
  const counts = new Map<string, number>();
  let previous = -1;
  for (const g of got) {
    const i = index.get(g.id);
    if (i === undefined) {
      problem(`unknown message ${g.id} (${g.content.length} bytes) delivered: garbage taken for a record?`);
      continue;
    }
    counts.set(g.id, (counts.get(g.id) ?? 0) + 1);
    if (!g.content.equals(messages[i].body))
      problem(`${g.id} delivered with a corrupted body (${g.content.length} bytes)`);
    if (i <= previous) problem(`${g.id} out of order (after ${messages[previous].id})`);
    previous = Math.max(previous, i);
  }
  messages.forEach((m, i) => {
    const n = counts.get(m.id) ?? 0;
    const isLast = i === messages.length - 1;
    if (n > 1) problem(`${m.id} delivered ${n} times`);
    if (n === 0 && !(isLast && destroysLast)) problem(`${m.id} (confirmed${isLast ? ', the last record' : ''}) lost`);
  });
  result.recovered = messages.filter((m) => counts.has(m.id)).length;
}

export async function runTornWriteChecks(options: TornOptions): Promise<TornResult[]> {
  const variants = options.variants?.length
    ? TORN_VARIANTS.filter((v) => options.variants!.includes(v.name))
    : TORN_VARIANTS;
  // Independent data dirs and ports: run them side by side.
  const results = await Promise.all(variants.map((v) => runVariant(v, options)));
  for (const r of results) options.log?.(`torn ${r.variant}: ${r.ok ? 'ok' : 'FAIL'} (${r.elapsedMs} ms)`);
  return results;
}

export function formatTornResults(results: TornResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.variant}: ${r.description}`);
    if (r.file) lines.push(`       ${r.damage} in ${r.file}; recovered ${r.recovered}/${r.confirmed} confirmed`);
    if (r.logLine) lines.push(`       broker: ${r.logLine.trim()}`);
    for (const p of r.problems) lines.push(`       - ${p}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push(
    failed
      ? `  TORN-WRITE RESULT: FAIL (${failed} of ${results.length} variants)`
      : `  TORN-WRITE RESULT: OK (${results.length} variants)`,
  );
  return lines.join('\n');
}
