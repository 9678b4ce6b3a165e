/**
 * The Teams simulator inside the start process: Entra ID, Graph calling, the compliance policy
 * engine and the media platform on one HTTPS port with the local CA. Every bot of the demo
 * directory gets the local function app's webhook. Offers the recorder the settings it needs to
 * talk to the simulator exactly as it would talk to Microsoft's cloud.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  defaultScenarioDir,
  functionAppSettingsFor,
  loadDirectoryFile,
  startTeamsSimulator,
} from '../simulator';
import type { ServiceDefinition } from './services';

export interface SimulatorServiceOptions {
  readonly port: number;
  /** Where the function app listens, for the bots' calling webhook. */
  readonly functionsBaseUrl: string;
}

export function simulatorService(options: SimulatorServiceOptions): ServiceDefinition {
  return {
    name: 'simulator',
    async start(context) {
      const base = loadDirectoryFile(join(defaultScenarioDir(), 'directory.json'));
      const directory = {
        ...base,
        bots: base.bots.map((bot) => ({
          ...bot,
          callingWebhookUrl: `${options.functionsBaseUrl}/api/calling`,
        })),
      };
      const bot = directory.bots[0];
      if (bot === undefined) throw new Error('the simulator directory has no bot');
      const tenantIds = directory.tenants.map((tenant) => tenant.id);
      const homeTenant = bot.homeTenantId;
      const sim = await startTeamsSimulator({
        port: options.port,
        caDir: join(context.dataDir, 'ca'),
        directory,
        scenarioDir: defaultScenarioDir(),
        ...(context.env.ATTEST_SIM_CONTROL_TOKEN
          ? { controlToken: context.env.ATTEST_SIM_CONTROL_TOKEN }
          : {}),
      });
      // `npm run scenario` reads the control token from here (owner-only, removed on stop).
      const tokenFile = join(context.dataDir, 'sim-control-token');
      writeFileSync(tokenFile, sim.controlToken, { mode: 0o600 });
      return {
        name: 'simulator',
        urls: { simulator: sim.url, control: `${sim.url}/_sim/` },
        settings: {
          NODE_EXTRA_CA_CERTS: sim.caCertPath,
          ATTEST_SIM_CONTROL_TOKEN: sim.controlToken,
          ...functionAppSettingsFor(sim, bot, { served: tenantIds, home: homeTenant }),
          ATTEST_MEDIA_TLS_CERT_FILE: join(sim.caCertPath, '..', 'server-cert.pem'),
          ATTEST_MEDIA_TLS_KEY_FILE: join(sim.caCertPath, '..', 'server-key.pem'),
        },
        stop: async () => {
          rmSync(tokenFile, { force: true });
          await sim.close();
        },
      };
    },
  };
}
