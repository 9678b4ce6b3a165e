/**
 * `npm run chaos`: the fault campaign against the local stack. Runs every scenario of
 * `scenarios/index.ts` (or those whose name contains the first argument), prints a progress line
 * per step and a summary, and writes bench/results/chaos.json (one object per scenario with its
 * figures). Exit code 0 when every scenario passed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureLocalCa } from '@attest/local/dist/simulator';
import { captureProcessOutput } from './log-capture';
import { runChaosCampaign, summarizeCampaign } from './runner';
import { CHAOS_SCENARIOS } from './scenarios';
import { ROOT, startChaosStack } from './stack';

async function main(): Promise<number> {
  const caDir = join(ROOT, '.data', 'ca');
  ensureLocalCa(caDir);
  const caCert = join(caDir, 'ca-cert.pem');
  if (resolve(process.env.NODE_EXTRA_CA_CERTS ?? '') !== resolve(caCert)) {
    // Node reads extra CAs only at start: run again with the simulator's CA trusted.
    const child = spawnSync(process.execPath, process.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caCert },
    });
    return child.status ?? 1;
  }
  const filter = process.argv[2];
  const scenarios = CHAOS_SCENARIOS.filter((s) => filter === undefined || s.name.includes(filter));
  const capture = captureProcessOutput();
  const progress = (message: string) =>
    capture.print(`${new Date().toISOString().slice(11, 19)} chaos ${message}\n`);
  let report;
  try {
    report = await runChaosCampaign(scenarios, {
      startStack: async () => {
        progress('starting the local stack (Azurite, simulator, function app, media host)');
        const stack = await startChaosStack();
        progress('stack ready');
        return stack;
      },
      logLines: capture.lines,
      progress,
    });
  } finally {
    capture.restore();
  }
  // Every captured line, for diagnosis (ATTEST_CHAOS_LOG_FILE).
  const logFile = process.env.ATTEST_CHAOS_LOG_FILE;
  if (logFile !== undefined) writeFileSync(logFile, `${capture.lines.join('\n')}\n`);
  const out = join(ROOT, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'chaos.json'),
    `${JSON.stringify({ benchmark: 'chaos', ...report, logLinesScanned: capture.lines.length }, null, 2)}\n`,
  );
  process.stdout.write(`\n${summarizeCampaign(report)}\nwrote bench/results/chaos.json\n`);
  return report.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `chaos failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
