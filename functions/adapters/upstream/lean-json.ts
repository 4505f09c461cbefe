// An incremental JSON parser for /status bodies that leaves an output's long strings in the raw bytes.
import { imageHead } from '../../core/artifacts.ts';
import { DecodedImage, OmittedText } from '../../core/lean-output.ts';

export interface LeanJsonOptions {
  /** Strings under the root's `output` longer than this (in JSON text bytes) are not materialised. */
  leanBytes: number;
}

/** The body is not JSON; the message says where. */
export class LeanJsonError extends Error {}

enum State {
  Value,
  ValueOrClose,
  KeyOrClose,
  Key,
  Colon,
  After,
  String,
  Token,
  Done,
}

enum Mode {
  Collect,
  Omit,
  Image,
}

interface Frame {
  container: Record<string, unknown> | unknown[];
  isArray: boolean;
  key: string | undefined;
  /** Whether strings inside may be left out (the frame is `output` or inside it). */
  lean: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** A string's first bytes, enough to tell an image (data-URI header plus the base64 head). */
const HEAD_BYTES = 256;

/** JSON forbids raw control characters in strings; JSON.parse then says so. */
function hasControlByte(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) < 0x20) return true;
  return false;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isTokenByte = (c: number) =>
  (c >= 0x30 && c <= 0x39) ||
  (c >= 0x61 && c <= 0x7a) ||
  c === 0x2d ||
  c === 0x2b ||
  c === 0x2e ||
  c === 0x45;

/**
 * Fed the body chunk by chunk as it arrives; `end()` gives the value JSON.parse would give, except that a
 * string under `output` longer than `leanBytes` becomes an OmittedText, or a DecodedImage when it is a base64
 * or data-URI image (decoded as it streams, so neither its text nor a second copy is ever held). Long strings
 * are scanned with native byte search, never byte by byte in JavaScript.
 *
 * Not checked here: UTF-8 (the reader decodes the body with a fatal decoder alongside), and control
 * characters inside omitted strings (their text is never read; result.json keeps it as sent).
 */
export class LeanJsonParser {
  private readonly leanBytes: number;
  private state = State.Value;
  private readonly stack: Frame[] = [];
  private root: unknown;
  private offset = 0;
  private leftOut = false;
  // The string being read.
  private isKey = false;
  private mode = Mode.Collect;
  private pieces: Uint8Array[] = [];
  private stringBytes = 0;
  private escaped = false;
  private escapeNext = false;
  private image:
    | { kind: { contentType: string; ext: string }; decoded: Uint8Array[]; carry: string }
    | undefined;
  // The number or literal being read.
  private token = '';

  constructor(options: LeanJsonOptions) {
    this.leanBytes = options.leanBytes;
  }

