// The examples' command lines, read one way: every option is a string flag with a default and a
// help text, --help prints the usage and exits, and a bad value is a RangeError naming the flag.
// Each example keeps its own OPTIONS table and decides what a valid value is.

import { parseArgs } from 'node:util';

/** Whole numbers above zero (epochs, sizes, threads). */
export const positiveInt = (v) => Number.isInteger(v) && v > 0;

/**
 * The command line of `script` (the path the usage shows) with `options`: name → `{ default, help,
 * shown? }`, `shown` being the default as the usage prints it (e.g. a folder relative to the repo).
 * With `usageInErrors` a bad value's message ends with the usage (for examples that print just
 * the message); without, the caller adds it.
 */
export function commandLine(script, options, { usageInErrors }) {
  // Help texts line up one column after the longest name, 12 columns at the least.
  const width = Math.max(12, ...Object.keys(options).map((name) => name.length + 1));

  function usage() {
    const lines = Object.entries(options).map(([name, o]) => `  --${name.padEnd(width)} ${o.help}${o.default ? ` (default ${o.shown ?? o.default})` : ''}`);
    return `Usage: node ${script} [options]\n\n${lines.join('\n')}\n  --${'help'.padEnd(width)} show this help`;
  }

  /**
   * Parses `argv` (exits with the usage on --help; parseArgs throws a TypeError on an unknown
   * flag). Returns the raw string `values`, `invalid(name, detail)`: the RangeError for a bad
   * value, and `number(name, valid)`: the value as a number, or that error when it is empty or
   * `valid` rejects it.
   */
  function read(argv) {
    const spec = Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { type: 'string', default: o.default }]));
    const { values } = parseArgs({ args: argv, options: { ...spec, help: { type: 'boolean', default: false } } });
    if (values.help) {
      console.log(usage());
      process.exit(0);
    }
    const invalid = (name, detail = '') =>
      new RangeError(`--${name}: invalid value ${JSON.stringify(values[name])}${detail}${usageInErrors ? `\n\n${usage()}` : ''}`);
    const number = (name, valid) => {
      const value = Number(values[name]);
      if (values[name] === '' || !valid(value)) throw invalid(name);
      return value;
    };
    return { values, invalid, number };
  }

  return { usage, read };
}
