/**
 * The scenario files in local/scenarios: each parses, names only directory users, and (except the
 * three-hour call) runs to its expected outcome against the minimal test recorder with an
 * injected clock. Malformed files fail with the file and field named.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { requireLocalCaTrust } from './support/local-ca';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ManualClock,
  loadScenarioFile,
  resolveScenario,
  ScenarioError,
  startTeamsSimulator,
  type Directory,
  type TeamsSimulator,
} from '../../local/src/simulator';
import { judgeOutcome, type OutcomeLike } from '../../local/src/simulator/scenarios/judge';
import { startTestMediaListener, type TestMediaListener } from './support/test-media-listener';
import { startTestRecorder, waitUntil, type TestRecorder } from './support/test-recorder';

const scenarioDir = join(__dirname, '..', '..', 'local', 'scenarios');
const directory = JSON.parse(
  readFileSync(join(scenarioDir, 'directory.json'), 'utf8'),
) as Directory;
const scenarioNames = readdirSync(scenarioDir)
  .filter((n) => n.endsWith('.json') && n !== 'directory.json')
  .map((n) => basename(n, '.json'));
const silent = (): void => undefined;

describe('scenario files', () => {
  it.each(scenarioNames)('%s parses and names only directory users', (name) => {
    const scenario = loadScenarioFile(join(scenarioDir, `${name}.json`));
    expect(scenario.name).toBe(name);
    const tenant = directory.tenants.find((t) => t.id === scenario.call.tenantId);
    expect(tenant).toBeDefined();
    for (const p of scenario.call.participants)
      if (p.user) expect(tenant!.users.map((u) => u.id)).toContain(p.user);
  });

  it('names the file and the field of a malformed scenario', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attest-scenario-'));
    const path = join(dir, 'broken.json');
    writeFileSync(
      path,
      JSON.stringify({
        name: 'broken',
        call: {
          kind: 'p2p',
          tenantId: 't',
          participants: [{ user: 'u', timeline: [{ atInMs: 0, action: 'dance' }] }],
        },
      }),
    );
    expect(() => loadScenarioFile(path)).toThrow(ScenarioError);
    expect(() => loadScenarioFile(path)).toThrow(
      `${path}: call.participants[0].timeline[0].action must be one of`,
    );
  });

  it('refuses a fleet.functionInstances outside 2 to 4, naming the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attest-scenario-'));
    const path = join(dir, 'instances.json');
    const call = { kind: 'p2p', tenantId: 't', participants: [{ user: 'u' }] };
    for (const functionInstances of [1, 5, 2.5, '2']) {
      writeFileSync(
        path,
        JSON.stringify({ name: 'instances', call, fleet: { functionInstances } }),
      );
      expect(() => loadScenarioFile(path)).toThrow(
        `${path}: fleet.functionInstances must be an integer from 2 to 4`,
      );
    }
    writeFileSync(
      path,
      JSON.stringify({ name: 'instances', call, fleet: { functionInstances: 2 } }),
    );
    expect(loadScenarioFile(path).fleet).toEqual({ functionInstances: 2 });
  });

  it('names the file of a scenario that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attest-scenario-'));
    const path = join(dir, 'garbage.json');
    writeFileSync(path, '{ name: ');
    expect(() => loadScenarioFile(path)).toThrow(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON`),
    );
  });

  it('lists the known scenarios for an unknown name', () => {
    expect(() => resolveScenario('no-such-scenario', scenarioDir)).toThrow(
      /unknown scenario 'no-such-scenario'; known: .*p2p-voip-outbound/,
    );
  });
});

describe('scenario runs against the minimal recorder', () => {
  let sim: TeamsSimulator;
  let media: TestMediaListener;
  let recorder: TestRecorder;
  const clock = new ManualClock();
  const bot = directory.bots[0]!;

  beforeAll(async () => {
    requireLocalCaTrust();
    sim = await startTeamsSimulator({
      clock,
      log: silent,
      directory,
      scenarioDir,
      behaviour: { mediaPacing: 'fast', streamVideo: false },
    });
    media = await startTestMediaListener();
    recorder = await startTestRecorder({
      simulatorUrl: sim.url,
      tenantId: directory.tenants[0]!.id,
      appId: bot.appId,
      appSecret: bot.clientSecret,
      mediaEndpoint: media.endpoint,
      participantCapacity: 200,
    });
    sim.setDirectory({ ...directory, bots: [{ ...bot, callingWebhookUrl: recorder.webhookUrl }] });
  });
  afterAll(async () => {
    await sim.close();
    await recorder.close();
    await media.close();
  });

  const settle = async (): Promise<void> => {
    let quietPolls = 0;
    await waitUntil(() => {
      quietPolls = sim.deliverer.inFlight === 0 && recorder.inFlight() === 0 ? quietPolls + 1 : 0;
      return quietPolls >= 3;
    }, 'deliveries to settle');
  };

  it.each(scenarioNames.filter((n) => n !== 'long-call-keepalive'))(
    '%s ends as its file expects',
    async (name) => {
      const scenario = resolveScenario(name, scenarioDir);
      const id = sim.engine.startCall(scenario.call);
      for (let elapsed = 0; elapsed <= (scenario.call.durationInMs ?? 0) + 1000; elapsed += 500) {
        await settle();
        clock.advance(500);
      }
      await settle();
      const verdict = judgeOutcome(
        sim.engine.outcome(id) as unknown as OutcomeLike,
        scenario.expect,
      );
      expect(verdict.failures).toEqual([]);
    },
  );
});
