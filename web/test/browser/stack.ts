// A real local stack for the browser tests: the parley-local binary on a
// free port, with its own data folder, waited for by polling /healthz.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function until<T>(what: string, f: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let delay = 25;
  for (;;) {
    let v: T | undefined | false;
    try {
      v = await f();
    } catch {
      v = undefined;
    }
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

export class Stack {
  url = '';
  private proc: ChildProcess | null = null;
  private log: string[] = [];
  private constructor(
    readonly port: number,
    readonly data: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  static async start(): Promise<Stack> {
    const s = new Stack(await freePort(), mkdtempSync(join(tmpdir(), 'parley-data-')));
    await s.up();
    return s;
  }

  /** Starts the binary (again) on the same port and data folder. */
  async up(): Promise<void> {
    const bin = process.env.PARLEY_LOCAL_BIN;
    if (!bin) throw new Error('PARLEY_LOCAL_BIN is not set: run through the browser vitest config');
    const p = spawn(
      bin,
      ['--addr', `127.0.0.1:${this.port}`, '--data', this.data, '--web', join(repoRoot, 'web'), '--template', join(repoRoot, 'template.yaml'), '--log-level', 'warn'],
      { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    p.stderr?.on('data', (b: Buffer) => {
      this.log.push(b.toString());
      if (this.log.length > 200) this.log.shift();
    });
    this.proc = p;
    let exited = false;
    p.once('exit', () => {
      exited = true;
    });
    await until('the local stack to be healthy', async () => {
      if (exited) throw new Error(`parley-local exited:\n${this.log.join('')}`);
      const r = await fetch(`${this.url}/healthz`);
      return r.status === 200;
    }, 60_000).catch((e) => {
      throw new Error(`${(e as Error).message}\n${this.log.join('')}`);
    });
  }

  /** Stops the binary gracefully (SIGTERM: connections get $disconnect, data is flushed). */
  async down(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
    this.proc = null;
  }

  async stop(): Promise<void> {
    await this.down();
    rmSync(this.data, { recursive: true, force: true });
  }

  async post(path: string, body: unknown): Promise<unknown> {
    const r = await fetch(this.url + path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return r.json();
  }
}
