/**
 * `rnnkit info`: what this installation runs on — package version, Node and N-API versions, the
 * addon file that was loaded, the kernel set (ISA) in use and those available, the thread count.
 * @module
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addonPath, packageRoot, REQUIRED_NAPI_VERSION } from '../native.js';
import { availableIsas, getNumThreads, isa, nativeVersions } from '../runtime.js';
import type { Output } from './output.js';


/** rnnkit's version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** What `rnnkit info` reports (also its `--json` output). */
export interface InfoReport {
  version: string;
  node: string;
  /** N-API version Node offers. */
  napi: number | null;
  /** N-API version the addon was built for (it needs at least this from Node). */
  addonNapi: number;
  addonCompiler: string | null;
  addonPath: string | null;
  isa: string;
  availableIsas: string[];
  /** Set from the environment (RNNKIT_ISA) instead of picked as the best available. */
  isaForced: string | null;
  threads: number;
  platform: string;
  cpus: number;
}

/** Loads the addon (throws the loader's explanation when it can't) and describes the installation. */
export function collectInfo(): InfoReport {
  const chosen = isa(); // loads the addon first
  const versions = nativeVersions();
  return {
    version: packageVersion(),
    node: process.versions.node,
    napi: process.versions.napi ? Number(process.versions.napi) : null,
    addonNapi: versions.napi ?? REQUIRED_NAPI_VERSION,
    addonCompiler: versions.compiler ?? null,
    addonPath: addonPath() ?? null,
    isa: chosen,
    availableIsas: availableIsas(),
    isaForced: process.env.RNNKIT_ISA || null,
    threads: getNumThreads(),
    platform: `${process.platform}-${process.arch}`,
    cpus: os.availableParallelism?.() ?? os.cpus().length,
  };
}

/** The report as aligned `name  value` lines. */
export function formatInfo(report: InfoReport): string[] {
  const rows: [string, string][] = [
    ['rnnkit', report.version],
    ['node', `${report.node} (N-API ${report.napi ?? 'unknown'})`],
    ['addon', `${report.addonPath ?? 'unknown path'} (built for N-API ${report.addonNapi}${report.addonCompiler ? `, ${report.addonCompiler}` : ''})`],
    ['isa', `${report.isa}${report.isaForced ? ` (forced by RNNKIT_ISA=${report.isaForced})` : ' (best available)'}`],
    ['available', report.availableIsas.join(', ')],
    ['threads', `${report.threads} (of ${report.cpus} CPUs available to this process)`],
    ['platform', report.platform],
  ];
  return rows.map(([name, value]) => `${name.padEnd(10)}${value}`);
}

/** Prints the report (as JSON with `json`). */
export function runInfo(options: { json?: boolean }, output: Output): void {
  const report = collectInfo();
  if (options.json) output.info(JSON.stringify(report, null, 2));
  else for (const line of formatInfo(report)) output.info(line);
}
