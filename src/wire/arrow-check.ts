/**
 * Bounds checks on an Arrow IPC stream before apache-arrow reads it. arrow-js trusts the stream: bytes
 * that are not a stream come back as an empty table, a corrupt flatbuffer vector length makes it build
 * millions of objects, a corrupt row count makes it allocate gigabytes, and a child field pointing back at
 * its parent recurses without end. Peers are not trusted, so this walks the message framing and the parts
 * of the flatbuffer metadata arrow-js decodes, and bounds every length by the bytes that actually arrived.
 * Layout per message (Arrow "encapsulated message format"): 0xFFFFFFFF, int32 metadata length, a
 * flatbuffer `Message`, then `bodyLength` body bytes; the stream ends with 0xFFFFFFFF 0x00000000.
 */
import { MalformedFrameError } from './errors.js';

const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;
const TYPE_UNION = 14;
// Deeper than any real schema (nested lists of structs), shallow enough to stop cyclic metadata quickly.
const MAX_FIELD_DEPTH = 64;
// The smallest column carrying data uses one bit per row, so an honest batch has at most 8 rows per body
// byte; the slack admits small batches of Null-typed columns, which have no body at all.
const ROW_SLACK = 4096;

function bad(what: string): never {
  throw new MalformedFrameError(`arrow payload: ${what}`);
}

