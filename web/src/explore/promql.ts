// PromQL for the editor: the functions, aggregations and keywords Tyto's engine knows
// (src/promql/functions.cc and lex.cc), a tolerant tokenizer for highlighting, and the completion
// context at the cursor (what kind of word is being typed, and for which metric and label).

export interface FunctionDoc {
  name: string;
  signature: string; // arguments and return type, as Prometheus documents them
  help: string;
  experimental?: boolean;
}

const V = 'v instant-vector';
const R = 'v range-vector';
const f = (name: string, args: string, ret: string, help: string, experimental = false): FunctionDoc =>
  ({ name, signature: `${name}(${args}) → ${ret}`, help, experimental });
const math = (name: string, what: string) => f(name, V, 'instant-vector', `The ${what} of each sample.`);
const over = (name: string, what: string, exp = false) => f(name, R, 'instant-vector', `The ${what} of each series' samples in the range.`, exp);
const clock = (name: string, what: string) => f(name, `[${V}]`, 'instant-vector', `The ${what} of each sample's value read as a Unix time in UTC (of the evaluation time without an argument).`);

// Every function of src/promql/functions.cc, with a short description of what it returns.
export const FUNCTIONS: FunctionDoc[] = [
  math('abs', 'absolute value'),
  f('absent', V, 'instant-vector', 'A one-element vector with value 1 when the argument has no series; empty otherwise. For alerting on missing data.'),
  f('absent_over_time', R, 'instant-vector', 'A one-element vector with value 1 when the range has no samples at all; empty otherwise.'),
  math('acos', 'arc cosine'), math('acosh', 'inverse hyperbolic cosine'),
  math('asin', 'arc sine'), math('asinh', 'inverse hyperbolic sine'),
  math('atan', 'arc tangent'), math('atanh', 'inverse hyperbolic tangent'),
  over('avg_over_time', 'average'),
  math('ceil', 'value rounded up to an integer'),
  f('changes', R, 'instant-vector', 'How many times each series changed value within the range.'),
  f('clamp', `${V}, min scalar, max scalar`, 'instant-vector', 'Each sample limited to the interval [min, max].'),
  f('clamp_max', `${V}, max scalar`, 'instant-vector', 'Each sample limited to at most max.'),
  f('clamp_min', `${V}, min scalar`, 'instant-vector', 'Each sample limited to at least min.'),
  math('cos', 'cosine'), math('cosh', 'hyperbolic cosine'),
  over('count_over_time', 'number'),
  clock('day_of_month', 'day of the month (1-31)'),
  clock('day_of_week', 'day of the week (0 = Sunday)'),
  clock('day_of_year', 'day of the year (1-366)'),
  clock('days_in_month', 'number of days in the month'),
  math('deg', 'radians converted to degrees'),
  f('delta', R, 'instant-vector', 'The difference between the first and last value of each gauge series in the range, extrapolated to the range\'s edges.'),
  f('deriv', R, 'instant-vector', 'The per-second derivative of each gauge series, by simple linear regression over the range.'),
  f('double_exponential_smoothing', `${R}, sf scalar, tf scalar`, 'instant-vector', 'A smoothed value of each gauge series (Holt linear); sf weighs recent data, tf the trend; both in (0, 1).', true),
  f('end', '', 'scalar', 'The end time of the query, in seconds since the epoch.'),
  math('exp', 'exponential (e to the power of the value)'),
  over('first_over_time', 'oldest value', true),
  math('floor', 'value rounded down to an integer'),
  f('histogram_avg', V, 'instant-vector', 'The arithmetic mean of each native histogram\'s observations.'),
  f('histogram_count', V, 'instant-vector', 'The number of observations of each native histogram.'),
  f('histogram_fraction', `lower scalar, upper scalar, ${V}`, 'instant-vector', 'The estimated fraction of observations between lower and upper.'),
  f('histogram_quantile', `φ scalar, b instant-vector`, 'instant-vector', 'The φ-quantile (0 ≤ φ ≤ 1) estimated from histogram buckets (classic buckets by their le label, or native histograms). Use with rate() over the buckets.'),
  f('histogram_quantiles', `${V}, label string, φ scalar...`, 'instant-vector', 'Several quantiles at once: one output series per φ, told apart by the given label.', true),
  f('histogram_stddev', V, 'instant-vector', 'The estimated standard deviation of each native histogram\'s observations.'),
  f('histogram_stdvar', V, 'instant-vector', 'The estimated variance of each native histogram\'s observations.'),
  f('histogram_sum', V, 'instant-vector', 'The sum of the observations of each native histogram.'),
  clock('hour', 'hour of the day (0-23)'),
  f('idelta', R, 'instant-vector', 'The difference between the last two samples of each gauge series in the range.'),
  f('increase', R, 'instant-vector', 'How much each counter grew over the range, taking resets into account and extrapolating to the range\'s edges.'),
  f('info', `${V}, [data-label-selector instant-vector]`, 'instant-vector', 'Adds the labels of matching info metrics (target_info by default) to each series.', true),
  f('irate', R, 'instant-vector', 'The per-second rate of each counter from its last two samples in the range: for fast-moving graphs.'),
  f('label_join', `${V}, dst string, separator string, src string...`, 'instant-vector', 'Sets label dst to the values of the src labels joined with the separator.'),
  f('label_replace', `${V}, dst string, replacement string, src string, regex string`, 'instant-vector', 'Sets label dst to the replacement (with $1... from regex) when regex matches the value of label src.'),
  over('last_over_time', 'most recent value'),
  f('ln', V, 'instant-vector', 'The natural logarithm of each sample.'),
  f('log10', V, 'instant-vector', 'The decimal logarithm of each sample.'),
  f('log2', V, 'instant-vector', 'The binary logarithm of each sample.'),
  over('mad_over_time', 'median absolute deviation', true),
  over('max_over_time', 'maximum'),
  f('max_of', 'a scalar, b scalar', 'scalar', 'The larger of two scalars.'),
  over('min_over_time', 'minimum'),
  f('min_of', 'a scalar, b scalar', 'scalar', 'The smaller of two scalars.'),
  clock('minute', 'minute of the hour (0-59)'),
  clock('month', 'month of the year (1-12)'),
  f('pi', '', 'scalar', 'The number π.'),
  f('predict_linear', `${R}, t scalar`, 'instant-vector', 'The value each gauge series is predicted to have t seconds from now, by linear regression over the range.'),
  f('present_over_time', R, 'instant-vector', 'Value 1 for each series with any sample in the range.'),
  f('quantile_over_time', `φ scalar, ${R}`, 'instant-vector', 'The φ-quantile (0 ≤ φ ≤ 1) of each series\' samples in the range.'),
  math('rad', 'degrees converted to radians'),
  f('range', '', 'scalar', 'The length of the query\'s range (end - start), in seconds.'),
  f('rate', R, 'instant-vector', 'The per-second average rate of increase of each counter over the range, taking resets into account. The usual way to graph a counter.'),
  f('resets', R, 'instant-vector', 'How many times each counter reset (decreased) within the range.'),
  f('round', `${V}, [to_nearest scalar]`, 'instant-vector', 'Each sample rounded to the nearest integer, or to the nearest multiple of to_nearest.'),
  f('scalar', V, 'scalar', 'The value of a one-element vector as a scalar; NaN otherwise.'),
  f('sgn', V, 'instant-vector', 'The sign of each sample: 1, -1 or 0.'),
  math('sin', 'sine'), math('sinh', 'hyperbolic sine'),
  f('sort', V, 'instant-vector', 'The samples sorted by value, ascending (instant queries only).'),
  f('sort_by_label', `${V}, label string...`, 'instant-vector', 'The series sorted by the values of the given labels, ascending.', true),
  f('sort_by_label_desc', `${V}, label string...`, 'instant-vector', 'The series sorted by the values of the given labels, descending.', true),
  f('sort_desc', V, 'instant-vector', 'The samples sorted by value, descending (instant queries only).'),
  math('sqrt', 'square root'),
  f('start', '', 'scalar', 'The start time of the query, in seconds since the epoch.'),
  f('start_timestamp', V, 'instant-vector', 'The start (creation) time of each counter series, where known.', true),
  f('step', '', 'scalar', 'The query\'s resolution step, in seconds.'),
  over('stddev_over_time', 'population standard deviation'),
  over('stdvar_over_time', 'population variance'),
  over('sum_over_time', 'sum'),
  math('tan', 'tangent'), math('tanh', 'hyperbolic tangent'),
  f('time', '', 'scalar', 'The evaluation time, in seconds since the epoch.'),
  f('timestamp', V, 'instant-vector', 'The timestamp of each sample, in seconds since the epoch.'),
  over('ts_of_first_over_time', 'time of the oldest sample', true),
  over('ts_of_last_over_time', 'time of the most recent sample', true),
  over('ts_of_max_over_time', 'time of the largest sample', true),
  over('ts_of_min_over_time', 'time of the smallest sample', true),
  f('vector', 's scalar', 'instant-vector', 'The scalar as a vector with one element and no labels.'),
  clock('year', 'year'),
];

