// Prometheus's text exposition format (version 0.0.4, what GET /metrics answers with), read the way Prometheus
// reads it, for tests that check what a service or the broker exposes. A family is what one `# TYPE` line names:
// a histogram's `_bucket`, `_count` and `_sum` samples and a summary's quantiles, `_count` and `_sum` belong to
// the family of the base name. Anything Prometheus would refuse (a malformed line, a value that is not a number,
// a label set that does not close, a family typed twice) throws, naming the line, so a test fails at the line
// that would have failed the scrape instead of counting it as absent.

export type PrometheusType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface PrometheusSample {
  /** The sample's own name: `http_server_request_duration_seconds_bucket` in the family without the suffix. */
  name: string;
  /** Label values with their escapes resolved, in the order the line gave them. */
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch, when the line carried one. */
  timestamp?: number;
}

export interface PrometheusFamily {
  name: string;
  type: PrometheusType;
  /** The `# HELP` text with its escapes resolved; '' when there was none. */
  help: string;
  /** The `# UNIT` text of OpenMetrics, which OpenTelemetry's exporter writes too; Prometheus ignores it. */
  unit?: string;
  samples: PrometheusSample[];
}

const TYPES: readonly PrometheusType[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
// the samples a histogram or summary writes besides its base name
const SUFFIXES: Record<PrometheusType, readonly string[]> = {
  histogram: ['_bucket', '_count', '_sum'],
  summary: ['_count', '_sum'],
  counter: [],
  gauge: [],
  untyped: [],
};

export class PrometheusParseError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'PrometheusParseError';
  }
}

/** Every family in `text`, by name, in the order they first appear. */
export function parsePrometheusText(text: string): Map<string, PrometheusFamily> {
  const families = new Map<string, PrometheusFamily>();
  const typed = new Set<string>(); // families a TYPE line named: a second one is an error, as in Prometheus
  const family = (name: string): PrometheusFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, type: 'untyped', help: '', samples: [] }));
    return f;
  };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    if (line.trimStart().startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line.trimStart());
      if (!meta) return; // any other comment line is ignored, as Prometheus does
      const [, kind, name, rest = ''] = meta;
      if (!METRIC_NAME.test(name)) throw new PrometheusParseError(lineNo, `'${name}' is not a valid metric name`);
      const f = family(name);
      if (kind === 'HELP') f.help = unescape(rest, false, lineNo);
      else if (kind === 'UNIT') f.unit = rest.trim();
      else {
        const type = rest.trim() as PrometheusType;
        if (!TYPES.includes(type)) throw new PrometheusParseError(lineNo, `unknown type '${rest.trim()}' for ${name}`);
        if (typed.has(name)) throw new PrometheusParseError(lineNo, `a second TYPE line for ${name}`);
        if (f.samples.length)
          throw new PrometheusParseError(lineNo, `the TYPE line for ${name} comes after its samples`);
        typed.add(name);
        f.type = type;
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    family(familyOf(sample.name, families)).samples.push(sample);
  });
  return families;
}

/** The family a sample belongs to: a typed histogram or summary whose name is the sample's without its suffix. */
function familyOf(sample: string, families: Map<string, PrometheusFamily>): string {
  for (const f of families.values()) {
    if (SUFFIXES[f.type].some((suffix) => sample === `${f.name}${suffix}`)) return f.name;
  }
  return sample;
}

function parseSample(line: string, lineNo: number): PrometheusSample {
  let i = 0;
  const skipSpaces = () => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  skipSpaces();
  const nameStart = i;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i])) i++;
  const name = line.slice(nameStart, i);
  if (!METRIC_NAME.test(name))
    throw new PrometheusParseError(lineNo, `expected a metric name at '${line.slice(nameStart, nameStart + 20)}'`);
  const labels: Record<string, string> = {};
  skipSpaces();
  if (line[i] === '{') {
    i++;
    for (;;) {
      skipSpaces();
      if (line[i] === '}') {
        i++;
        break;
      }
      const labelStart = i;
      while (i < line.length && /[a-zA-Z0-9_]/.test(line[i])) i++;
      const label = line.slice(labelStart, i);
      if (!LABEL_NAME.test(label))
        throw new PrometheusParseError(
          lineNo,
          `expected a label name in ${name}'s labels at '${line.slice(labelStart, labelStart + 20)}'`,
        );
      skipSpaces();
      if (line[i] !== '=') throw new PrometheusParseError(lineNo, `expected '=' after label ${label} of ${name}`);
      i++;
      skipSpaces();
      if (line[i] !== '"')
        throw new PrometheusParseError(lineNo, `expected a quoted value for label ${label} of ${name}`);
      i++;
      const valueStart = i;
      while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
      if (i >= line.length)
        throw new PrometheusParseError(lineNo, `the value of label ${label} of ${name} does not end`);
      if (label in labels) throw new PrometheusParseError(lineNo, `label ${label} twice in one sample of ${name}`);
      labels[label] = unescape(line.slice(valueStart, i), true, lineNo);
      i++;
      skipSpaces();
      if (line[i] === ',') i++;
      else if (line[i] !== '}')
        throw new PrometheusParseError(lineNo, `expected ',' or '}' after label ${label} of ${name}`);
    }
  }
  const rest = line
    .slice(i)
    .trim()
    .split(/[ \t]+/);
  if (rest.length === 0 || rest[0] === '' || rest.length > 2)
    throw new PrometheusParseError(
      lineNo,
      `expected a value (and an optional timestamp) after ${name}, got '${line.slice(i).trim()}'`,
    );
  const value = parseValue(rest[0]);
  if (value === undefined)
    throw new PrometheusParseError(lineNo, `'${rest[0]}' is not a sample value (a float, NaN, +Inf or -Inf)`);
  const sample: PrometheusSample = { name, labels, value };
  if (rest.length === 2) {
    if (!/^-?\d+$/.test(rest[1]))
      throw new PrometheusParseError(lineNo, `'${rest[1]}' is not a timestamp (integer milliseconds)`);
    sample.timestamp = Number(rest[1]);
  }
  return sample;
}

function parseValue(text: string): number | undefined {
  const special: Record<string, number> = { NaN: NaN, '+Inf': Infinity, Inf: Infinity, '-Inf': -Infinity };
  if (text in special) return special[text];
  // Go's ParseFloat, which Prometheus uses: decimal or exponent notation (hex floats are out of scope here)
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** HELP text escapes backslash and newline; a label value also the double quote. */
function unescape(text: string, quoted: boolean, lineNo: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\\') {
      out += text[i];
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && quoted) out += '"';
    // Prometheus keeps an unknown escape in HELP text as it stands; in a label value it is an error
    else if (!quoted) out += `\\${next ?? ''}`;
    else
      throw new PrometheusParseError(
        lineNo,
        `'\\${next ?? ''}' is not an escape in a label value (\\\\, \\" and \\n are)`,
      );
  }
  return out;
}

/**
 * A sample as the exposition writes it, without the value: `name{label="value",…}` with the labels in their
 * order and the value escaped again. Handy as a map key for exact series.
 */
export function seriesKey(sample: Pick<PrometheusSample, 'name' | 'labels'>): string {
  const labels = Object.entries(sample.labels);
  if (!labels.length) return sample.name;
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `${sample.name}{${labels.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

/** Every sample of every family, by seriesKey. */
export function samplesByKey(families: Map<string, PrometheusFamily>): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families.values()) for (const s of f.samples) out.set(seriesKey(s), s.value);
  return out;
}
