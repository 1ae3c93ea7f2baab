/**
 * Option-object checks shared by the nn constructors: an options argument must be an object, and
 * a misspelt key (`batch_first` for `batchFirst`) is an error rather than a silently ignored default.
 * @module
 */
import { describe, optionalObject } from '../validate.js';

/** The options object (undefined/null → `{}`), rejecting keys not in `known`. */
export function checkOptions(options: unknown, owner: string, known: readonly string[]): Record<string, unknown> {
  const opts = optionalObject(options, 'options');
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new TypeError(`Expected one of ${known.join(', ')} for ${owner} option but received ${describe(key)}`);
    }
  }
  return opts;
}