export const FUNCTION_BY_NAME = new Map(FUNCTIONS.map((x) => [x.name, x]));

export interface WordDoc { name: string; detail: string; help: string }

export const AGGREGATIONS: WordDoc[] = [
  { name: 'sum', detail: 'sum [by|without (labels)] (v)', help: 'Sum over dimensions.' },
  { name: 'avg', detail: 'avg [by|without (labels)] (v)', help: 'Average over dimensions.' },
  { name: 'min', detail: 'min [by|without (labels)] (v)', help: 'Minimum over dimensions.' },
  { name: 'max', detail: 'max [by|without (labels)] (v)', help: 'Maximum over dimensions.' },
  { name: 'count', detail: 'count [by|without (labels)] (v)', help: 'Number of series in each group.' },
  { name: 'group', detail: 'group [by|without (labels)] (v)', help: 'Value 1 for each group: the groups that exist.' },
  { name: 'stddev', detail: 'stddev [by|without (labels)] (v)', help: 'Population standard deviation over dimensions.' },
  { name: 'stdvar', detail: 'stdvar [by|without (labels)] (v)', help: 'Population variance over dimensions.' },
  { name: 'topk', detail: 'topk(k, v)', help: 'The k largest samples of each group.' },
  { name: 'bottomk', detail: 'bottomk(k, v)', help: 'The k smallest samples of each group.' },
  { name: 'limitk', detail: 'limitk(k, v)', help: 'Any k series of each group (a sample, stable over time).' },
  { name: 'limit_ratio', detail: 'limit_ratio(r, v)', help: 'A stable fraction r of the series of each group.' },
  { name: 'quantile', detail: 'quantile(φ, v)', help: 'The φ-quantile (0 ≤ φ ≤ 1) over dimensions.' },
  { name: 'count_values', detail: 'count_values("label", v)', help: 'The number of series with each value; the value goes in the given label.' },
];

