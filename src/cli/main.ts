#!/usr/bin/env node
/**
 * The `rnnkit` executable (package.json "bin"): runs the command line and exits with its code.
 * @module
 */
import { main } from './program.js';

process.exitCode = await main(process.argv);
