import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeArguments,
  Definitions,
  encodeArguments,
  loadDefinitions,
  saveDefinitions,
  writeFileAtomically,
} from './definitions';
import { tempDirs } from './testing/fixtures';

// The durable definitions file (definitions.ts): one JSON document, argument tables in their AMQP encoding as
// base64, replaced atomically (temporary file, fsync, rename) so that a crash leaves the old or the new one.

/** { 'x-max-priority': int32 ('I') 10 }: table length 20, shortstr name, type octet 'I', big-endian int32. */
const MAX_PRIORITY_TABLE = Buffer.from(
  '00000014' + '0e' + Buffer.from('x-max-priority').toString('hex') + '49' + '0000000a',
  'hex',
);
/** An empty table: its length, 0. */
const EMPTY_TABLE = 'AAAAAA==';

const DEFINITIONS: Definitions = {
  version: 1,
  exchanges: [{ name: 'orders', type: 'topic', autoDelete: false, internal: false, arguments: EMPTY_TABLE }],
  queues: [{ name: 'orders.placed', autoDelete: false, arguments: MAX_PRIORITY_TABLE.toString('base64') }],
  bindings: [
    {
      source: 'orders',
      destination: 'orders.placed',
      destinationType: 'queue',
      routingKey: 'order.*',
      arguments: EMPTY_TABLE,
    },
  ],
};

/** DEFINITIONS as the file holds them: JSON indented by one space per level. */
const DEFINITIONS_TEXT = `{
 "version": 1,
 "exchanges": [
  {
   "name": "orders",
   "type": "topic",
   "autoDelete": false,
   "internal": false,
   "arguments": "AAAAAA=="
  }
 ],
 "queues": [
  {
   "name": "orders.placed",
   "autoDelete": false,
   "arguments": "AAAAFA54LW1heC1wcmlvcml0eUkAAAAK"
  }
 ],
 "bindings": [
  {
   "source": "orders",
   "destination": "orders.placed",
   "destinationType": "queue",
   "routingKey": "order.*",
   "arguments": "AAAAAA=="
  }
 ]
}`;

describe('durable definitions', () => {
  const dir = tempDirs('definitions');
  const path = () => join(dir(), 'definitions.json');

  it('encodes argument tables as the base64 of their AMQP field-table bytes', () => {
    expect(encodeArguments(new Map())).toBe(EMPTY_TABLE);
    expect(encodeArguments(new Map([['x-max-priority', { type: 'I', value: 10 }]]))).toBe(
      MAX_PRIORITY_TABLE.toString('base64'),
    );
  });

  it('decodes hand-written argument bytes with their field types intact', () => {
    expect(decodeArguments(MAX_PRIORITY_TABLE.toString('base64'))).toEqual(
      new Map([['x-max-priority', { type: 'I', value: 10 }]]),
    );
    // the same value as an unsigned octet ('B') stays one: a restart must not change an argument's type
    const octet = Buffer.from('00000011' + '0e' + Buffer.from('x-max-priority').toString('hex') + '42' + '0a', 'hex');
    expect(decodeArguments(octet.toString('base64'))).toEqual(new Map([['x-max-priority', { type: 'B', value: 10 }]]));
    expect(encodeArguments(decodeArguments(octet.toString('base64')))).toBe(octet.toString('base64'));
  });

  it('writes the definitions file as the documented JSON text, and reads it back', () => {
    saveDefinitions(path(), DEFINITIONS);
    expect(readFileSync(path(), 'utf8')).toBe(DEFINITIONS_TEXT);
    expect(loadDefinitions(path())).toEqual(DEFINITIONS);
  });

  it('reads a definitions file written by hand', () => {
    writeFileSync(path(), DEFINITIONS_TEXT);
    const loaded = loadDefinitions(path()) as Definitions;
    expect(loaded).toEqual(DEFINITIONS);
    expect(decodeArguments(loaded.queues[0].arguments).get('x-max-priority')).toEqual({ type: 'I', value: 10 });
  });

  it('finds no definitions where there is no file', () => {
    expect(loadDefinitions(path())).toBeUndefined();
  });

  it('refuses a file of an unknown version, naming it', () => {
    writeFileSync(path(), JSON.stringify({ ...DEFINITIONS, version: 2 }));
    expect(() => loadDefinitions(path())).toThrow(`${path()}: unknown definitions version 2`);
  });

  // "No definitions" would tell the vhost that no durable queue exists, and it would delete every queue's log
  // as an orphan (Storage.removeOrphans): a damaged file must stop the start instead.
  it.each([
    ['cut in the middle', DEFINITIONS_TEXT.slice(0, DEFINITIONS_TEXT.length / 2)],
    ['cut one byte short', DEFINITIONS_TEXT.slice(0, -1)],
    ['empty', ''],
    ['zero bytes (data never reached the disk)', '\0'.repeat(DEFINITIONS_TEXT.length)],
  ])('refuses a torn definitions file (%s) rather than reading it as no definitions', (_, text) => {
    writeFileSync(path(), text);
    expect(() => loadDefinitions(path())).toThrow(`${path()} is damaged (`);
  });

  it('ignores a torn temporary file left by a crash before the rename: the previous definitions hold', () => {
    saveDefinitions(path(), DEFINITIONS);
    writeFileSync(`${path()}.tmp`, DEFINITIONS_TEXT.slice(0, 40));
    expect(loadDefinitions(path())).toEqual(DEFINITIONS);
    const next: Definitions = { ...DEFINITIONS, bindings: [] };
    saveDefinitions(path(), next);
    expect(loadDefinitions(path())).toEqual(next);
    expect(readdirSync(dir())).toEqual(['definitions.json']);
  });

  it('replaces a file atomically: creates its directory, leaves no temporary file, overwrites a longer one', () => {
    const nested = join(dir(), 'vhosts', 'abc', 'definitions.json');
    writeFileAtomically(nested, 'x'.repeat(100));
    writeFileAtomically(nested, 'short');
    expect(readFileSync(nested, 'utf8')).toBe('short');
    expect(existsSync(`${nested}.tmp`)).toBe(false);
  });
});