export const KEYWORDS: WordDoc[] = [
  { name: 'by', detail: 'aggregation modifier', help: 'Keep only these labels: sum by (model) (...).' },
  { name: 'without', detail: 'aggregation modifier', help: 'Drop these labels, keep the rest: sum without (instance) (...).' },
  { name: 'on', detail: 'vector matching', help: 'Match the two sides on these labels only.' },
  { name: 'ignoring', detail: 'vector matching', help: 'Match the two sides on all labels but these.' },
  { name: 'group_left', detail: 'vector matching', help: 'Many-to-one matching: the left side has more series; labels listed are copied from the right.' },
  { name: 'group_right', detail: 'vector matching', help: 'One-to-many matching: the right side has more series.' },
  { name: 'bool', detail: 'comparison modifier', help: 'Return 0 or 1 instead of filtering: a > bool 5.' },
  { name: 'offset', detail: 'offset <duration>', help: 'Evaluate the selector this long in the past: rate(x[5m] offset 1h).' },
  { name: 'and', detail: 'set operator', help: 'Series of the left side that have a match on the right.' },
  { name: 'or', detail: 'set operator', help: 'All of the left side, plus the right side\'s series without a match on the left.' },
  { name: 'unless', detail: 'set operator', help: 'Series of the left side without a match on the right.' },
  { name: 'atan2', detail: 'binary operator', help: 'The arc tangent of left / right, per matched pair.' },
  { name: 'anchored', detail: 'range modifier', help: 'Range selection anchored to the window\'s edges (Prometheus 3 extension).' },
  { name: 'smoothed', detail: 'range modifier', help: 'Interpolated range edges (Prometheus 3 extension).' },
];

