import { decodeFieldTable, encodeFieldTable, FieldTable } from '@warren/amqp-protocol';
import * as fs from 'node:fs';
import { dirname } from 'node:path';

/**
 * Durable definitions: the durable exchanges, queues and bindings of the virtual host, in one JSON file that is
 * rewritten whenever they change (write to a temporary file, fsync, rename, fsync the directory, so a crash
 * leaves either the old or the new file, never a mix). Argument tables are kept in their AMQP encoding
 * (base64) so their field types survive a restart exactly.
 */
export interface Definitions {
  version: 1;
  exchanges: { name: string; type: string; autoDelete: boolean; internal: boolean; arguments: string }[];
  queues: { name: string; autoDelete: boolean; arguments: string }[];
  bindings: {
    source: string;
    destination: string;
    destinationType: 'queue' | 'exchange';
    routingKey: string;
    arguments: string;
  }[];
}

export const encodeArguments = (table: FieldTable): string => encodeFieldTable(table).toString('base64');
export const decodeArguments = (text: string): FieldTable => decodeFieldTable(Buffer.from(text, 'base64'), 0).table;

export function loadDefinitions(path: string): Definitions | undefined {
  if (!fs.existsSync(path)) return undefined;
  let parsed: Definitions;
  try {
    parsed = JSON.parse(fs.readFileSync(path, 'utf8')) as Definitions;
  } catch (error) {
    // A damaged file stops the start: read as "no definitions", it would have every queue's log deleted as an orphan.
    throw new Error(
      `${path} is damaged (${(error as Error).message}); the broker will not start on it: restore it from a backup, ` +
        `or move the data directory away to start empty`,
    );
  }
  if (parsed?.version !== 1) throw new Error(`${path}: unknown definitions version ${String(parsed?.version)}`);
  return parsed;
}

export function saveDefinitions(path: string, definitions: Definitions): void {
  writeFileAtomically(path, JSON.stringify(definitions, null, 1));
}

/** Replaces a file so that a crash leaves the old or the new content, never a mix (temporary file, fsync, rename). */
export function writeFileAtomically(path: string, content: string): void {
  fs.mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, path);
  const dir = fs.openSync(dirname(path), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
