/**
 * Teams simulator CLI.
 *
 *   node local/dist/simulator/main.js [serve] [options]          run the simulator until SIGINT/SIGTERM
 *   node local/dist/simulator/main.js run <scenario> [options]   run one scenario against a running
 *                                                                Attest; print a pass/fail summary
 *
 * Options (each also from the environment):
 *   --port <n>                 ATTEST_SIM_PORT (default 7443)
 *   --directory <file>         ATTEST_SIM_DIRECTORY (default local/scenarios/directory.json)
 *   --webhook <url>            ATTEST_SIM_WEBHOOK_URL: every bot's calling webhook
 *   --control-token <token>    ATTEST_SIM_CONTROL_TOKEN (default: generated, printed)
 *   --enum-casing <c>          ATTEST_SIM_ENUM_CASING: camelCase | PascalCase
 *   --result-info <t>          ATTEST_SIM_RESULT_INFO: number | string
 *   --pacing <p>               ATTEST_SIM_MEDIA_PACING: realtime | fast
 *   --grace-ms <n>             run: extra wait after the scenario's duration (default 15000)
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { judgeOutcome, type OutcomeLike } from './scenarios/judge';
import { resolveScenario, ScenarioError } from './scenarios/scenario';
import {
  defaultScenarioDir,
  loadDirectoryFile,
  startTeamsSimulator,
  type TeamsSimulator,
} from './index';
import type { EngineBehaviour } from './calls/call-engine';

interface CliArgs {
  readonly command: 'serve' | 'run';
  readonly scenario?: string;
  readonly flags: Map<string, string>;
}

const FLAGS = [
  'port',
  'directory',
  'webhook',
  'control-token',
  'enum-casing',
  'result-info',
  'pacing',
  'grace-ms',
] as const;

/** Node's own parser: an unknown option or one without its value is a usage error (exit 2). */
function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(FLAGS.map((flag) => [flag, { type: 'string' as const }])),
    allowPositionals: true,
    strict: true,
  });
  const flags = new Map<string, string>();
  for (const [flag, value] of Object.entries(values))
    if (typeof value === 'string') flags.set(flag, value);
  const [first, second] = positionals;
  if (first === 'run')
    return { command: 'run', ...(second !== undefined ? { scenario: second } : {}), flags };
  if (first !== undefined && first !== 'serve') return { command: 'run', scenario: first, flags };
  return { command: 'serve', flags };
}

function setting(args: CliArgs, flag: string, env: string): string | undefined {
  return args.flags.get(flag) ?? process.env[env];
}

async function start(args: CliArgs): Promise<TeamsSimulator> {
  const scenarioDir = defaultScenarioDir();
  let directory = loadDirectoryFile(
    setting(args, 'directory', 'ATTEST_SIM_DIRECTORY') ?? join(scenarioDir, 'directory.json'),
  );
  const webhook = setting(args, 'webhook', 'ATTEST_SIM_WEBHOOK_URL');
  if (webhook)
    directory = {
      ...directory,
      bots: directory.bots.map((b) => ({ ...b, callingWebhookUrl: webhook })),
    };
  const behaviour: Partial<EngineBehaviour> = {};
  const casing = setting(args, 'enum-casing', 'ATTEST_SIM_ENUM_CASING');
  if (casing === 'camelCase' || casing === 'PascalCase')
    Object.assign(behaviour, { enumCasing: casing });
  const resultInfo = setting(args, 'result-info', 'ATTEST_SIM_RESULT_INFO');
  if (resultInfo === 'number' || resultInfo === 'string')
    Object.assign(behaviour, { resultInfoAs: resultInfo });
  const pacing = setting(args, 'pacing', 'ATTEST_SIM_MEDIA_PACING');
  if (pacing === 'realtime' || pacing === 'fast') Object.assign(behaviour, { mediaPacing: pacing });
  const token = setting(args, 'control-token', 'ATTEST_SIM_CONTROL_TOKEN');
  return startTeamsSimulator({
    port: Number(setting(args, 'port', 'ATTEST_SIM_PORT') ?? 7443),
    directory,
    scenarioDir,
    behaviour,
    ...(token ? { controlToken: token } : {}),
  });
}

async function run(args: CliArgs, sim: TeamsSimulator): Promise<number> {
  if (args.scenario === undefined) {
    process.stderr.write('usage: main.js run <scenario>\n');
    return 2;
  }
  const scenario = resolveScenario(args.scenario, defaultScenarioDir());
  const id = sim.engine.startCall(scenario.call);
  const graceInMs = Number(args.flags.get('grace-ms') ?? 15_000);
  const deadline = Date.now() + (scenario.call.durationInMs ?? 60_000) + graceInMs;
  for (;;) {
    const outcome = sim.engine.outcome(id) as unknown as OutcomeLike;
    if ((outcome.state === 'ended' && sim.deliverer.inFlight === 0) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const outcome = sim.engine.outcome(id) as unknown as OutcomeLike & {
    legs: Record<string, unknown>[];
  };
  const verdict = judgeOutcome(outcome, scenario.expect);
  const lines = [
    `scenario ${scenario.name}: ${verdict.isPass ? 'PASS' : 'FAIL'}`,
    `  call ${outcome.state}, end reason ${outcome.endReason ?? '-'}`,
    ...outcome.participants.map((p) => `  participant ${p.userId ?? '(external)'}: ${p.status}`),
    ...outcome.legs.map(
      (l) =>
        `  recorder leg ${String(l.callId)}: ${String(l.outcome)}, latency ${JSON.stringify(l.answerLatencyInMs ?? '-')} ms, recording ${JSON.stringify(l.recordingStatus)}, ended ${JSON.stringify(l.terminatedResult ?? null)}`,
    ),
    ...verdict.failures.map((f) => `  FAIL ${f}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return verdict.isPass ? 0 : 1;
}

async function main(): Promise<void> {
  let sim: TeamsSimulator | undefined;
  try {
    const args = parseCliArgs(process.argv.slice(2));
    sim = await start(args);
    process.stdout.write(
      `${JSON.stringify({ url: sim.url, caCertPath: sim.caCertPath, webhookOpenIdConfigurationUrl: sim.webhookOpenIdConfigurationUrl, controlToken: sim.controlToken })}\n`,
    );
    if (args.command === 'run') {
      process.exitCode = await run(args, sim);
      await sim.close();
      return;
    }
    const stop = (): void => {
      void sim?.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (err) {
    process.stderr.write(
      `${err instanceof ScenarioError || err instanceof Error ? err.message : String(err)}\n`,
    );
    await sim?.close();
    process.exitCode = 2;
  }
}

void main();
