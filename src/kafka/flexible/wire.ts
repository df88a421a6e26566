/**
 * Kafka's binary primitives for the flexible versions (KIP-482) lagbot sends itself: compact
 * strings and arrays (unsigned varint length + 1), tagged fields, UUIDs. Written here rather
 * than borrowed from kafkajs' Encoder/Decoder because its tagged-field reader skips one byte
 * too few when a field is present, and a response's tagged fields are the broker's to add.
 */

export class WireError extends Error {
  override name = 'KafkaWireError';
}

export class Writer {
  private chunks: Buffer[] = [];

  int8(value: number): this {
    const b = Buffer.alloc(1);
    b.writeInt8(value);
    return this.push(b);
  }

  int16(value: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    return this.push(b);
  }

  int32(value: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    return this.push(b);
  }

  /** Timestamps and offsets are within 2^53, so a number carries them exactly. */
  int64(value: number): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(value));
    return this.push(b);
  }

  bool(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  uvarint(value: number): this {
    const bytes: number[] = [];
    let v = value >>> 0;
    while (v >= 0x80) {
      bytes.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    bytes.push(v);
    return this.push(Buffer.from(bytes));
  }

  compactString(value: string): this {
    const bytes = Buffer.from(value, 'utf8');
    return this.uvarint(bytes.length + 1).push(bytes);
  }

  compactNullableString(value: string | null): this {
    return value === null ? this.uvarint(0) : this.compactString(value);
  }

  compactArray<T>(items: readonly T[], write: (w: this, item: T) => void): this {
    this.uvarint(items.length + 1);
    for (const item of items) write(this, item);
    return this;
  }

  compactNullableArray<T>(items: readonly T[] | null, write: (w: this, item: T) => void): this {
    return items === null ? this.uvarint(0) : this.compactArray(items, write);
  }

  /** No tagged fields: lagbot never sends any. */
  noTaggedFields(): this {
    return this.uvarint(0);
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private push(b: Buffer): this {
    this.chunks.push(b);
    return this;
  }
}

export class Reader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  // The primitives read the buffer in place: a subarray per field would be an object per
  // field, about 350,000 a check for the OffsetFetch answer of 1,000 groups' 50,000 offsets.
  int8(): number {
    return this.buffer.readInt8(this.skip(1));
  }

  int16(): number {
    return this.buffer.readInt16BE(this.skip(2));
  }

  int32(): number {
    return this.buffer.readInt32BE(this.skip(4));
  }

  /**
   * Offsets as numbers (see core/protocol.ts on precision); -1 stays -1. High word times
   * 2^32 plus the unsigned low word: one rounding of the exact value, as Number(BigInt)
   * does, without a BigInt per offset.
   */
  int64(): number {
    const at = this.skip(8);
    return this.buffer.readInt32BE(at) * 0x1_0000_0000 + this.buffer.readUInt32BE(at + 4);
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  uvarint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = this.buffer[this.skip(1)] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
      if (shift > 28) throw new WireError('unsigned varint longer than 5 bytes');
    }
  }

  compactString(): string {
    const s = this.compactNullableString();
    if (s === null) throw new WireError('null where the protocol has a non-nullable string');
    return s;
  }

  compactNullableString(): string | null {
    const length = this.uvarint();
    if (length === 0) return null;
    const start = this.skip(length - 1);
    return this.buffer.toString('utf8', start, start + length - 1);
  }

  compactArray<T>(read: (r: this) => T): T[] {
    const items = this.compactNullableArray(read);
    return items ?? [];
  }

  compactNullableArray<T>(read: (r: this) => T): T[] | null {
    const length = this.uvarint();
    if (length === 0) return null;
    const items: T[] = [];
    for (let i = 0; i < length - 1; i += 1) items.push(read(this));
    return items;
  }

  /** A UUID as Kafka prints it: base64url of the 16 bytes, as in `kafka-topics --describe`. */
  uuid(): string {
    return this.take(16).toString('base64url');
  }

  /** Skip every tagged field: count, then per field its tag, its byte length and its bytes. */
  taggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i += 1) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  get remaining(): number {
    return this.buffer.length - this.offset;
  }

  private take(n: number): Buffer {
    const start = this.skip(n);
    return this.buffer.subarray(start, start + n);
  }

  /** Moves past `n` bytes; returns where they start. */
  private skip(n: number): number {
    if (this.offset + n > this.buffer.length) throw new WireError(`response ends ${this.offset + n - this.buffer.length} byte(s) early`);
    const start = this.offset;
    this.offset += n;
    return start;
  }
}
