/**
 * Declared options of the CLI commands, read from the command line or a JSON config file, checked
 * in one place so both say the same thing about a bad value:
 *
 *   --epochs must be a positive integer (decimal digits, at most 1000000), got 'abc'
 *   "epochs" in cfg.json must be a positive integer (decimal digits, at most 1000000), got "abc"
 *
 * Numbers on the command line are decimal (`16`, `0.5`, `3e-3`); integers are digits only, so
 * `0x10` or `1e9` for a count is refused. Every integer has a maximum (by default the largest
 * dimension the library takes), so no flag can ask for unbounded work.
 *
 * Commander parses the flags (unknown flags, missing values, --help); it keeps every value as the
 * string it was given, and {@link resolveOptions} converts and validates them here, after merging
 * with the config file (flags win over the file, the file over the defaults).
 * @module
 */
import path from 'node:path';
import type { Command } from 'commander';
import { MAX_DIM } from '../validate.js';
import { CliError } from './errors.js';
import { readInputText } from './files.js';
import { editDistance } from '../tasks/edit-distance.js';

/** What an option's value must be. `inputFile`/`outputFile` are paths (relative ones in a config file are resolved from its folder). */
export type OptionKind =
  | 'positiveInt' | 'nonNegativeInt' | 'positiveNumber' | 'nonNegativeNumber' | 'probability' | 'fraction'
  | 'string' | 'inputFile' | 'outputFile' | 'boolean' | readonly string[];

/** One option: its flag as commander spells it (`--seq-len <n>`), what it means, its kind and default. */
export interface OptionSpec {
  flag: string;
  description: string;
  kind: OptionKind;
  default?: string | number | boolean;
  required?: boolean;
  /** Largest value: of an integer kind, default {@link MAX_DIM} (the largest size the library takes); of a number kind, none. */
  max?: number;
}

/** The key of an option's value, from its long flag: `--seq-len <n>` → `seqLen` (as {@link optionKey} at run time). */
type OptionKeyOf<Flag extends string> = Flag extends `${string}--${infer Name} <${string}` ? CamelCase<Name>
  : Flag extends `${string}--${infer Name}` ? CamelCase<Name> : never;
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The value an option of kind K resolves to. */
type KindValue<K> = K extends readonly (infer Choice)[] ? Choice
  : K extends 'boolean' ? boolean
    : K extends 'string' | 'inputFile' | 'outputFile' ? string
      : number;

// Whether an option always has a value (required, or a default).
type AlwaysSet<S> = S extends { required: true } | { default: string | number | boolean } ? true : false;

/**
 * What {@link resolveOptions} returns for the options `O`, typed from the declarations themselves:
 * one key per option, required when the option is required or has a default (options whose flags
 * are not literal types give a plain record).
 */
export type OptionValues<O extends readonly OptionSpec[]> = string extends O[number]['flag'] ? Record<string, unknown>
  : & { [S in O[number] as AlwaysSet<S> extends true ? OptionKeyOf<S['flag']> : never]: KindValue<S['kind']> }
    & { [S in O[number] as AlwaysSet<S> extends true ? never : OptionKeyOf<S['flag']>]?: KindValue<S['kind']> };

/**
 * Most steps a command may be asked to produce one after the other (forecast horizon, generated
 * characters): every one is kept and printed, and `--horizon 1e9` ran out of memory after a minute.
 */
export const MAX_GENERATED_STEPS = 1_000_000;

/** Most epochs a training command takes (each keeps a line of history). */
export const MAX_EPOCHS = 1_000_000;

/** A parsed config file: its values by option key, and where it is (for messages and relative paths). */
export interface ConfigFile {
  file: string;
  values: Record<string, unknown>;
}

