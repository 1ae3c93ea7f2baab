#!/usr/bin/env node
/**
 * The `rnnkit` executable (package.json "bin"): runs the command line and exits with its code.
 * @module
 */
import { endQuietlyWhenReaderCloses } from './output.js';
import { main } from './program.js';

endQuietlyWhenReaderCloses();
process.exitCode = await main(process.argv);
