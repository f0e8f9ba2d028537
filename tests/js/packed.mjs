// Packs web/ with `npm pack` and installs the tarball into a fresh folder with `npm install
// --offline`, the way a user installs it. Its dependencies (web/package.json) are packed from
// tests/node_modules, where tests/tools/setup.sh installed them, and installed beside it, so no
// registry or npm cache is needed. Shared by pack.test.mjs and images.test.mjs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './helpers.mjs';

/** @returns {{dir: string, tarball: string, load: () => Promise<typeof import('../../web/index.js')>}} */
export function installPacked() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'onnxfx-pack-'));
  const quiet = { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' };
  execFileSync('npm', ['pack', '--pack-destination', root, '--loglevel=error'], { cwd: path.join(repoRoot, 'web'), ...quiet });
  const tarball = path.join(root, readdirSync(root).find((f) => f.endsWith('.tgz')));
  const deps = Object.keys(JSON.parse(readFileSync(path.join(repoRoot, 'web/package.json'), 'utf8')).dependencies ?? {});
  const depTarballs = deps.map((name) => {
    const out = execFileSync('npm', ['pack', '--pack-destination', root, '--loglevel=error'],
      { cwd: path.join(repoRoot, 'tests/node_modules', name), ...quiet });
    return path.join(root, out.trim().split('\n').at(-1));
  });
  const dir = path.join(root, 'app');
  execFileSync('mkdir', ['-p', dir]);
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  // --omit=optional: the optional native decoder (sharp) would come from npm's cache when it
  // happens to hold it, and not otherwise; without it the install is the same on every machine
  execFileSync('npm', ['install', '--offline', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error', tarball,
    ...depTarballs], { cwd: dir, ...quiet });
  // Resolve 'onnxfx' the way an app does: a bare import from a file of the app.
  writeFileSync(path.join(dir, 'entry.mjs'), "export * from 'onnxfx';\n");
  return { root, dir, tarball, load: () => import(pathToFileURL(path.join(dir, 'entry.mjs')).href) };
}
