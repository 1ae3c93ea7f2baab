/**
 * Argument validation in one style (sharp's): `Expected <what> for <name> but received <value>`.
 *
 * Public functions validate here, once, with these words; the binding keeps only terse
 * memory-safety checks of its own (native/binding/args.h). TypeError = wrong type, or a value present/absent where it must not be; RangeError = right type,
 * wrong value (non-integer, out of range, wrong length, unknown name).
 * @module
 */
import { types } from 'node:util';

/** Largest size accepted for a dimension (the native core counts in 32-bit ints). */
export const MAX_DIM = 2147483647;

/** Named factors of an array length, e.g. `[['steps', 5], ['batch', 4], ['inputSize', 6]]`. */
export type Dims = ReadonlyArray<readonly [string, number]>;

/** Describes a value for an error message: `1.5 of type number`, `an Array of length 3`, … */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'symbol':
      return 'a value of type symbol';
    case 'function':
      return 'a function';
    case 'boolean':
    case 'number':
    case 'string':
    case 'bigint':
      return `${String(value)} of type ${typeof value}`;
  }
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (types.isTypedArray(value)) {
    return `${withArticle(value[Symbol.toStringTag])} of length ${value.length}`;
  }
  if (types.isArrayBuffer(value)) return 'an ArrayBuffer';
  if (types.isDataView(value)) return 'a DataView';
  return 'an object';
}

// "an Int32Array", "a Float32Array", "a Uint8Array" (U sounds like "you").
function withArticle(noun: string): string {
  return (/^[AEIOaeio]/.test(noun) ? 'an ' : 'a ') + noun;
}

/** `value` is `undefined` or `null`. */
export function isNullish(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

/** A required object: `Expected object for weights but received null`. */
export function expectObject(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`Expected object for ${name} but received ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** An optional object: `undefined`/`null` give `{}`. */
export function optionalObject(value: unknown, name: string): Record<string, unknown> {
  return isNullish(value) ? {} : expectObject(value, name);
}

/** An integer in [lo, hi]; `Expected positive integer …` when the range is [1, MAX_DIM]. */
export function intInRange(value: unknown, name: string, lo: number, hi: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= lo && value <= hi) return value;
  const expected = lo === 1 && hi === MAX_DIM ? 'positive integer' : `integer between ${lo} and ${hi}`;
  const message = `Expected ${expected} for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/** A positive integer dimension (1 … MAX_DIM). */
export function positiveInt(value: unknown, name: string): number {
  return intInRange(value, name, 1, MAX_DIM);
}

/** A positive number (Infinity allowed): `Expected positive number for bytes but received 0 of type number`. */
export function positiveNumber(value: unknown, name: string): number {
  if (typeof value === 'number' && value > 0) return value;
  const message = `Expected positive number for ${name} but received ${describe(value)}`;
  throw typeof value === 'number' ? new RangeError(message) : new TypeError(message);
}

/**
 * A product of sizes the native core indexes with 32-bit integers:
 * `Expected steps·batch of at most 2147483647 but received 4096000000 (steps·batch = 1000000·4096)`.
 */
export function boundedProduct(dims: Dims): number {
  const product = count(dims);
  if (product <= MAX_DIM) return product;
  const names = dims.map(([name]) => name).join('·');
  throw new RangeError(`Expected ${names} of at most ${MAX_DIM} but received ${product} (${formula(dims)})`);
}

/** Like {@link intInRange}; `undefined` gives `fallback`. */
export function optionalIntInRange(value: unknown, name: string, lo: number, hi: number, fallback: number): number {
  return value === undefined ? fallback : intInRange(value, name, lo, hi);
}

/** A boolean; `undefined` gives `fallback`. */
export function optionalBool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`Expected boolean for ${name} but received ${describe(value)}`);
  return value;
}

/** One of `choices`: TypeError when not a string, RangeError listing the choices otherwise. */
export function choice<T extends string>(value: unknown, name: string, choices: readonly T[]): T {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const message = `Expected one of ${choices.join(', ')} for ${name} but received ${describe(value)}`;
  throw typeof value === 'string' ? new RangeError(message) : new TypeError(message);
}

/** Like {@link choice}; `undefined` gives `fallback`. */
export function optionalChoice<T extends string, F>(value: unknown, name: string, choices: readonly T[], fallback: F): T | F {
  return value === undefined ? fallback : choice(value, name, choices);
}

/**
 * Rejects a key of `object` not in `known`, so a misspelt option (`batch_first` for `batchFirst`)
 * is an error rather than a silently ignored default:
 * `Expected one of bias, nonlinearity for RNNCell option but received bais of type string`.
 */
export function checkKnownKeys(object: object, owner: string, known: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) throw new TypeError(`Expected one of ${known.join(', ')} for ${owner} option but received ${describe(key)}`);
  }
}

/** An options argument: an object (`undefined`/`null` give `{}`) with only `known` keys ({@link checkKnownKeys}). */
export function checkOptions(options: unknown, owner: string, known: readonly string[], name = 'options'): Record<string, unknown> {
  const opts = optionalObject(options, name);
  checkKnownKeys(opts, owner, known);
  return opts;
}

/** Product of the factors. */
export function count(dims: Dims): number {
  return dims.reduce((product, [, n]) => product * n, 1);
}

/** `steps·batch·inputSize = 5·4·6`. */
export function formula(dims: Dims): string {
  return `${dims.map(([name]) => name).join('·')} = ${dims.map(([, n]) => n).join('·')}`;
}

/** A Float32Array of any length: `Expected Float32Array for input but received an Array of length 3`. */
export function anyFloat32(value: unknown, name: string): Float32Array {
  if (!types.isFloat32Array(value)) {
    throw new TypeError(`Expected Float32Array for ${name} but received ${describe(value)}`);
  }
  return value;
}

function lengthError(name: string, expected: number, why: string, actual: number): RangeError {
  return new RangeError(`Expected Float32Array of length ${expected} for ${name} (${why}) but received length ${actual}`);
}

/** A Float32Array of exactly `expected` floats, `why` explaining that length in words. */
export function float32(value: unknown, name: string, expected: number, why: string): Float32Array {
  const array = anyFloat32(value, name);
  if (array.length !== expected) throw lengthError(name, expected, why, array.length);
  return array;
}

/**
 * A Float32Array of exactly count(dims) floats:
 * `Expected Float32Array of length 120 for input (steps·batch·inputSize = 5·4·6) but received length 119`.
 */
export function float32Dims(value: unknown, name: string, dims: Dims): Float32Array {
  const array = anyFloat32(value, name);
  const expected = count(dims);
  if (array.length !== expected) throw lengthError(name, expected, formula(dims), array.length);
  return array;
}

/** `Expected no weightHr because projSize is 0 but received a Float32Array of length 12`. */
export function expectAbsent(value: unknown, name: string, reason: string): void {
  if (!isNullish(value)) throw new TypeError(`Expected no ${name} because ${reason} but received ${describe(value)}`);
}

/** An Array or typed array of `length` integers each in [lo, hi], copied into an Int32Array. */
export function intList(value: unknown, name: string, length: number, lengthName: string, lo: number, hi: number): Int32Array {
  if (!Array.isArray(value) && !types.isTypedArray(value)) {
    throw new TypeError(`Expected array of integers for ${name} but received ${describe(value)}`);
  }
  const list = value as ArrayLike<unknown>;
  if (list.length !== length) {
    throw new RangeError(`Expected array of length ${length} for ${name} (${lengthName} = ${length}) but received length ${list.length}`);
  }
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = intInRange(list[i], `${name}[${i}]`, lo, hi);
  return out;
}
