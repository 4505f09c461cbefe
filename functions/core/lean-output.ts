// Stand-ins for the long strings of an output that a streamed /status read does not materialise.

/**
 * A long string of an output left in the raw bytes (result.json keeps it): nothing capture does reads its text.
 * Its fields are private so walkers of the output (URL search, artifacts) see an empty object, and it refuses
 * to be serialised: a document rebuilt from a lean status would silently lose the text.
 */
export class OmittedText {
  readonly #bytes: number;
  constructor(bytes: number) {
    this.#bytes = bytes;
  }
  /** Length of the string as it stands in the JSON text (escapes included). */
  get bytes(): number {
    return this.#bytes;
  }
  toJSON(): never {
    throw new TypeError('a lean status cannot be serialised: read the whole status');
  }
}

/** A long base64 (or data-URI) image of an output, decoded while it streamed in. */
export class DecodedImage {
  readonly #data: readonly Uint8Array[];
  readonly #bytes: number;
  readonly #contentType: string;
  readonly #ext: string;
  constructor(data: readonly Uint8Array[], kind: { contentType: string; ext: string }) {
    this.#data = data;
    this.#bytes = data.reduce((n, d) => n + d.length, 0);
    this.#contentType = kind.contentType;
    this.#ext = kind.ext;
  }
  get data(): readonly Uint8Array[] {
    return this.#data;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get contentType(): string {
    return this.#contentType;
  }
  get ext(): string {
    return this.#ext;
  }
  toJSON(): never {
    throw new TypeError('a lean status cannot be serialised: read the whole status');
  }
}

/** Where a lean status keeps the way to its whole value (a symbol: never serialised, copied by spreads). */
const WHOLE: unique symbol = Symbol('whole status');

/** Marks `status` as lean: `whole` parses its raw bytes in full (memory-hungry; for the rare reader that needs it). */
export function attachWhole<T extends object>(status: T, whole: () => T): void {
  (status as { [WHOLE]?: () => T })[WHOLE] = whole;
}

/** The status with every output string as text: `status` itself unless it was read lean. */
export function wholeStatus<T extends object>(status: T): T {
  const whole = (status as { [WHOLE]?: () => T })[WHOLE];
  return whole ? whole() : status;
}

/** Whether `status` was read lean (some output strings are stand-ins). */
export const isLean = (status: object): boolean => WHOLE in status;
