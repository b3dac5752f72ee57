// tools/testing/prometheus.ts: Prometheus's text format read as Prometheus reads it, and refused where Prometheus
// refuses it (the tests that lean on the parser would otherwise count a broken line as a missing sample).
import { parsePrometheusText, PrometheusParseError, samplesByKey, seriesKey } from '../testing/prometheus';

describe('parsePrometheusText', () => {
  it('reads families with HELP and TYPE, in either order, and their samples', () => {
    const families = parsePrometheusText(
      [
        '# HELP requests_total Requests served',
        '# TYPE requests_total counter',
        'requests_total{method="GET",code="200"} 12',
        'requests_total{method="POST",code="201"} 3 1700000000000',
        '# TYPE queue_depth gauge',
        '# HELP queue_depth Messages ready',
        'queue_depth 4.5e1',
        '',
      ].join('\n'),
    );
    expect([...families.keys()]).toEqual(['requests_total', 'queue_depth']);
    expect(families.get('requests_total')).toEqual({
      name: 'requests_total',
      type: 'counter',
      help: 'Requests served',
      samples: [
        { name: 'requests_total', labels: { method: 'GET', code: '200' }, value: 12 },
        { name: 'requests_total', labels: { method: 'POST', code: '201' }, value: 3, timestamp: 1700000000000 },
      ],
    });
    expect(families.get('queue_depth')).toMatchObject({
      type: 'gauge',
      help: 'Messages ready',
      samples: [{ name: 'queue_depth', labels: {}, value: 45 }],
    });
  });

  it("gathers a histogram's buckets, count and sum under its family, and a summary's quantiles", () => {
    const families = parsePrometheusText(
      [
        '# HELP http_server_request_duration_seconds How long requests took',
        '# UNIT http_server_request_duration_seconds s',
        '# TYPE http_server_request_duration_seconds histogram',
        'http_server_request_duration_seconds_count{http_route="/orders"} 3',
        'http_server_request_duration_seconds_sum{http_route="/orders"} 0.25',
        'http_server_request_duration_seconds_bucket{http_route="/orders",le="0.1"} 2',
        'http_server_request_duration_seconds_bucket{http_route="/orders",le="+Inf"} 3',
        '# TYPE rpc_seconds summary',
        'rpc_seconds{quantile="0.99"} NaN',
        'rpc_seconds_count 0',
        'rpc_seconds_sum 0',
      ].join('\n'),
    );
    expect([...families.keys()]).toEqual(['http_server_request_duration_seconds', 'rpc_seconds']);
    const histogram = families.get('http_server_request_duration_seconds')!;
    expect(histogram.unit).toBe('s');
    expect(histogram.samples.map((s) => [s.name, s.labels.le, s.value])).toEqual([
      ['http_server_request_duration_seconds_count', undefined, 3],
      ['http_server_request_duration_seconds_sum', undefined, 0.25],
      ['http_server_request_duration_seconds_bucket', '0.1', 2],
      ['http_server_request_duration_seconds_bucket', '+Inf', 3],
    ]);
    expect(families.get('rpc_seconds')!.samples.map((s) => s.name)).toEqual([
      'rpc_seconds',
      'rpc_seconds_count',
      'rpc_seconds_sum',
    ]);
    expect(families.get('rpc_seconds')!.samples[0].value).toBeNaN();
  });

  it('resolves escapes in label values and HELP text, and accepts the special values and spacing Prometheus does', () => {
    const families = parsePrometheusText(
      [
        '# HELP odd A help with a \\\\ backslash,\\na newline and \\t kept as is',
        'odd{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",empty="",} +Inf',
        'odd { a = "1" , b="2" }   -Inf  ',
        'no_labels{} 0',
        'windows_line 1\r',
        '# a comment line, ignored',
      ].join('\n'),
    );
    const odd = families.get('odd')!;
    expect(odd.type).toBe('untyped');
    expect(odd.help).toBe('A help with a \\ backslash,\na newline and \\t kept as is');
    expect(odd.samples[0]).toEqual({
      name: 'odd',
      labels: { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb', empty: '' },
      value: Infinity,
    });
    expect(odd.samples[1]).toEqual({ name: 'odd', labels: { a: '1', b: '2' }, value: -Infinity });
    expect(families.get('no_labels')!.samples[0].labels).toEqual({});
    expect(families.get('windows_line')!.samples[0].value).toBe(1);
  });

  it('keys a series as the exposition writes it, escapes included', () => {
    const families = parsePrometheusText('m{b="x\\"y",a="1"} 2\nplain 3\n');
    expect([...samplesByKey(families)]).toEqual([
      ['m{b="x\\"y",a="1"}', 2],
      ['plain', 3],
    ]);
    expect(seriesKey({ name: 'm', labels: { path: 'a\\b\nc' } })).toBe('m{path="a\\\\b\\nc"}');
  });

  it.each([
    ['a value that is not a number', 'm 12abc', "line 1: '12abc' is not a sample value"],
    ['no value', 'm{a="1"}', 'line 1: expected a value'],
    ['too many fields', 'm 1 2 3', 'line 1: expected a value (and an optional timestamp)'],
    ['a timestamp that is not an integer', 'm 1 2.5', "line 1: '2.5' is not a timestamp"],
    ['an unterminated label value', 'm{a="1} 2', 'line 1: the value of label a of m does not end'],
    ['an unquoted label value', 'm{a=1} 2', 'line 1: expected a quoted value for label a of m'],
    ['a label without =', 'm{a "1"} 2', "line 1: expected '=' after label a of m"],
    ['labels not separated', 'm{a="1" b="2"} 2', "line 1: expected ',' or '}' after label a of m"],
    ['a label name that is not one', 'm{1a="1"} 2', "line 1: expected a label name in m's labels"],
    ['a label twice', 'm{a="1",a="2"} 2', 'line 1: label a twice in one sample of m'],
    ['an unknown escape in a label value', 'm{a="\\x"} 2', "line 1: '\\x' is not an escape in a label value"],
    ['a metric name that is not one', '1m 2', 'line 1: expected a metric name'],
    ['a TYPE line naming an invalid metric', '# TYPE 1m gauge', "line 1: '1m' is not a valid metric name"],
    ['an unknown type', '# TYPE m meter', "line 1: unknown type 'meter' for m"],
    ['a second TYPE line', '# TYPE m gauge\n# TYPE m counter', 'line 2: a second TYPE line for m'],
    ['a TYPE line after the samples', 'm 1\n# TYPE m gauge', 'line 2: the TYPE line for m comes after its samples'],
  ])('refuses %s, naming the line', (_, text, message) => {
    let error: unknown;
    try {
      parsePrometheusText(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PrometheusParseError);
    expect((error as Error).message).toContain(message);
  });
});
