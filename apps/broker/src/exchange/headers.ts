import { FieldTable, FieldValue, toPlain } from '@warren/amqp-protocol';
import { isDeepStrictEqual } from 'node:util';
import { FLAG_HEADERS, Message } from '../message';
import { Binding, Exchange, RouteCollector } from './exchange';

type MatchKind = 'all' | 'any' | 'all-with-x' | 'any-with-x';

interface Rule {
  binding: Binding;
  kind: MatchKind;
  /** The binding's arguments that take part in matching (x-match always excluded; other x- keys only for *-with-x). */
  pattern: [string, FieldValue][];
}

/** Integer types compare with each other; everything else only with its own type (RabbitMQ's type classes). */
function typeClass(type: string): string {
  switch (type) {
    case 'b': case 'B': case 's': case 'u': case 'I': case 'i': case 'l':
      return 'int';
    case 'f': case 'd':
      return 'float';
    default:
      return type;
  }
}

function matchKind(args: FieldTable): MatchKind {
  const value = args.get('x-match');
  if (value?.type === 'S' && ['any', 'all-with-x', 'any-with-x'].includes(value.value)) return value.value as MatchKind;
  return 'all';
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
    this.rules.push({ binding, kind, pattern });
  }

  protected removed(binding: Binding): void {
    this.rules = this.rules.filter((rule) => rule.binding !== binding);
  }

  route(message: Message, out: RouteCollector): void {
    const headers = (message.flags & FLAG_HEADERS) !== 0 ? message.properties.headers : undefined;
    for (const rule of this.rules) if (this.matches(rule, headers)) out.add(rule.binding.destination);
  }

  private matches(rule: Rule, headers: FieldTable | undefined): boolean {
    const any = rule.kind === 'any' || rule.kind === 'any-with-x';
    for (const [key, expected] of rule.pattern) {
      const actual = headers?.get(key);
      const ok =
        actual !== undefined &&
        (expected.type === 'V' ||
          (typeClass(expected.type) === typeClass(actual.type) &&
            isDeepStrictEqual(toPlain(expected), toPlain(actual))));
      if (any && ok) return true;
      if (!any && !ok) return false;
    }
    return !any;
  }
}
