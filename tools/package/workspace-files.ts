/**
 * The files a deployable needs at run time: its own `package.json` and `dist/`, the workspace
 * packages it depends on (`package.json` and `dist/` only) and its production dependencies exactly
 * as the lock file installed them (`npm ls --omit=dev`), so packaging needs no network.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export interface FileToPack {
  /** Absolute path on this machine. */
  readonly file: string;
  /** Path inside the package, `/`-separated. */
  readonly name: string;
}

/** Every file under `dir` (recursively), named under `prefix`; `skip` filters by file name. */
export function filesUnder(
  dir: string,
  prefix: string,
  skip: (name: string) => boolean = () => false,
): FileToPack[] {
  const result: FileToPack[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !skip(entry.name))
        result.push({ file: path, name: `${prefix}/${relative(dir, path).split(sep).join('/')}` });
    }
  };
  walk(dir);
  return result;
}

/** Only what runs ships: no build bookkeeping, source maps or type declarations. */
const skipBuildNoise = (name: string): boolean =>
  name.endsWith('.tsbuildinfo') || name.endsWith('.map') || name.endsWith('.d.ts');

/** A workspace package as it runs: `package.json` and `dist/`. */
export function workspacePackageFiles(workspaceDir: string, prefix: string): FileToPack[] {
  return [
    { file: join(workspaceDir, 'package.json'), name: `${prefix}/package.json` },
    ...filesUnder(join(workspaceDir, 'dist'), `${prefix}/dist`, skipBuildNoise),
  ];
}

/**
 * Production dependencies of workspace `workspace` (an npm package name), under `prefix`
 * (`node_modules/...` keeps the lock file's layout). Workspace packages among them ship as built.
 */
export function productionDependencyFiles(
  root: string,
  workspace: string,
  prefix: string,
): FileToPack[] {
  const listing = execFileSync(
    'npm',
    ['ls', '--omit=dev', '--all', '--parseable', '--workspace', workspace],
    { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const rootModules = join(root, 'node_modules') + sep;
  const files: FileToPack[] = [];
  const seen = new Set<string>();
  for (const line of listing.split('\n').map((l) => l.trim())) {
    if (!line.startsWith(rootModules) || seen.has(line)) continue;
    seen.add(line);
    const name = `${prefix}/node_modules/${relative(rootModules, line).split(sep).join('/')}`;
    const real = realpathSync(line);
    if (real.startsWith(rootModules)) {
      // A dependency's nested node_modules are listed on their own lines.
      files.push(
        ...filesUnder(real, name).filter(
          (f) => !f.name.slice(name.length).includes('/node_modules/'),
        ),
      );
    } else if (statSync(join(real, 'dist'), { throwIfNoEntry: false }) !== undefined) {
      if (line.endsWith(`${sep}${workspace.split('/').join(sep)}`)) continue;
      files.push(...workspacePackageFiles(real, name));
    }
  }
  return files;
}