export const AT_MODIFIERS: WordDoc[] = [
  { name: 'start()', detail: '@ modifier', help: 'Evaluate at the start of the query range.' },
  { name: 'end()', detail: '@ modifier', help: 'Evaluate at the end of the query range.' },
];

export const DURATIONS = ['1m', '5m', '10m', '15m', '30m', '1h', '6h', '12h', '1d', '7d'];

const AGG_SET = new Set(AGGREGATIONS.map((a) => a.name));
const KW_SET = new Set(KEYWORDS.map((k) => k.name));
const GROUPING_KW = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

// ---- tokens ----

export type TokenType =
  | 'ws' | 'comment' | 'string' | 'number' | 'duration' | 'metric' | 'label' | 'function'
  | 'aggregation' | 'keyword' | 'op' | 'match' | 'paren' | 'brace' | 'bracket' | 'comma' | 'at' | 'colon' | 'error';

export interface Token {
  type: TokenType;
  start: number;
  end: number;
  text: string;
  unterminated?: boolean; // a string with no closing quote
}

const IDENT_START = /[A-Za-z_:]/;
const IDENT = /[A-Za-z0-9_:]/;
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_])/;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;

// Splits an expression into tokens, never failing: unknown characters become 'error' tokens and an
// unterminated string runs to the end. Identifiers are classified by where they stand: label names
// inside {...} and grouping lists, functions and aggregations before "(", keywords, metric names.
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let braceDepth = 0;
  let bracketDepth = 0;
  let groupingParen = false; // inside by (...), on (...) ...
  let expectGrouping = false; // the last word was by/without/on/...: the next "(" opens a label list
  const n = text.length;
  const push = (type: TokenType, start: number, end: number, extra?: Partial<Token>) => {
    out.push({ type, start, end, text: text.slice(start, end), ...extra });
  };
  const nextNonSpace = (from: number): string => {
    let j = from;
    while (j < n && /\s/.test(text[j])) j++;
    return text[j] ?? '';
  };
  while (i < n) {
    const c = text[i];
    const start = i;
    if (/\s/.test(c)) {
      while (i < n && /\s/.test(text[i])) i++;
      push('ws', start, i);
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      push('comment', start, i);
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i++;
      let closed = false;
      while (i < n) {
        if (text[i] === '\\' && c !== '`') { i += 2; continue; }
        if (text[i] === c) { i++; closed = true; break; }
        if (text[i] === '\n' && c !== '`') break;
        i++;
      }
      i = Math.min(i, n);
      push('string', start, i, closed ? undefined : { unterminated: true });
      continue;
    }
    if (/[0-9.]/.test(c)) {
      const rest = text.slice(i);
      const d = DURATION.exec(rest);
      if (d) { i += d[0].length; push('duration', start, i); continue; }
      const m = NUMBER.exec(rest);
      if (m && m[0] !== '.') { i += m[0].length; push('number', start, i); continue; }
    }
    if (c === ':' && bracketDepth > 0) { i++; push('colon', start, i); continue; } // [5m:1m]
    if (IDENT_START.test(c)) {
      while (i < n && IDENT.test(text[i])) i++;
      const word = text.slice(start, i);
      const lower = word.toLowerCase();
      let type: TokenType;
      if (braceDepth > 0 || groupingParen) type = 'label';
      else if (lower === 'inf' || lower === 'nan') type = 'number';
      else if (nextNonSpace(i) === '(' && (AGG_SET.has(word) || FUNCTION_BY_NAME.has(word))) type = AGG_SET.has(word) ? 'aggregation' : 'function';
      else if (KW_SET.has(word) || AGG_SET.has(word)) type = KW_SET.has(word) ? 'keyword' : 'aggregation';
      else type = 'metric';
      expectGrouping = type === 'keyword' && GROUPING_KW.has(word);
      push(type, start, i);
      continue;
    }
    const two = text.slice(i, i + 2);
    if (braceDepth > 0 && (two === '!=' || two === '=~' || two === '!~')) { i += 2; push('match', start, i); continue; }
    if (braceDepth > 0 && c === '=') { i++; push('match', start, i); continue; }
    if (['==', '!=', '>=', '<='].includes(two)) { i += 2; push('op', start, i); continue; }
    if ('+-*/%^<>'.includes(c) || c === '=') { i++; push('op', start, i); continue; }
    i++;
    switch (c) {
      case '(':
        if (expectGrouping) groupingParen = true;
        push('paren', start, i);
        break;
      case ')':
        groupingParen = false;
        push('paren', start, i);
        break;
      case '{': braceDepth++; push('brace', start, i); break;
      case '}': braceDepth = Math.max(0, braceDepth - 1); push('brace', start, i); break;
      case '[': bracketDepth++; push('bracket', start, i); break;
      case ']': bracketDepth = Math.max(0, bracketDepth - 1); push('bracket', start, i); break;
      case ',': push('comma', start, i); break;
      case '@': push('at', start, i); break;
      case ':': push('colon', start, i); break;
      default: push('error', start, i);
    }
    if (c !== '(') expectGrouping = false;
  }
  return out;
}

