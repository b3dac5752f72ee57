import { FieldTable, FieldValue, FLAG_HEADERS } from '@warren/amqp-protocol';
import { preconditionFailed } from '../errors';
import type { Message } from '../message';
import { Binding, Exchange, RouteCollector } from './exchange';

type MatchKind = 'all' | 'any' | 'all-with-x' | 'any-with-x';
const MATCH_KINDS: readonly string[] = ['all', 'any', 'all-with-x', 'any-with-x'];

interface Rule {
  binding: Binding;
  any: boolean;
  /** The binding's arguments that take part in matching (x-match always excluded; other x- keys only for *-with-x). */
  pattern: [string, FieldValue][];
}

/** A binding's x-match must be one of the four kinds (RabbitMQ refuses the binding otherwise). */
export function validateHeadersBinding(args: FieldTable): void {
  const value = args.get('x-match');
  if (value?.type === 'S' && !MATCH_KINDS.includes(value.value))
    throw preconditionFailed(
      `Invalid x-match field value <<"${value.value}">>; expected all, any, all-with-x, or any-with-x`,
    );
}

function matchKind(args: FieldTable): MatchKind {
  const value = args.get('x-match');
  return value?.type === 'S' && MATCH_KINDS.includes(value.value) ? (value.value as MatchKind) : 'all';
}

/**
 * Value equality as RabbitMQ's headers exchange sees it (Erlang's ==): numbers equal across integer and
 * float types (1 == 1.0), strings equal to byte arrays with the same bytes, booleans only to booleans,
 * tables and arrays element by element.
 */
export function headerValuesEqual(a: FieldValue, b: FieldValue): boolean {
  const av = a.value;
  const bv = b.value;
  if (typeof av === 'number' && typeof bv === 'number') return av === bv && a.type !== 'T' && b.type !== 'T';
  if ((a.type === 'S' || a.type === 'x') && (b.type === 'S' || b.type === 'x'))
    return Buffer.from(av as string | Buffer).equals(Buffer.from(bv as string | Buffer));
  if (a.type !== b.type) return false;
  switch (a.type) {
    case 'A': {
      const bl = bv as FieldValue[];
      return a.value.length === bl.length && a.value.every((v, i) => headerValuesEqual(v, bl[i]));
    }
    case 'F': {
      const bt = bv as FieldTable;
      if (a.value.size !== bt.size) return false;
      for (const [k, v] of a.value) {
        const other = bt.get(k);
        if (!other || !headerValuesEqual(v, other)) return false;
      }
      return true;
    }
    case 'D': {
      const bd = bv as { places: number; digits: number };
      return a.value.places === bd.places && a.value.digits === bd.digits;
    }
    default:
      return av === bv;
  }
}

/**
 * Headers routing: a binding's arguments are compared with the message's headers. `x-match` picks whether all
 * or any of them must match; a void argument only asks that the header be present.
 */
export class HeadersExchange extends Exchange {
  readonly type = 'headers';
  private rules: Rule[] = [];

  protected added(binding: Binding): void {
    const kind = matchKind(binding.arguments);
    const withX = kind.endsWith('-with-x');
    const pattern = [...binding.arguments].filter(([key]) => key !== 'x-match' && (withX || !key.startsWith('x-')));
    this.rules.push({ binding, any: kind.startsWith('any'), pattern });
  }

  protected removed(binding: Binding): void {
    this.rules = this.rules.filter((rule) => rule.binding !== binding);
  }

  route(message: Message, _routingKey: string, out: RouteCollector): void {
    const headers = (message.flags & FLAG_HEADERS) !== 0 ? message.properties.headers : undefined;
    for (const rule of this.rules) if (this.matches(rule, headers)) out.add(rule.binding.destination);
  }

  private matches(rule: Rule, headers: FieldTable | undefined): boolean {
    for (const [key, expected] of rule.pattern) {
      const actual = headers?.get(key);
      const ok = actual !== undefined && (expected.type === 'V' || headerValuesEqual(expected, actual));
      if (rule.any && ok) return true;
      if (!rule.any && !ok) return false;
    }
    return !rule.any;
  }
}
