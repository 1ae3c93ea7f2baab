/**
 * Levenshtein distance between two sequences (strings, or arrays of tokens): the fewest
 * insertions, deletions and substitutions that turn one into the other. No imports, so the CLI's
 * option checks can use it without loading the tensor library.
 * @module
 */

/** Edit distance between `a` and `b`, comparing elements with `===`. */
export function editDistance(a: ArrayLike<unknown>, b: ArrayLike<unknown>): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
