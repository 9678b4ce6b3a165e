// Builds the portal: one minified ES module bundle (hashed name) and index.html in dist/.
// Prints the bundle's size, raw and gzip. `--dev`: not minified, with an inline source map.
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
const script = outputs.map((f) => `assets/${basename(f)}`);
const template = readFileSync(join(here, 'index.html'), 'utf8');
writeFileSync(
  join(out, 'index.html'),
  template.replace(
    '<!-- bundle -->',
    script.map((s) => `<script type="module" src="/api/portal/${s}"></script>`).join(''),
  ),
);
let raw = 0;
let gzip = 0;
for (const file of outputs) {
  const bytes = readFileSync(join(here, '..', file.startsWith('web/') ? file : join('web', file)));
  raw += bytes.length;
  gzip += gzipSync(bytes).length;
}
process.stdout.write(
  `portal built in ${Date.now() - started} ms: ${script.join(', ')} ${(raw / 1024).toFixed(0)} KiB, ${(gzip / 1024).toFixed(0)} KiB gzip\n`,
);
