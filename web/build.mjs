// Builds the portal: a minified ES module entry (hashed name), the chunks of pages loaded on
// demand (the analytics page and its chart library), and index.html in dist/. Prints the entry's
// size and the chunks', raw and gzip. `--dev`: not minified, with an inline source map.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const isDev = process.argv.includes('--dev');
const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const started = Date.now();
const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: !isDev,
  sourcemap: isDev ? 'inline' : false,
  format: 'esm',
  splitting: true,
  chunkNames: 'assets/[name].[hash]',
  target: ['chrome120', 'firefox120', 'safari17', 'edge120'],
  jsx: 'automatic',
  entryNames: 'assets/[name].[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'linked',
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
// Only main.tsx: a module imported with import() is an entry point of its own to esbuild.
const entries = outputs.filter((f) => result.metafile.outputs[f].entryPoint?.endsWith('main.tsx'));
const script = entries.map((f) => `assets/${basename(f)}`);
const template = readFileSync(join(here, 'index.html'), 'utf8');
writeFileSync(
  join(out, 'index.html'),
  template.replace(
    '<!-- bundle -->',
    script.map((s) => `<script type="module" src="/api/portal/${s}"></script>`).join(''),
  ),
);
const sizeOf = (files) => {
  let raw = 0;
  let gzip = 0;
  for (const file of files) {
    const bytes = readFileSync(
      join(here, '..', file.startsWith('web/') ? file : join('web', file)),
    );
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return `${(raw / 1024).toFixed(0)} KiB, ${(gzip / 1024).toFixed(0)} KiB gzip`;
};
// What the first page load fetches: the entry and the chunks it imports statically.
const eager = new Set(entries);
for (const file of eager)
  for (const i of result.metafile.outputs[file].imports)
    if (i.kind === 'import-statement' && i.path.endsWith('.js')) eager.add(i.path);
const onDemand = outputs.filter((f) => !eager.has(f));
process.stdout.write(
  `portal built in ${Date.now() - started} ms: ${script.join(', ')}; first load ${sizeOf([...eager])}; ` +
    `${onDemand.length} chunk(s) on demand ${sizeOf(onDemand)}\n`,
);
