// Fails the build when a bundle outgrows its budget (gzip -9, as measured
// in the README): the widget 25 KB, the agent app's JavaScript 150 KB.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const js = (dir) => readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.js')).map((f) => join(dir, String(f)));
const budgets = [
  { name: 'widget', files: js('widget/dist'), limit: 25 * 1024 },
  { name: 'agent app', files: js('agent/dist'), limit: 150 * 1024 },
];
let failed = false;
for (const b of budgets) {
  const size = b.files.reduce((n, f) => n + gz(f), 0);
  const ok = size <= b.limit;
  failed ||= !ok;
  console.log(`${ok ? 'ok  ' : 'OVER'} ${b.name}: ${size} bytes of JavaScript gzipped (budget ${b.limit})`);
}
if (failed) process.exit(1);
