/**
 * The byte-level CSV number parser: complete lines of `ncols` comma-separated numbers, parsed straight
 * from the bytes into Float64Array columns (no per-line strings). Integers are exact up to 2^53, which
 * covers every node id of the inputs (Friendster's ids stop at ~124 M). Decimals take the exact fast
 * path (mantissa <= 2^53 and |exponent| <= 22: one correctly rounded multiply or divide, the same
 * double as `Number()`), and anything longer falls back to `Number()` on that one field.
 */

const POW10 = new Float64Array(23);
for (let i = 0; i < 23; i++) POW10[i] = 10 ** i;
const MAX_EXACT = 2 ** 53;

/** Why a line was rejected (index into BAD_LINE_REASONS). */
export const BAD_NOT_A_NUMBER = 1;
export const BAD_TOO_FEW = 2;
export const BAD_TOO_MANY = 3;
export const BAD_NOT_INTEGER = 4;
export const BAD_TOO_LARGE = 5;

export function badLineReason(code: number, ncols: number): string {
  switch (code) {
    case BAD_NOT_A_NUMBER:
      return 'a field is not a number';
    case BAD_TOO_FEW:
      return `fewer than ${ncols} fields`;
    case BAD_TOO_MANY:
      return `more than ${ncols} fields`;
    case BAD_NOT_INTEGER:
      return 'a field is not an integer (the column type is int64)';
    case BAD_TOO_LARGE:
      return 'an integer is beyond 2^53 and cannot be held exactly';
    default:
      return 'bad line';
  }
}

/** Outcome of one parseCsvLines call. */
export const PARSE_DONE = 0;
export const PARSE_FULL = 1;
export const PARSE_BAD_LINE = 2;

/** Mutable cursor shared between calls, so the hot loop allocates nothing. */
export interface ParseState {
  /** Next byte to parse (out). */
  pos: number;
  /** Rows filled in the columns (in/out). */
  row: number;
  /** Rows the columns can hold. */
  capacity: number;
  /** On PARSE_BAD_LINE: the bad line's bytes [badStart, badEnd) and the reason code. */
  badStart: number;
  badEnd: number;
  badReason: number;
}

export function newParseState(capacity: number): ParseState {
  return { pos: 0, row: 0, capacity, badStart: 0, badEnd: 0, badReason: 0 };
}

/** Byte index of the end of the line holding `pos` (its '\n', or `to`). */
export function lineEnd(buf: Uint8Array, pos: number, to: number): number {
  const i = buf.indexOf(10, pos);
  return i < 0 || i > to ? to : i;
}

function slowNumber(buf: Uint8Array, a: number, b: number): number {
  let s = '';
  for (let i = a; i < b; i++) s += String.fromCharCode(buf[i]);
  return Number(s);
}

/**
 * Parses the lines in buf[from, to) into `cols` from row `st.row` on. `to` must be a line end (just
 * after a '\n') or the end of the input; blank lines are skipped. Returns PARSE_DONE when it reached
 * `to`, PARSE_FULL when the columns are full (st.pos = first unparsed line), PARSE_BAD_LINE with the
 * line in st.badStart/badEnd (st.pos = the start of that line).
 */
export function parseCsvLines(
  buf: Uint8Array,
  from: number,
  to: number,
  ncols: number,
  intOnly: boolean,
  cols: Float64Array[],
  st: ParseState,
): number {
  let pos = from;
  let row = st.row;
  const cap = st.capacity;
  while (pos < to) {
    const lineStart = pos;
    let c = buf[pos];
    if (c === 10) {
      pos++;
      continue;
    }
    if (c === 13 && (pos + 1 === to || buf[pos + 1] === 10)) {
      pos += pos + 1 === to ? 1 : 2;
      continue;
    }
    if (row >= cap) {
      st.pos = lineStart;
      st.row = row;
      return PARSE_FULL;
    }
    let bad = 0;
    let col = 0;
    for (;;) {
      while (pos < to && (buf[pos] === 32 || buf[pos] === 9)) pos++;
      const fieldStart = pos;
      let neg = false;
      if (pos < to) {
        c = buf[pos];
        if (c === 45) {
          neg = true;
          pos++;
        } else if (c === 43) pos++;
      }
      let mant = 0;
      let digits = 0;
      let exp10 = 0;
      while (pos < to) {
        const d = buf[pos] - 48;
        if (d < 0 || d > 9) break;
        mant = mant * 10 + d;
        digits++;
        pos++;
      }
      let isInt = true;
      if (pos < to && buf[pos] === 46) {
        isInt = false;
        pos++;
        while (pos < to) {
          const d = buf[pos] - 48;
          if (d < 0 || d > 9) break;
          mant = mant * 10 + d;
          digits++;
          exp10--;
          pos++;
        }
      }
      if (digits === 0) {
        bad = BAD_NOT_A_NUMBER;
        break;
      }
      if (pos < to && (buf[pos] | 32) === 101) {
        isInt = false;
        pos++;
        let eneg = false;
        if (pos < to && (buf[pos] === 45 || buf[pos] === 43)) {
          eneg = buf[pos] === 45;
          pos++;
        }
        let e = 0;
        let edigits = 0;
        while (pos < to) {
          const d = buf[pos] - 48;
          if (d < 0 || d > 9) break;
          if (e < 100000) e = e * 10 + d;
          edigits++;
          pos++;
        }
        if (edigits === 0) {
          bad = BAD_NOT_A_NUMBER;
          break;
        }
        exp10 += eneg ? -e : e;
      }
      let v: number;
      if (intOnly) {
        if (!isInt) {
          bad = BAD_NOT_INTEGER;
          break;
        }
        if (mant > MAX_EXACT) {
          bad = BAD_TOO_LARGE;
          break;
        }
        v = mant;
      } else if (mant <= MAX_EXACT && exp10 >= -22 && exp10 <= 22) {
        v = exp10 < 0 ? mant / POW10[-exp10] : exp10 > 0 ? mant * POW10[exp10] : mant;
      } else {
        v = Math.abs(slowNumber(buf, fieldStart, pos));
      }
      cols[col][row] = neg ? -v : v;
      col++;
      while (pos < to && (buf[pos] === 32 || buf[pos] === 9)) pos++;
      if (pos === to) break;
      c = buf[pos];
      if (c === 44) {
        if (col === ncols) {
          bad = BAD_TOO_MANY;
          break;
        }
        pos++;
        continue;
      }
      if (c === 10) {
        pos++;
        break;
      }
      if (c === 13 && (pos + 1 === to || buf[pos + 1] === 10)) {
        pos += pos + 1 === to ? 1 : 2;
        break;
      }
      bad = BAD_NOT_A_NUMBER;
      break;
    }
    if (bad === 0 && col < ncols) bad = BAD_TOO_FEW;
    if (bad !== 0) {
      st.pos = lineStart;
      st.row = row;
      st.badStart = lineStart;
      const e = lineEnd(buf, lineStart, to);
      st.badEnd = e > lineStart && buf[e - 1] === 13 ? e - 1 : e;
      st.badReason = bad;
      return PARSE_BAD_LINE;
    }
    row++;
  }
  st.pos = pos;
  st.row = row;
  return PARSE_DONE;
}