/** Bounds-checked reader over one flatbuffer (the metadata of one message). */
class FlatBuffer {
  /** Tables visited; a DAG of shared offsets cannot make the walk (or arrow-js after it) exponential. */
  private visits = 0;
  constructor(
    private readonly b: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  private need(pos: number, size: number, what: string): void {
    if (pos < this.start || pos + size > this.end)
      bad(`metadata ${what} at ${pos - this.start} is out of bounds`);
  }

  u8(pos: number): number {
    return this.b[pos];
  }

  u16(pos: number): number {
    return this.b[pos] | (this.b[pos + 1] << 8);
  }

  i32(pos: number): number {
    return this.b[pos] | (this.b[pos + 1] << 8) | (this.b[pos + 2] << 16) | (this.b[pos + 3] << 24);
  }

  /** A non-negative int64 that must be a safe integer. */
  i64(pos: number, what: string): number {
    const lo = this.i32(pos) >>> 0;
    const hi = this.i32(pos + 4);
    if (hi < 0 || hi > 0x1f_ffff) bad(`${what} is out of range`);
    return hi * 0x1_0000_0000 + lo;
  }

  root(): number {
    this.need(this.start, 4, 'root offset');
    return this.table(this.start + (this.i32(this.start) >>> 0));
  }

  /** Checks a table and its vtable are in bounds; returns the table position. */
  table(pos: number): number {
    if (++this.visits > (this.end - this.start) / 4 + 16)
      bad('metadata references more tables than it can hold');
    this.need(pos, 4, 'table');
    const vt = pos - this.i32(pos);
    this.need(vt, 4, 'vtable');
    const vtSize = this.u16(vt);
    if (vtSize < 4 || vtSize % 2 !== 0) bad(`metadata vtable size ${vtSize} is invalid`);
    this.need(vt, vtSize, 'vtable');
    this.need(pos, this.u16(vt + 2), 'table body');
    return pos;
  }

  /** Absolute position of field `i` of the table at `pos`, or 0 when absent. */
  field(pos: number, i: number, size: number): number {
    const vt = pos - this.i32(pos);
    const slot = 4 + 2 * i;
    if (slot >= this.u16(vt)) return 0;
    const off = this.u16(vt + slot);
    if (off === 0) return 0;
    this.need(pos + off, size, 'field');
    return pos + off;
  }

  /** Target of an offset field (sub-table, vector or string), or 0 when absent. */
  ref(pos: number, i: number): number {
    const f = this.field(pos, i, 4);
    return f === 0 ? 0 : f + (this.i32(f) >>> 0);
  }

  /** Element count of the vector at field `i`, after checking all its elements are in bounds. */
  vector(pos: number, i: number, elemSize: number, what: string): { at: number; length: number } {
    const v = this.ref(pos, i);
    if (v === 0) return { at: 0, length: 0 };
    this.need(v, 4, what);
    const length = this.i32(v) >>> 0;
    if (length * elemSize > this.end - v - 4) bad(`metadata ${what} claims ${length} entries`);
    return { at: v + 4, length };
  }
}

function checkKeyValues(fb: FlatBuffer, table: number, i: number): void {
  const kv = fb.vector(table, i, 4, 'custom metadata');
  for (let k = 0; k < kv.length; k++) {
    const at = kv.at + 4 * k;
    const entry = fb.table(at + (fb.i32(at) >>> 0));
    fb.vector(entry, 0, 1, 'metadata key');
    fb.vector(entry, 1, 1, 'metadata value');
  }
}

function checkField(fb: FlatBuffer, field: number, depth: number): void {
  if (depth > MAX_FIELD_DEPTH) bad(`schema nests fields deeper than ${MAX_FIELD_DEPTH} levels`);
  fb.vector(field, 0, 1, 'field name');
  const typeTag = fb.field(field, 2, 1);
  const type = fb.ref(field, 3);
  if (type !== 0) {
    fb.table(type);
    if (typeTag !== 0 && fb.u8(typeTag) === TYPE_UNION) fb.vector(type, 1, 4, 'union type ids');
  }
  const dictionary = fb.ref(field, 4);
  if (dictionary !== 0) {
    fb.table(dictionary);
    const indexType = fb.ref(dictionary, 1);
    if (indexType !== 0) fb.table(indexType);
  }
  const children = fb.vector(field, 5, 4, 'field children');
  for (let k = 0; k < children.length; k++) {
    const at = children.at + 4 * k;
    checkField(fb, fb.table(at + (fb.i32(at) >>> 0)), depth + 1);
  }
  checkKeyValues(fb, field, 6);
}

function checkSchema(fb: FlatBuffer, schema: number): void {
  const fields = fb.vector(schema, 1, 4, 'schema fields');
  for (let k = 0; k < fields.length; k++) {
    const at = fields.at + 4 * k;
    checkField(fb, fb.table(at + (fb.i32(at) >>> 0)), 1);
  }
  checkKeyValues(fb, schema, 2);
  fb.vector(schema, 3, 8, 'schema features');
}

function checkRecordBatch(fb: FlatBuffer, batch: number, bodyLength: number, kind: string): void {
  const maxRows = bodyLength * 8 + ROW_SLACK;
  const lengthAt = fb.field(batch, 0, 8);
  const rows = lengthAt === 0 ? 0 : fb.i64(lengthAt, `${kind} row count`);
  if (rows > maxRows) bad(`${kind} row count ${rows} exceeds what ${bodyLength} body bytes can hold`);
  const nodes = fb.vector(batch, 1, 16, `${kind} field nodes`);
  for (let k = 0; k < nodes.length; k++) {
    const length = fb.i64(nodes.at + 16 * k, `${kind} node length`);
    const nulls = fb.i64(nodes.at + 16 * k + 8, `${kind} node null count`);
    if (length > maxRows) bad(`${kind} node length ${length} exceeds what ${bodyLength} body bytes can hold`);
    if (nulls > length) bad(`${kind} node null count ${nulls} exceeds its length ${length}`);
  }
  const buffers = fb.vector(batch, 2, 16, `${kind} buffers`);
  for (let k = 0; k < buffers.length; k++) {
    const offset = fb.i64(buffers.at + 16 * k, `${kind} buffer offset`);
    const length = fb.i64(buffers.at + 16 * k + 8, `${kind} buffer length`);
    if (offset + length > bodyLength)
      bad(`${kind} buffer [${offset}, +${length}) lies outside the ${bodyLength}-byte body`);
  }
  if (fb.ref(batch, 3) !== 0) bad(`${kind} is compressed (not supported)`);
  fb.vector(batch, 4, 8, `${kind} variadic buffer counts`);
}

/** Throws MalformedFrameError unless `b` is an Arrow IPC stream whose metadata fits the bytes that arrived. */
export function checkArrowStream(b: Uint8Array): void {
  const n = b.byteLength;
  let pos = 0;
  let sawSchema = false;
  for (;;) {
    if (pos + 8 > n) bad(`stream ends at byte ${n} without an end-of-stream marker`);
    const marker = (b[pos] & b[pos + 1] & b[pos + 2] & b[pos + 3]) === 0xff;
    if (!marker) bad(`no continuation marker at byte ${pos} (not an Arrow IPC stream)`);
    const metaLength = (b[pos + 4] | (b[pos + 5] << 8) | (b[pos + 6] << 16) | (b[pos + 7] << 24)) >>> 0;
    pos += 8;
    if (metaLength === 0) break;
    if (metaLength > n - pos) bad(`message metadata of ${metaLength} bytes at byte ${pos} runs past the end`);
    const fb = new FlatBuffer(b, pos, pos + metaLength);
    const message = fb.root();
    const typeAt = fb.field(message, 1, 1);
    const headerType = typeAt === 0 ? 0 : fb.u8(typeAt);
    const bodyAt = fb.field(message, 3, 8);
    const bodyLength = bodyAt === 0 ? 0 : fb.i64(bodyAt, 'message body length');
    if (bodyLength > n - pos - metaLength) bad(`message body of ${bodyLength} bytes runs past the end`);
    const header = fb.ref(message, 2);
    if (header === 0) bad('message has no header');
    fb.table(header);
    checkKeyValues(fb, message, 4);
    if (headerType === HEADER_SCHEMA) {
      if (sawSchema) bad('stream has a second schema message');
      checkSchema(fb, header);
      sawSchema = true;
    } else if (headerType === HEADER_RECORD_BATCH || headerType === HEADER_DICTIONARY_BATCH) {
      if (!sawSchema) bad('record batch before the schema message');
      let batch = header;
      if (headerType === HEADER_DICTIONARY_BATCH) {
        batch = fb.ref(header, 1);
        if (batch === 0) bad('dictionary batch without data');
        fb.table(batch);
      }
      checkRecordBatch(
        fb,
        batch,
        bodyLength,
        headerType === HEADER_RECORD_BATCH ? 'record batch' : 'dictionary batch',
      );
    } else {
      bad(`message type ${headerType} cannot appear in a table stream`);
    }
    pos += metaLength + bodyLength;
  }
  if (pos !== n) bad(`${n - pos} bytes follow the end-of-stream marker`);
  if (!sawSchema) bad('stream has no schema message');
}
