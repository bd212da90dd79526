// Shared by tests/consumers/*.test.mjs: pack pkg/ once per test file, install
// the tarball into throw-away projects (registry only, npm's own cache,
// --prefer-offline), and run commands with bounded timeouts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, cp, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pkgDir } from '../fixture/server.mjs';

export { startFixture } from '../fixture/server.mjs';
export { launchChromium } from '../chromium/helpers.mjs';

export const consumersDir = path.dirname(fileURLToPath(import.meta.url));

export const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', '--ignore-scripts'];

/** Runs a command; rejects with its output when it fails or outlives `timeoutMs`. */
export function run(cmd, args, { cwd, timeoutMs = 120_000, env } = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 32 * 1024 * 1024, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        if (err) {
          err.message = `${cmd} ${args.join(' ')} (in ${cwd}) failed: ${err.message}\n${stdout}\n${stderr}`;
          reject(err);
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
  });
}

/** A temp directory, removed by the returned `cleanup`. */
export async function tempDir(prefix) {
  const dir = await mkdtemp(path.join(tmpdir(), `mcp-web-auth-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** `npm pack pkg/` into `dest`; returns the tarball's absolute path. */
export async function packPackage(dest) {
  const { stdout } = await run('npm', ['pack', pkgDir, '--pack-destination', dest, '--json', '--loglevel=error'], {
    cwd: dest,
    timeoutMs: 60_000,
  });
  const [info] = JSON.parse(stdout);
  return { tarball: path.join(dest, info.filename), files: info.files.map((f) => f.path) };
}

/** A project with only the tarball as dependency. */
export async function installTarballProject(dir, tarball, extraPackageJson = {}) {
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', ...extraPackageJson }, null, 2),
  );
  await run('npm', ['install', ...NPM_FLAGS, tarball], { cwd: dir, timeoutMs: 120_000 });
}

/** Copies a fixture project (without node_modules/dist) into `dest`. */
export async function copyProject(src, dest) {
  for (const entry of await readdir(src)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    await cp(path.join(src, entry), path.join(dest, entry), { recursive: true });
  }
}
