// Starts a real `nightjar serve` on a free port with a fresh data directory, for browser
// tests; stop() ends it with SIGTERM and removes the directory.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// `dataDir`: start on a directory a server used before (restart); `keep`: stop() leaves the
// directory for that.
export async function startServer({ extraArgs = [], config = '', dataDir = null } = {}) {
  const bin = process.env.NJ_BIN;
  if (!bin) throw new Error('NJ_BIN must name the nightjar binary');
  const data = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'nj-browser-')));
  if (dataDir) await rm(path.join(data, 'ports.json'), { force: true });
  const webRoot = process.env.NJ_WEB_ROOT ?? path.resolve(import.meta.dirname, '../dist');
  const args = ['serve', '--data', data, '--http-port', '0', '--rtsp-port', '0', '--mqtt-port', '0', '--web-root', webRoot, ...extraArgs];
  if (config) {
    await writeFile(path.join(data, 'nightjar.toml'), config);
    args.push('--config', path.join(data, 'nightjar.toml'));
  }
  const child = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));

  const deadline = Date.now() + 10000;
  let port;
  while (!port) {
    if (child.exitCode !== null) throw new Error(`nightjar exited early:\n${log}`);
    if (Date.now() > deadline) throw new Error(`nightjar did not write ports.json:\n${log}`);
    try {
      port = JSON.parse(await readFile(path.join(data, 'ports.json'), 'utf8')).http;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const ports = JSON.parse(await readFile(path.join(data, 'ports.json'), 'utf8'));
  return {
    url: `http://127.0.0.1:${port}`,
    rtspPort: ports.rtsp,
    // `nightjar admin --data DIR …`, its standard output trimmed.
    admin: (...adminArgs) =>
      new Promise((resolve, reject) => {
        execFile(bin, ['admin', '--data', data, ...adminArgs], (err, stdout) => (err ? reject(err) : resolve(stdout.trim())));
      }),
    log: () => log,
    dataDir: data,
    async stop({ keep = false } = {}) {
      child.kill('SIGTERM');
      const code = await exited;
      if (!keep) {
        await rm(data, { recursive: true, force: true });
        await rm(`${data}-keys`, { recursive: true, force: true });
      }
      return code;
    },
  };
}

export function outputDir() {
  return process.env.NJ_TEST_OUTPUT ?? path.resolve(import.meta.dirname, '../../build/test-output');
}
