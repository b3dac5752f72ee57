// fast-check arbitraries for the protocol's values, shared by the spec files.

import fc from 'fast-check';
import type { BasicProperties } from '../content';
import type { FieldTable, FieldValue } from '../field-table';
import { METHOD_FIELDS, type FieldKind } from '../generated/spec';

/** Any Unicode text whose UTF-8 form fits a shortstr (at most 4 bytes per code point). */
export const shortstr = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 63 }),
    fc.string({ unit: 'binary-ascii', minLength: 200, maxLength: 255 }),
  );

const int = (min: number, max: number) => fc.integer({ min, max });

const scalar: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.boolean().map((value) => ({ type: 't' as const, value })),
  int(-0x80, 0x7f).map((value) => ({ type: 'b' as const, value })),
  int(0, 0xff).map((value) => ({ type: 'B' as const, value })),
  int(-0x8000, 0x7fff).map((value) => ({ type: 's' as const, value })),
  int(0, 0xffff).map((value) => ({ type: 'u' as const, value })),
  int(-0x8000_0000, 0x7fff_ffff).map((value) => ({ type: 'I' as const, value })),
  int(0, 0xffff_ffff).map((value) => ({ type: 'i' as const, value })),
  fc.maxSafeInteger().map((value) => ({ type: 'l' as const, value })),
  fc.float().map((value) => ({ type: 'f' as const, value })),
  fc.double().map((value) => ({ type: 'd' as const, value })),
  fc
    .record({ places: int(0, 255), digits: int(-0x8000_0000, 0x7fff_ffff) })
    .map((value) => ({ type: 'D' as const, value })),
  fc.maxSafeNat().map((value) => ({ type: 'T' as const, value })),
  fc.string({ unit: 'binary', maxLength: 40 }).map((value) => ({ type: 'S' as const, value })),
  fc.uint8Array({ maxLength: 40 }).map((a) => ({ type: 'x' as const, value: Buffer.from(a) })),
  fc.constant({ type: 'V' as const, value: null }),
);

const tableName = fc.string({ unit: 'binary', maxLength: 20 });

const tree = fc.letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'field' },
    scalar,
    fc.array(tie('value'), { maxLength: 4, depthIdentifier: 'field' }).map((value) => ({ type: 'A' as const, value })),
    tie('table').map((value) => ({ type: 'F' as const, value })),
  ),
  table: fc
    .uniqueArray(fc.tuple(tableName, tie('value')), {
      selector: ([name]) => name,
      maxLength: 5,
      depthIdentifier: 'field',
    })
    .map((entries) => new Map(entries)),
}));

/** Typed field values of every type, arrays and tables nested. */
export const fieldValue = (): fc.Arbitrary<FieldValue> => tree.value;
export const fieldTable = (): fc.Arbitrary<FieldTable> => tree.table;

function kindArbitrary(kind: FieldKind): fc.Arbitrary<unknown> {
  switch (kind) {
    case 'bit':
      return fc.boolean();
    case 'octet':
      return int(0, 0xff);
    case 'short':
      return int(0, 0xffff);
    case 'long':
      return int(0, 0xffff_ffff);
    case 'longlong':
      return fc.oneof(int(0, 0xffff_ffff), fc.maxSafeNat());
    case 'shortstr':
      return shortstr();
    case 'longstr':
      return fc.string({ unit: 'binary', maxLength: 300 });
    case 'bytes':
      return fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
    case 'table':
      return fieldTable();
  }
}

/** Complete random arguments for a method, from METHOD_FIELDS. */
export function methodArgs(methodId: number): fc.Arbitrary<Record<string, unknown>> {
  const fields = METHOD_FIELDS[methodId];
  return fc.tuple(...fields.map(([, kind]) => kindArbitrary(kind))).map((values) => {
    const args: Record<string, unknown> = {};
    fields.forEach(([name], i) => (args[name] = values[i]));
    return args;
  });
}

/** A method id and complete random arguments for it. */
export const anyMethod = (): fc.Arbitrary<{ id: number; args: Record<string, unknown> }> =>
  fc
    .constantFrom(...Object.keys(METHOD_FIELDS).map(Number))
    .chain((id) => methodArgs(id).map((args) => ({ id, args })));

/** Random properties; absent ones are left out (not set to undefined). */
export const basicProperties = (): fc.Arbitrary<BasicProperties> =>
  fc.record(
    {
      contentType: shortstr(),
      contentEncoding: shortstr(),
      headers: fieldTable(),
      deliveryMode: int(0, 255),
      priority: int(0, 255),
      correlationId: shortstr(),
      replyTo: shortstr(),
      expiration: shortstr(),
      messageId: shortstr(),
      timestamp: fc.maxSafeNat(),
      type: shortstr(),
      userId: shortstr(),
      appId: shortstr(),
      clusterId: shortstr(),
    },
    { requiredKeys: [] },
  );
