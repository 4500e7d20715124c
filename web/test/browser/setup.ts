// Builds the local stack once for every browser test file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './stack';

export default function setup(): () => void {
  for (const f of ['web/agent/dist/index.html', 'web/widget/dist/widget.js']) {
    if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: build the web apps first (npm run build)`);
  }
  if (!existsSync('/usr/bin/chromium')) throw new Error('/usr/bin/chromium is missing: apt-get install chromium');
  const dir = mkdtempSync(join(tmpdir(), 'parley-browser-'));
  const bin = join(dir, 'parley-local');
  execFileSync('go', ['build', '-o', bin, './cmd/parley-local'], { cwd: repoRoot, stdio: 'inherit' });
  process.env.PARLEY_LOCAL_BIN = bin;
  return () => rmSync(dir, { recursive: true, force: true });
}