// ---- completion context ----

export type CompletionContext =
  | { kind: 'expression'; from: number; prefix: string; afterExpression: boolean }
  | { kind: 'labelName'; from: number; prefix: string; metrics: string[]; inBraces: boolean }
  | { kind: 'labelValue'; from: number; prefix: string; label: string; metrics: string[]; quote: string; closeAt: number | null }
  | { kind: 'duration'; from: number; prefix: string }
  | { kind: 'atModifier'; from: number; prefix: string }
  | { kind: 'none' };

// Metric names used in an expression (for match[] when completing labels).
export function metricsIn(tokens: Token[]): string[] {
  const out = new Set<string>();
  for (const t of tokens) if (t.type === 'metric') out.add(t.text);
  return [...out];
}

// What is being typed at `cursor`: the kind of word, where it starts and the prefix typed so far.
export function contextAt(text: string, cursor: number): CompletionContext {
  const tokens = tokenize(text);
  const before = tokenize(text.slice(0, cursor));
  const last = before[before.length - 1];
  const allMetrics = metricsIn(tokens);

  // Inside a string: a label value when the string follows label=, label!=, label=~ or label!~ in braces.
  if (last && last.type === 'string' && last.unterminated) {
    const m = before[before.length - 2];
    const l = before[before.length - 3];
    if (m?.type === 'match' && l?.type === 'label') {
      const metric = selectorMetric(before, before.length - 3) ?? null;
      // Where the string closes in the full text (so accepting a value replaces up to the quote).
      const full = tokens.find((t) => t.start === last.start);
      const closeAt = full && !full.unterminated ? full.end - 1 : null;
      return {
        kind: 'labelValue', from: last.start + 1, prefix: unescape(text.slice(last.start + 1, cursor)), label: l.text,
        metrics: metric ? [metric] : allMetrics, quote: last.text[0], closeAt,
      };
    }
    return { kind: 'none' };
  }
  // A number being typed where a duration goes ("[5", "offset 1"): complete it as a duration.
  if (last?.type === 'number' && last.end === cursor && /^\d+$/.test(last.text)) {
    let q = before.length - 2;
    while (q >= 0 && before[q].type === 'ws') q--;
    if (insideBrackets(before) || (q >= 0 && before[q].type === 'keyword' && before[q].text === 'offset')) {
      return { kind: 'duration', from: last.start, prefix: last.text };
    }
  }
  if (last && (last.type === 'comment' || last.type === 'string' || last.type === 'number')) return { kind: 'none' };

  // The word being typed (an identifier or duration ending at the cursor) and what precedes it.
  const typing = last && ['metric', 'label', 'function', 'aggregation', 'keyword', 'duration'].includes(last.type) && last.end === cursor ? last : null;
  const prefix = typing ? typing.text : '';
  const from = typing ? typing.start : cursor;
  const prevIdx = (typing ? before.length - 2 : before.length - 1);
  let p = prevIdx;
  while (p >= 0 && before[p].type === 'ws') p--;
  const prev = p >= 0 ? before[p] : undefined;

  if (typing?.type === 'label' || (!typing && inLabelPosition(before))) {
    if (insideBraces(before)) {
      const metric = selectorMetric(before, before.length - 1);
      return { kind: 'labelName', from, prefix, metrics: metric ? [metric] : allMetrics, inBraces: true };
    }
    return { kind: 'labelName', from, prefix, metrics: allMetrics, inBraces: false };
  }
  if (insideBrackets(before)) {
    return { kind: 'duration', from, prefix };
  }
  if (prev?.type === 'keyword' && prev.text === 'offset') return { kind: 'duration', from, prefix };
  if (prev?.type === 'at') return { kind: 'atModifier', from, prefix };
  if (typing?.type === 'duration') return { kind: 'none' };

  const afterExpression = !!prev && (
    prev.type === 'metric' || prev.type === 'number' || prev.type === 'string' || prev.type === 'duration' ||
    (prev.type === 'paren' && prev.text === ')') || (prev.type === 'brace' && prev.text === '}') ||
    (prev.type === 'bracket' && prev.text === ']'));
  return { kind: 'expression', from, prefix, afterExpression };
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

// True when the tokens end inside an open {...}.
function insideBraces(tokens: Token[]): boolean {
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'brace') depth += t.text === '{' ? 1 : -1;
    if (depth < 0) depth = 0;
  }
  return depth > 0;
}