/** The option's key: commander's camelCase attribute name of its long flag (`--seq-len` → `seqLen`). */
export function optionKey(spec: OptionSpec): string {
  const long = /--([a-z0-9-]+)/i.exec(spec.flag);
  if (!long) throw new Error(`option flag without a long name: ${spec.flag}`);
  return long[1].replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The option's long flag, `--seq-len`. */
export const longFlag = (spec: OptionSpec): string => `--${/--([a-z0-9-]+)/i.exec(spec.flag)![1]}`;

function kindWords(spec: OptionSpec): string {
  const { kind } = spec;
  if (typeof kind !== 'string') return `one of ${kind.join(', ')}`;
  switch (kind) {
    case 'positiveInt': return `a positive integer (decimal digits, at most ${spec.max ?? MAX_DIM})`;
    case 'nonNegativeInt': return `an integer >= 0 (decimal digits, at most ${spec.max ?? MAX_DIM})`;
    case 'positiveNumber': return `a positive number${spec.max === undefined ? '' : ` (at most ${spec.max})`}`;
    case 'nonNegativeNumber': return `a number >= 0${spec.max === undefined ? '' : ` (at most ${spec.max})`}`;
    case 'probability': return 'a number in [0, 1)';
    case 'fraction': return 'a number between 0 and 1 (exclusive)';
    case 'boolean': return 'true or false';
    default: return 'a non-empty string';
  }
}

// Number() also reads hex, octal, binary, "Infinity" and surrounding blanks; flags take decimal only.
const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** A number (JSON) or the text of one in the notation `kind` takes; NaN otherwise. */
function asNumber(value: unknown, integer: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && (integer ? DECIMAL_INTEGER : DECIMAL_NUMBER).test(value)) return Number(value);
  return Number.NaN;
}

/** The value converted to the option's kind, or undefined when it is not one. */
function convert(value: unknown, spec: OptionSpec): unknown {
  const { kind } = spec;
  if (typeof kind !== 'string') return typeof value === 'string' && kind.includes(value) ? value : undefined;
  if (kind === 'boolean') {
    if (typeof value === 'boolean') return value;
    return value === 'true' ? true : value === 'false' ? false : undefined;
  }
  if (kind === 'string' || kind === 'inputFile' || kind === 'outputFile') return typeof value === 'string' && value !== '' ? value : undefined;
  const integer = kind === 'positiveInt' || kind === 'nonNegativeInt';
  const n = asNumber(value, integer);
  if (!Number.isFinite(n) || n > (spec.max ?? (integer ? MAX_DIM : Infinity)) || (integer && !Number.isInteger(n))) return undefined;
  const ok = {
    positiveInt: n > 0,
    nonNegativeInt: n >= 0,
    positiveNumber: n > 0,
    nonNegativeNumber: n >= 0,
    probability: n >= 0 && n < 1,
    fraction: n > 0 && n < 1,
  }[kind];
  return ok ? n : undefined;
}

/** Declares the options on a commander command (values stay strings; defaults are shown in --help, applied by resolveOptions). */
export function addOptions(command: Command, specs: readonly OptionSpec[]): Command {
  for (const spec of specs) {
    const shown = spec.default === undefined || spec.kind === 'boolean' ? '' : ` (default: ${spec.default})`;
    const choices = typeof spec.kind !== 'string' ? ` (${spec.kind.join(' | ')})` : '';
    command.option(spec.flag, `${spec.description}${choices}${shown}${spec.required ? ' (required)' : ''}`);
  }
  return command;
}

/**
 * The options' values: from the command line, else the config file, else the default; converted
 * and checked. Throws a {@link CliError} naming the flag (or config key) and the bad value.
 */
