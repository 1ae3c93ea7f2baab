#!/usr/bin/env node
/**
 * The `rnnkit` executable (package.json "bin"): runs the command line and exits with its code.
 * @module
 */
import { optimizeGcForTraining } from '../runtime.js';
import { endQuietlyWhenReaderCloses } from './output.js';
import { main } from './program.js';

optimizeGcForTraining(); // an application's choice: fewer full garbage collections per training step
endQuietlyWhenReaderCloses();
process.exitCode = await main(process.argv);