function insideBrackets(tokens: Token[]): boolean {
  let depth = 0;
  for (const t of tokens) {
    if (t.type === 'bracket') depth += t.text === '[' ? 1 : -1;
    if (depth < 0) depth = 0;
  }
  return depth > 0;
}

// At a place where a label name goes: just after "{" or "," inside braces, or inside a grouping
// list (by (...), on (...)), with nothing typed yet.
function inLabelPosition(tokens: Token[]): boolean {
  let i = tokens.length - 1;
  while (i >= 0 && tokens[i].type === 'ws') i--;
  if (i < 0) return false;
  const t = tokens[i];
  if (insideBraces(tokens)) return (t.type === 'brace' && t.text === '{') || t.type === 'comma';
  // grouping list: walk back to the "(" and check the keyword before it
  let j = i;
  while (j >= 0 && (tokens[j].type === 'label' || tokens[j].type === 'comma' || tokens[j].type === 'ws')) j--;
  if (j < 0 || tokens[j].type !== 'paren' || tokens[j].text !== '(') return false;
  if (!(t.type === 'comma' || (t.type === 'paren' && t.text === '('))) return false;
  let k = j - 1;
  while (k >= 0 && tokens[k].type === 'ws') k--;
  return k >= 0 && tokens[k].type === 'keyword' && GROUPING_KW.has(tokens[k].text);
}

// The metric name of the selector whose braces contain token index `at`: the identifier before
// the "{", or a __name__="..." matcher inside.
function selectorMetric(tokens: Token[], at: number): string | undefined {
  let depth = 0;
  for (let i = Math.min(at, tokens.length - 1); i >= 0; i--) {
    const t = tokens[i];
    if (t.type === 'brace' && t.text === '}') depth++;
    if (t.type === 'brace' && t.text === '{') {
      if (depth > 0) { depth--; continue; }
      let k = i - 1;
      while (k >= 0 && tokens[k].type === 'ws') k--;
      if (k >= 0 && tokens[k].type === 'metric') return tokens[k].text;
      // {__name__="x"}
      for (let m = i + 1; m + 2 < tokens.length; m++) {
        if (tokens[m].type === 'label' && tokens[m].text === '__name__' && tokens[m + 1].type === 'match' && tokens[m + 1].text === '=' && tokens[m + 2].type === 'string') {
          return tokens[m + 2].text.slice(1, -1);
        }
      }
      return undefined;
    }
  }
  return undefined;
}

// "1:47: parse error: ..." -> the 0-based offset in `text`, or null.
export function errorOffset(message: string, text: string): number | null {
  const m = /^(\d+):(\d+):/.exec(message);
  if (!m) return null;
  const line = parseInt(m[1], 10);
  const col = parseInt(m[2], 10);
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) return null;
  let off = 0;
  for (let i = 0; i < line - 1; i++) off += lines[i].length + 1;
  return Math.min(text.length, off + Math.max(0, col - 1));
}
