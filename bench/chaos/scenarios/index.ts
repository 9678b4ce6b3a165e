/**
 * The fault campaign, in order. Adding a scenario is one module under `scenarios/` and one line
 * here. `secrets-in-logs` stays last: it scans the log lines of every scenario before it.
 */
import type { ChaosScenario } from '../scenario';
import type { ChaosStack } from '../stack';
import { capacity150 } from './capacity.scenario';
import { deleteUnderRetention } from './delete-under-retention.scenario';
import { forgedTokens } from './forged-tokens.scenario';
import { functionAppKilled } from './function-app-killed.scenario';
import { gdprErasureUnderRetention } from './gdpr-erasure.scenario';
import { groupsGraphDown } from './groups-graph-down.scenario';
import { inviteUnanswered } from './invite-unanswered.scenario';
import { mediaHostKilled } from './media-host-killed.scenario';
import { metadataDown } from './metadata-down.scenario';
import { officerOutOfScope } from './officer-out-of-scope.scenario';
import { pairedHostKilled } from './paired-host-killed.scenario';
import { payloadUrls } from './payload-urls.scenario';
import { pciPause } from './pci-pause.scenario';
import { replayedWebhooks } from './replayed-webhooks.scenario';
import { secretsInLogs } from './secrets-in-logs.scenario';
import { storageDown } from './storage-down.scenario';
import { tampering } from './tampering.scenario';

export const CHAOS_SCENARIOS: readonly ChaosScenario<ChaosStack>[] = [
  forgedTokens,
  replayedWebhooks,
  inviteUnanswered,
  metadataDown,
  payloadUrls,
  mediaHostKilled,
  pairedHostKilled,
  storageDown,
  pciPause,
  functionAppKilled,
  capacity150,
  officerOutOfScope,
  groupsGraphDown,
  deleteUnderRetention,
  gdprErasureUnderRetention,
  tampering,
  secretsInLogs<ChaosStack>((stack) => stack.secrets),
];
