#!/usr/bin/env node
// Builds rnnkit's addon from source where no prebuilt one fits (the loader's error message gives
// this command). The build tools are not dependencies of rnnkit, so that users with a prebuild
// do not install them; install them next to rnnkit first:
//   npm install --save-dev cmake-js node-addon-api
//   node node_modules/rnnkit/scripts/build-from-source.js
// Writes build/Release/rnnkit.node inside the rnnkit package, which the loader tries first.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

function fail(lines) {
  console.error(['rnnkit: cannot build the addon from source:', ...lines].join('\n'));
  process.exit(1);
}

// Resolved from the rnnkit package, so the consumer's node_modules (above it) is searched too.
function resolveTool(request) {
  try {
    return require.resolve(request, { paths: [root, process.cwd()] });
  } catch {
    return undefined;
  }
}

const cmakeJs = resolveTool('cmake-js/bin/cmake-js');
const missing = ['cmake-js', 'node-addon-api'].filter((name) => !resolveTool(`${name}/package.json`));
if (!cmakeJs || missing.length) {
  fail([`  ${missing.join(' and ')} not installed. In your project: npm install --save-dev cmake-js node-addon-api`]);
}
if (spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status !== 0) {
  fail(['  cmake not found on PATH: install CMake >= 3.18 (Debian/Ubuntu: apt-get install cmake; macOS: brew install cmake;',
    '  Windows: winget install Kitware.CMake), and a C++17 compiler (g++ >= 9, clang >= 10, Xcode, or MSVC 2019).']);
}

console.log(`rnnkit: building the addon from source in ${root}`);
const build = spawnSync(process.execPath, [cmakeJs, 'compile', '--directory', root], { stdio: 'inherit', cwd: root });
if (build.status !== 0) fail([`  cmake-js exited with ${build.status} (its output is above)`]);

const addon = path.join(root, 'build', 'Release', 'rnnkit.node');
const check = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).isa())`], { encoding: 'utf8' });
if (check.status !== 0) fail([`  built ${addon}, but it does not load:`, check.stderr.trim()]);
console.log(`rnnkit: built ${addon} (isa ${check.stdout.trim()})`);
