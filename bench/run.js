// Runs every compiled benchmark (bench/dist/**/*.bench.js) one after another, each in its own
// process, so one benchmark's heap and timers do not skew the next. Each writes its JSON under
// bench/results/. `npm run bench -- durable` runs only the benchmarks whose file name matches.
const { spawnSync } = require('node:child_process');
const { readdirSync, statSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, 'dist');
const filter = process.argv[2];
function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out = out.concat(find(full));
    else if (name.endsWith('.bench.js')) out.push(full);
  }
  return out;
}
mkdirSync(path.join(__dirname, 'results'), { recursive: true });
const files = find(root).filter((f) => filter === undefined || path.basename(f).includes(filter));
let failed = 0;
for (const file of files) {
  process.stdout.write(`bench: ${path.relative(__dirname, file)}\n`);
  const result = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (result.status !== 0) failed += 1;
}
process.stdout.write(`bench: ${files.length - failed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