export function resolveOptions<O extends readonly OptionSpec[]>(specs: O, cli: Record<string, unknown>,
  config: ConfigFile | null = null): OptionValues<O> {
  const result: Record<string, unknown> = {};
  for (const spec of specs) {
    const key = optionKey(spec);
    const fromCli = cli[key] !== undefined;
    const fromConfig = !fromCli && config !== null && config.values[key] !== undefined;
    const raw = fromCli ? cli[key] : fromConfig ? config!.values[key] : spec.default;
    if (raw === undefined) {
      if (spec.required) {
        throw new CliError(`${longFlag(spec)} is required: ${spec.description}${config ? ` (or "${key}" in ${config.file})` : ''}`);
      }
      continue;
    }
    const value = convert(raw, spec);
    if (value === undefined) {
      const where = fromConfig ? `"${key}" in ${config!.file}` : longFlag(spec);
      const got = fromConfig ? JSON.stringify(raw) : `'${String(raw)}'`;
      throw new CliError(`${where} must be ${kindWords(spec)}, got ${got}`);
    }
    const isPath = spec.kind === 'inputFile' || spec.kind === 'outputFile';
    result[key] = isPath && fromConfig ? path.resolve(path.dirname(config!.file), value as string) : value;
  }
  return result as OptionValues<O>; // the values checked against the very declarations the type is read from
}

/** The library's names for values options pass through to it (library name → option key). */
const LIBRARY_NAMES: Record<string, string> = {
  hiddenSize: 'hidden', numLayers: 'layers', dropout: 'dropout', embeddingDim: 'embedding', window: 'window',
  horizon: 'horizon', threads: 'threads', seqLength: 'seqLen', bpttSteps: 'bptt', batchSize: 'batchSize', epochs: 'epochs',
  lr: 'lr', clipGradNorm: 'clip', temperature: 'temperature', topK: 'topK', length: 'length', season: 'season', seed: 'seed',
  maxLength: 'maxLength', minFreq: 'minFreq', maxSize: 'maxVocab', inputDropout: 'inputDropout', recurrentDropout: 'recurrentDropout',
  beamWidth: 'beam', lengthPenalty: 'lengthPenalty', patience: 'patience', labelSmoothing: 'smoothing',
};

/** For the library's argument errors: its name of a value → the flag among `specs` that set it (`hiddenSize` → `--hidden`). */
export function libraryNameFlags(specs: readonly OptionSpec[]): Map<string, string> {
  const flags = new Map(specs.map((spec) => [optionKey(spec), longFlag(spec)]));
  const result = new Map<string, string>();
  for (const [libraryName, key] of Object.entries(LIBRARY_NAMES)) {
    const flag = flags.get(key);
    if (flag !== undefined) result.set(libraryName, flag);
  }
  return result;
}

/**
 * The paths `config` gave (and the command line did not override), as {@link resolveOptions}
 * resolved them from the config's folder: `[["input", "/data/x.csv"], …]`.
 */
export function configPaths(specs: readonly OptionSpec[], cli: Record<string, unknown>, config: ConfigFile, values: Record<string, unknown>): [string, string][] {
  const isPath = (spec: OptionSpec) => spec.kind === 'inputFile' || spec.kind === 'outputFile';
  const fromConfig = (key: string) => cli[key] === undefined && config.values[key] !== undefined;
  return specs.filter(isPath).map(optionKey).filter(fromConfig).map((key) => [key, values[key] as string]);
}

/** A config file's JSON object, not yet checked against any command's options. */
export function readConfigFile(file: string): Record<string, unknown> {
  const text = readInputText(file, 'config file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`config file '${file}' is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`config file '${file}' must hold a JSON object ({"input": ..., "epochs": ...}), got ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * A config file's values for a command: keys are option names in camelCase (`seqLen`) or as flags
 * (`seq-len`); `extraKeys` are keys the caller handles itself (e.g. `task`). Unknown keys are errors.
 */
export function configFor(file: string, raw: Record<string, unknown>, specs: readonly OptionSpec[], extraKeys: readonly string[] = []): ConfigFile {
  const known = [...new Set([...specs.map(optionKey).filter((key) => key !== 'config'), ...extraKeys])];
  const values: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (!known.includes(key)) {
      const closest = known.reduce((best, k) => (editDistance(key, k) < editDistance(key, best) ? k : best), known[0]);
      const hint = editDistance(key, closest) <= 2 ? ` (did you mean "${closest}"?)` : '';
      throw new CliError(`unknown key "${name}" in config file '${file}'${hint}; known keys: ${known.join(', ')}`);
    }
    values[key] = value;
  }
  return { file, values };
}
