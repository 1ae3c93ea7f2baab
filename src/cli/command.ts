/**
 * One shape for every command that resolves declared options, then runs (`rnnkit generate`, …,
 * and each `rnnkit train` task): {@link CommandSpec}, registered on commander by
 * {@link addCommand}.
 * @module
 */
import type { Command } from 'commander';
import { setNumThreads } from '../runtime.js';
import { flagError } from './errors.js';
import { checkInputFile, checkOutputFile } from './files.js';
import {
  addOptions, configPaths, libraryNameFlags, optionKey, resolveOptions, type ConfigFile, type OptionSpec, type OptionValues,
} from './options.js';
import type { Output } from './output.js';

/**
 * A command: its help, its options (src/cli/command-options.ts) and its runner, which receives the
 * options' values typed from their declarations. `run` imports the command's module itself, so
 * help and flag errors answer without loading the tensor library.
 */
export interface CommandSpec<O extends readonly OptionSpec[] = readonly OptionSpec[]> {
  summary: string;
  /** The first lines of --help (default: the summary). */
  description?: string;
  options: O;
  /** Text after the options in --help: formats, examples. */
  help?: string;
  run(values: OptionValues<O>, output: Output): Promise<unknown>;
}

/** A {@link CommandSpec} whose `run` is checked against the values of its own options. */
export function defineCommand<const O extends readonly OptionSpec[]>(spec: CommandSpec<O>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** How messages name the file of a path option: `input file`, `output file`, `plot file`, … */
export function fileRole(key: string): string {
  return key === 'input' ? 'input file' : key === 'out' || key === 'output' ? 'output file' : `${key} file`;
}

/** Checks files before the (long) work starts: inputs readable, outputs writable (and not another kind of file, without --force). */
async function checkFiles(specs: readonly OptionSpec[], values: Record<string, unknown>): Promise<void> {
  for (const spec of specs) {
    const key = optionKey(spec);
    const value = values[key];
    if (typeof value !== 'string') continue;
    if (spec.kind === 'inputFile') checkInputFile(value, fileRole(key));
    if (spec.kind === 'outputFile') await checkOutputFile(value, fileRole(key), values.force === true);
  }
}

/**
 * The command's options (flags over config over defaults), files checked, --threads applied; the
 * paths a config gave are printed as resolved (relative to the config's folder).
 */
export async function resolveCommandOptions(specs: readonly OptionSpec[], cli: Record<string, unknown>, config: ConfigFile | null,
  output: Output): Promise<Record<string, unknown>> {
  const values = resolveOptions(specs, cli, config);
  const paths = config ? configPaths(specs, cli, config, values) : [];
  if (paths.length > 0) output.info(`paths in ${config!.file}, from its folder: ${paths.map(([key, file]) => `${key} ${file}`).join(', ')}`);
  await checkFiles(specs, values);
  if (values.threads !== undefined) setNumThreads(values.threads as number);
  return values;
}

/**
 * Resolves the options, then runs the command; an argument error of the library about a value a
 * flag gave names the flag (exit 2).
 */
export async function runCommand(spec: CommandSpec, cli: Record<string, unknown>, config: ConfigFile | null, output: Output): Promise<void> {
  const values = await resolveCommandOptions(spec.options, cli, config, output);
  try {
    await spec.run(values, output);
  } catch (error) {
    throw flagError(error, libraryNameFlags(spec.options)) ?? error;
  }
}

/**
 * Adds `spec` as subcommand `name` of `parent`: its flags (with `extraOptions`), help and action.
 * `configOf` reads the config file a command may take (`rnnkit train <task> --config`).
 */
export function addCommand(parent: Command, name: string, spec: CommandSpec, output: Output, extraOptions: readonly OptionSpec[] = [],
  configOf: (cli: Record<string, unknown>, command: Command) => ConfigFile | null = () => null): Command {
  const command = parent.command(name).summary(spec.summary).description(spec.description ?? spec.summary);
  addOptions(command, [...spec.options, ...extraOptions]);
  if (spec.help !== undefined) command.addHelpText('after', spec.help);
  command.action(async (cli: Record<string, unknown>, self: Command) => {
    await runCommand(spec, cli, configOf(cli, self), output);
  });
  return command;
}