  /** True when some string was left out or decoded: the value is not what JSON.parse would give. */
  get lean(): boolean {
    return this.leftOut;
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === State.String) {
        i = this.readString(chunk, i);
        continue;
      }
      const c = chunk[i] as number;
      if (this.state === State.Token) {
        if (isTokenByte(c)) {
          this.token += String.fromCharCode(c);
          i++;
          continue;
        }
        this.endToken();
        continue;
      }
      i++;
      if (isSpace(c)) continue;
      this.structural(c);
    }
    this.offset += n;
  }

  end(): unknown {
    if (this.state === State.Token && this.stack.length === 0) this.endToken();
    if (this.state !== State.Done) this.fail('the body ends before the JSON value does');
    return this.root;
  }

  private structural(c: number): void {
    switch (this.state) {
      case State.ValueOrClose:
        if (c === 0x5d) {
          this.close(true);
          return;
        }
        {
          this.value(c);
          return;
        }
      case State.Value: {
        this.value(c);
        return;
      }
      case State.KeyOrClose:
        if (c === 0x7d) {
          this.close(false);
          return;
        }
        {
          this.key(c);
          return;
        }
      case State.Key: {
        this.key(c);
        return;
      }
      case State.Colon:
        if (c !== 0x3a) this.fail('expected ":"');
        this.state = State.Value;
        return;
      case State.After: {
        const top = this.stack[this.stack.length - 1] as Frame;
        if (c === 0x2c) {
          this.state = top.isArray ? State.Value : State.Key;
          return;
        }
        if (c === 0x5d && top.isArray) {
          this.close(true);
          return;
        }
        if (c === 0x7d && !top.isArray) {
          this.close(false);
          return;
        }
        this.fail('expected "," or the end of a container');
        return;
      }
      default: {
        this.fail('unexpected data after the JSON value');
        return;
      }
    }
  }

  private value(c: number): void {
    if (c === 0x7b || c === 0x5b) {
      const isArray = c === 0x5b;
      this.stack.push({ container: isArray ? [] : {}, isArray, key: undefined, lean: this.leanHere() });
      this.state = isArray ? State.ValueOrClose : State.KeyOrClose;
      return;
    }
    if (c === QUOTE) {
      this.beginString(false);
      return;
    }
    if (isTokenByte(c)) {
      this.token = String.fromCharCode(c);
      this.state = State.Token;
      return;
    }
    this.fail(`unexpected ${JSON.stringify(String.fromCharCode(c))}`);
  }

  private key(c: number): void {
    if (c !== QUOTE) this.fail('expected a key');
    this.beginString(true);
  }

  /** Whether a value starting now sits under the root's `output`. */
  private leanHere(): boolean {
    const top = this.stack[this.stack.length - 1];
    if (!top) return false;
    return top.lean || (this.stack.length === 1 && !top.isArray && top.key === 'output');
  }

  private close(isArray: boolean): void {
    const frame = this.stack.pop() as Frame;
    if (frame.isArray !== isArray) this.fail('mismatched brackets');
    this.emit(frame.container);
  }

  private emit(value: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (!top) {
      this.root = value;
      this.state = State.Done;
      return;
    }
    if (top.isArray) (top.container as unknown[]).push(value);
    else {
      const key = top.key as string;
      // A plain assignment of "__proto__" would set the prototype; JSON.parse makes it an own property.
      if (key === '__proto__')
        Object.defineProperty(top.container, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else (top.container as Record<string, unknown>)[key] = value;
    }
    this.state = State.After;
  }

  private endToken(): void {
    let value: unknown;
    try {
      value = JSON.parse(this.token);
    } catch {
      this.fail(`not a JSON value: ${JSON.stringify(this.token.slice(0, 40))}`);
    }
    this.token = '';
    this.emit(value);
  }

  private beginString(isKey: boolean): void {
    this.state = State.String;
    this.isKey = isKey;
    this.mode = Mode.Collect;
    this.pieces = [];
    this.stringBytes = 0;
    this.escaped = false;
    this.escapeNext = false;
    this.image = undefined;
  }

  /** Reads string bytes from `at`; returns where reading goes on (past the closing quote, or the chunk's end). */
  private readString(chunk: Uint8Array, at: number): number {
    let i = at;
    if (this.escapeNext) {
      // The previous chunk ended on a backslash: this byte is escaped, whatever it is.
      this.escapeNext = false;
      i++;
    }
    let quote = chunk.indexOf(QUOTE, i);
    let end = chunk.length;
    for (;;) {
      if (quote !== -1 && quote < i) quote = chunk.indexOf(QUOTE, i);
      const stop = quote === -1 ? chunk.length : quote;
      const slash = i < stop ? chunk.subarray(i, stop).indexOf(BACKSLASH) : -1;
      if (slash === -1) {
        end = stop;
        break;
      }
      this.escaped = true;
      const b = i + slash;
      if (b + 1 >= chunk.length) {
        this.escapeNext = true;
        end = chunk.length;
        break;
      }
      i = b + 2;
    }
    this.take(chunk.subarray(at, end));
    if (end === chunk.length) return end;
    this.endString();
    return end + 1;
  }

  private take(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.stringBytes += bytes.length;
    if (this.mode === Mode.Omit) return;
    if (this.mode === Mode.Image) {
      if (this.escaped) {
        this.omit();
        return;
      }
      this.decode(bytes);
      return;
    }
    this.pieces.push(bytes);
    if (!this.isKey && this.stringBytes > this.leanBytes && this.leanHere()) this.goLean();
  }

  /** A string under `output` grew past leanBytes: an image is decoded from here on, anything else left out. */
  private goLean(): void {
    const collected = this.pieces;
    this.pieces = [];
    this.leftOut = true;
    const head = Buffer.concat(collected).subarray(0, HEAD_BYTES).toString('latin1');
    const kind = this.escaped ? undefined : imageHead(head);
    if (!kind) {
      this.omit();
      return;
    }
    this.mode = Mode.Image;
    this.image = { kind: { contentType: kind.contentType, ext: kind.ext }, decoded: [], carry: '' };
    let skip = kind.base64At;
    for (const piece of collected) {
      if (skip >= piece.length) {
        skip -= piece.length;
        continue;
      }
      this.decode(piece.subarray(skip));
      skip = 0;
    }
  }

  private omit(): void {
    this.mode = Mode.Omit;
    this.pieces = [];
    this.image = undefined;
  }

  /** Base64 decodes in whole groups of four, so pieces decode exactly as the whole string would. */
  private decode(bytes: Uint8Array): void {
    const image = this.image as NonNullable<LeanJsonParser['image']>;
    const text = image.carry + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    const whole = text.length - (text.length % 4);
    image.carry = text.slice(whole);
    if (whole > 0) image.decoded.push(Buffer.from(text.slice(0, whole), 'base64'));
  }

  private endString(): void {
    if (this.mode === Mode.Omit) {
      this.emit(new OmittedText(this.stringBytes));
      return;
    }
    if (this.mode === Mode.Image) {
      const image = this.image as NonNullable<LeanJsonParser['image']>;
      if (image.carry) image.decoded.push(Buffer.from(image.carry, 'base64'));
      this.emit(new DecodedImage(image.decoded, image.kind));
      return;
    }
    const bytes = this.pieces.length === 1 ? (this.pieces[0] as Uint8Array) : Buffer.concat(this.pieces);
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
    let value: string = text;
    // JSON.parse both undoes escapes and refuses what JSON forbids in a string (raw control characters).
    if (this.escaped || hasControlByte(bytes)) {
      try {
        value = JSON.parse(`"${text}"`) as string;
      } catch {
        this.fail('a string that is not valid JSON');
      }
    }
    this.pieces = [];
    if (!this.isKey) {
      this.emit(value);
      return;
    }
    (this.stack[this.stack.length - 1] as Frame).key = value;
    this.state = State.Colon;
  }

  private fail(message: string): never {
    throw new LeanJsonError(`${message} (near byte ${this.offset})`);
  }
}
