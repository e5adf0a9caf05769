import { EnvironmentError } from '../errors.js';

/** A Slurm node list (`SLURM_STEP_NODELIST`, `SLURM_JOB_NODELIST`) that does not parse. */
export class NodelistSyntaxError extends EnvironmentError {
  override name = 'NodelistSyntaxError';
  constructor(
    readonly list: string,
    readonly why: string,
    readonly variable = 'node list',
  ) {
    super(`${variable}=${JSON.stringify(list)} is not a Slurm node list: ${why}`);
  }
}

/** One bracket's values as written: each range keeps the zero padding of its lower bound. */
type Choices = string[];

/** A host pattern such as `rack[1-2]-n[01,03]`: literal text and bracket groups, alternating. */
type Pattern = Array<string | Choices>;

/** Above this many names an expansion is refused: a typo like `n[0-99999999]` must not eat the memory. */
export const MAX_EXPANDED_HOSTS = 1_000_000;

function parseRangeList(body: string, fail: (why: string) => never, budget: { left: number }): Choices {
  const out: Choices = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) fail(`"[${body}]" holds "${part}", which is neither a number nor a range like 01-03`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) fail(`range ${part} runs backwards`);
    // Slurm pads every number of a range to the width of its lower bound when that has leading zeros.
    const width = m[1].length > 1 && m[1].startsWith('0') ? m[1].length : 0;
    budget.left -= hi - lo + 1;
    if (budget.left < 0) fail(`it names more than ${MAX_EXPANDED_HOSTS} hosts`);
    for (let v = lo; v <= hi; v++) out.push(String(v).padStart(width, '0'));
  }
  return out;
}

/** Splits at the commas outside brackets, and each item into literal text and bracket groups. */
function parsePatterns(list: string, variable: string | undefined): Pattern[] {
  const fail = (why: string): never => {
    throw new NodelistSyntaxError(list, why, variable);
  };
  const budget = { left: MAX_EXPANDED_HOSTS };
  const patterns: Pattern[] = [];
  let current: Pattern = [];
  let text = '';
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') {
      const close = list.indexOf(']', i);
      if (close === -1) fail(`the "[" at character ${i + 1} is never closed`);
      const body = list.slice(i + 1, close);
      if (body.includes('[')) fail(`brackets nest at character ${i + 1}`);
      if (body === '') fail(`empty brackets at character ${i + 1}`);
      if (text) current.push(text);
      text = '';
      current.push(parseRangeList(body, fail, budget));
      i = close;
    } else if (c === ']') {
      fail(`the "]" at character ${i + 1} closes nothing`);
    } else if (c === ',') {
      if (text) current.push(text);
      if (current.length === 0) fail(`an empty name before the comma at character ${i + 1}`);
      patterns.push(current);
      current = [];
      text = '';
    } else if (/\s/.test(c)) {
      fail(`whitespace at character ${i + 1}`);
    } else {
      text += c;
    }
  }
  if (text) current.push(text);
  if (current.length > 0) patterns.push(current);
  else if (patterns.length > 0) fail('it ends with a comma');
  if (patterns.length === 0) fail('it is empty');
  return patterns;
}

function expandPattern(p: Pattern): string[] {
  let names = [''];
  for (const piece of p) {
    const next: string[] = [];
    // The leftmost bracket varies slowest, as `scontrol show hostnames` lists them.
    for (const prefix of names) {
      if (typeof piece === 'string') next.push(prefix + piece);
      else for (const v of piece) next.push(prefix + v);
    }
    names = next;
  }
  return names;
}

/**
 * Expands Slurm's compressed host list (`node[01-03,07]`, `a[1-2],b3`, `rack[1-2]-n[1-4]`) into host
 * names, in the order `scontrol show hostnames` prints them.
 */
export function expandNodelist(list: string, variable?: string): string[] {
  const patterns = parsePatterns(list, variable);
  const names: string[] = [];
  for (const p of patterns) {
    const some = expandPattern(p);
    if (names.length + some.length > MAX_EXPANDED_HOSTS) {
      throw new NodelistSyntaxError(list, `it names more than ${MAX_EXPANDED_HOSTS} hosts`, variable);
    }
    names.push(...some);
  }
  return names;
}

/** The first host of a Slurm host list, where task 0 of a block-distributed step runs. */
export function firstNode(list: string, variable?: string): string {
  const [first] = parsePatterns(list, variable);
  return first.map((piece) => (typeof piece === 'string' ? piece : piece[0])).join('');
}
