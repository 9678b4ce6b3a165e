import { randomUUID } from 'node:crypto';
import { publicKeyId, resolveSigner } from '@attest/core';
import { ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { createArchiveService } from '../archive/archive.service';
import { createManifestIntegrity } from '../archive/manifest-integrity';
import { createBusinessDataService } from '../archive/business-data.service';
import { TableBusinessDataHistory } from '../adapters/table-business-data';
import type { BlobServiceClient } from '@azure/storage-blob';
import { createCompletenessActivities } from '../activities/completeness.activities';
import { createExportActivities } from '../activities/export.activities';
import { recordCustodyConfiguration } from '../archive/custody-configuration.service';
import { createGdprActivities } from '../activities/gdpr.activities';
import { createInteractionSeal } from '../activities/interaction-seal';
import { AppendBlobLedgerMirror } from '../adapters/append-blob-ledger';
import { loadArchiveKeys, type ArchiveKeys } from '../adapters/archive-keys';
import { keyVaultArchiveKeys, KeyVaultKeys } from '../adapters/key-vault-keys';
import { BlobArchiveMediaStore, isAzureBlobEndpoint } from '../adapters/blob-archive-media';
import { BlobExportPackageStore } from '../adapters/blob-export-packages';
import { GuardedMediaStore } from '../adapters/guarded-archive-media';
import { createGraphClient, GraphTokenCache } from '../adapters/graph-calls';
import { GraphMemberGroups } from '../adapters/graph-member-groups';
import { OpenIdJwtVerifier } from '../adapters/jwt-verifier';
import {
  archiveTableNames,
  TableArchiveRecordStore,
  TableHoldStore,
} from '../adapters/table-archive-stores';
import { TableCustodyConfigurationStore } from '../adapters/table-custody-configuration';
import { TableExportRequestStore } from '../adapters/table-export-requests';
import { TableLedgerStore } from '../adapters/table-ledger';
import { TablePartyIndex } from '../adapters/table-party-index';
import { backfillPartyIndex } from '../archive/party-index-backfill';
import { StoreLiveCallLocator } from '../adapters/live-call-locator';
import { createStorageClients, regionalBlobService } from '../adapters/storage-clients';
import { RegionalRecordingBlobStore } from '../adapters/regional-archive-media';
import {
  createTableFactory,
  TablesInteractionStore,
  TablesMediaHostRegistry,
} from '../adapters/table-stores';
import type { FunctionsConfig } from '../config/load-config';
import {
  configuredScopes,
  createAdminAccess,
  entraGroups,
  type AdminAccess,
} from '../http/admin-access';
import type { ArchiveIntake } from '../domain/archive-intake';
import { systemClock, type GroupDirectory, type RecordingBlobStore } from '../domain/archive-ports';
import { structuredLog } from '../logging/structured-log';
import { registerArchive } from '../registrations/archive.registrations';
import { registerPortal } from '../registrations/portal.registrations';
import { createLedgerCheckpointJob } from '../timers/ledger-checkpoint.timer';

export interface ArchiveComposition {
  readonly intake: ArchiveIntake;
  /** How every admin route authenticates, decides and records (the recorder's routes too). */
  readonly adminAccess: AdminAccess;
  /** Resolves when the ledger's write-once copy has caught up (tests, graceful shutdown). */
  readonly whenLedgerMirrored: () => Promise<void>;
  /** Settles when this start's custody configuration is compared and, if changed, recorded. */
  readonly whenConfigurationRecorded: Promise<void>;
  /** Settles when the party index holds every archived interaction of every served tenant. */
  readonly whenPartyIndexBackfilled: Promise<void>;
  /** Groups of an interaction's recorded users, as archived (none when it is not archived). */
  readonly recordedGroupsOf: (
    tenantId: string,
    interactionId: string,
  ) => Promise<readonly string[]>;
}

/**
 * The composition's own lines (outside any invocation: background ledger mirroring), through the
 * recorder's structured log onto stdout, which the Functions host collects.
 */
const writeLine = (line: string): void => void process.stdout.write(`${line}\n`);
const log = structuredLog(
  { debug: writeLine, info: writeLine, warn: writeLine, error: writeLine },
  { component: 'archive' },
);

/**
 * The credential for Key Vault: the same as Storage's (the managed identity in Azure); with a
 * storage connection string (local), the app registration's secret against the configured Entra
 * authority, for the tenant the vault's challenge names.
 */
function keyVaultCredential(
  config: FunctionsConfig,
  storageCredential: TokenCredential | undefined,
): TokenCredential {
  if (storageCredential !== undefined) return storageCredential;
  const { recorder } = config;
  return new ClientSecretCredential(
    recorder.servedTenantIds[0] ?? 'organizations',
    recorder.appId,
    recorder.appSecret,
    {
      authorityHost: recorder.entraAuthorityHost,
      disableInstanceDiscovery: recorder.entraDisableInstanceDiscovery,
      additionallyAllowedTenants: ['*'],
    },
  );
}

/** Key Vault when `ATTEST_KEYVAULT_URI` is set, else the local key files. */
function archiveKeys(
  config: FunctionsConfig,
  storageCredential: TokenCredential | undefined,
): ArchiveKeys {
  const vault = config.archive.keyVault;
  if (vault === undefined) return loadArchiveKeys(config.archive);
  const keys = new KeyVaultKeys({
    vaultUri: vault.vaultUri,
    credential: keyVaultCredential(config, storageCredential),
    shouldDisableChallengeResourceVerification: vault.shouldDisableChallengeResourceVerification,
  });
  return keyVaultArchiveKeys(keys, vault);
}

/**
 * Callers' security groups from Graph, for tokens whose `groups` claim overflowed: app-only
 * tokens of the caller's tenant with the recorder's app registration.
 */
function memberGroups(config: FunctionsConfig): GraphMemberGroups {
  const { recorder } = config;
  const tokens = new GraphTokenCache({
    createCredential: (tenantId) =>
      new ClientSecretCredential(tenantId, recorder.appId, recorder.appSecret, {
        authorityHost: recorder.entraAuthorityHost,
        disableInstanceDiscovery: recorder.entraDisableInstanceDiscovery,
      }),
    refreshAheadInMs: recorder.graphTokenRefreshAheadInMs,
    onRefreshFailed: (tenantId) => log.warn('graph token refresh failed', { tenantId }),
  });
  return new GraphMemberGroups({
    clientFor: (tenantId) =>
      createGraphClient(recorder.graphBaseUrl, () => tokens.getToken(tenantId)),
    timeoutInMs: recorder.graphTimeoutInMs,
  });
}

/** Builds the archive's adapters and registers its functions. */
export function composeArchive(config: FunctionsConfig): ArchiveComposition {
  const archive = config.archive;
  const storage = createStorageClients(config.storage);
  const clock = systemClock;
  const keys = archiveKeys(config, storage.credential);
  const names = archiveTableNames(archive.tablePrefix);
  const records = new TableArchiveRecordStore(
    storage.tableClient(names.records),
    storage.tableClient(names.expiry),
  );
  const parties = new TablePartyIndex(storage.tableClient(names.parties));
  const holds = new TableHoldStore(storage.tableClient(names.holds), (tenantId, holdId) =>
    log.warn('legal hold unreadable; skipped until an operator repairs it', { tenantId, holdId }),
  );
  const mirror =
    archive.ledgerMirrorContainer === undefined
      ? undefined
      : new AppendBlobLedgerMirror(
          storage.blobService().getContainerClient(archive.ledgerMirrorContainer),
        );
  const ledger = new TableLedgerStore(storage.tableClient(names.ledger), clock, mirror, () =>
    log.warn('ledger mirror append failed; kept for the next batch', {}),
  );
  const whenConfigurationRecorded = recordCustodyConfiguration(
    { store: new TableCustodyConfigurationStore(storage.tableClient(names.settings)), ledger },
    {
      retentionPolicy: archive.retentionPolicy,
      rbacScopes: archive.rbacScopes,
      userGroups: archive.userGroups,
      operatorTenantId: archive.operatorTenantId ?? null,
      disposition: {
        approvalTimeoutInMs: archive.approvalTimeoutInMs,
        approvalReminderIntervalInMs: archive.approvalReminderIntervalInMs,
      },
    },
  ).then(
    (entry) =>
      log.info('custody configuration checked', {
        isChanged: entry !== undefined,
        ...(entry === undefined ? {} : { ledgerSeq: entry.seq }),
      }),
    // Loud, not fatal: recording must not stop; the next start compares again.
    (error: unknown) =>
      log.error('custody configuration could not be recorded in the ledger', {
        error: error instanceof Error ? error.name : 'unknown',
      }),
  );
  const mediaStoreOf = (service: BlobServiceClient): BlobArchiveMediaStore =>
    new BlobArchiveMediaStore(service, {
      recordingsContainer: archive.recordingsContainer,
      keysContainer: archive.keysContainer,
      isImmutabilitySupported: isAzureBlobEndpoint(service.url),
    });
  const homeBlobs = mediaStoreOf(storage.blobService());
  // With regions, each region's recordings are in its own account: read them all.
  const blobs: RecordingBlobStore =
    config.storage.regionalRecordings.length === 0
      ? homeBlobs
      : new RegionalRecordingBlobStore([
          { region: 'home', store: homeBlobs },
          ...config.storage.regionalRecordings.map((account) => ({
            region: account.region,
            store: mediaStoreOf(regionalBlobService(account, storage, config.storage)),
          })),
        ]);
  const media = new GuardedMediaStore(blobs, holds, clock);
  // Export packages stay in the home account, whatever region recorded their media.
  const packages = new BlobExportPackageStore(storage.blobService(), archive.exportsContainer);
  // The recorder's tables (interactions, media hosts), read for live listen-in.
  const tables = createTableFactory({
    connectionString: config.storage.connectionString,
    tableUrl: config.storage.tableUrl,
    credential: storage.credential,
  });
  const groups: GroupDirectory = {
    groupsOf: (userIds) =>
      Promise.resolve([...new Set(userIds.flatMap((id) => archive.userGroups[id] ?? []))]),
  };
  // The alert of a manifest that does not verify: an `error` line operators alert on.
  const integrity = createManifestIntegrity({
    blobs,
    records,
    manifestPublicKeyPem: keys.manifestPublicKeyPem,
    ledgerSigningKey: keys.ledgerSigner,
    clock,
    onAlert: (event) =>
      log.error('integrity alert: a signed manifest does not verify', {
        alert: 'manifestInvalid',
        ...event,
      }),
  });
  const archiveService = createArchiveService({
    records,
    holds,
    ledger,
    blobs,
    media,
    groups,
    policy: archive.retentionPolicy,
    clock,
    log,
    parties,
    integrity,
  });
  const exportRequests = new TableExportRequestStore(storage.tableClient(names.exportRequests));
  const exports = createExportActivities({
    records,
    holds,
    ledger,
    blobs,
    packages,
    kekPrivateKey: keys.kek,
    ledgerSigningKey: keys.ledgerSigner,
    manifestPublicKeyPem: keys.manifestPublicKeyPem,
    requests: exportRequests,
    integrity,
    clock,
    log,
  });
  const callLog = new TablesInteractionStore(tables);
  const completeness = createCompletenessActivities({
    records,
    invites: callLog,
    ledgerSigningKey: keys.ledgerSigner,
    clock,
  });
  // Interactions archived before the party index existed are indexed once per served tenant.
  const whenPartyIndexBackfilled = (async () => {
    for (const tenantId of config.recorder.servedTenantIds) {
      await backfillPartyIndex({ records, callLog, parties, clock, log }, tenantId).catch(
        (error: unknown) =>
          log.warn('party index backfill failed; it runs again at the next start', {
            tenantId,
            errorName: error instanceof Error ? error.name : typeof error,
          }),
      );
    }
  })();
  const gdpr = createGdprActivities({
    records,
    holds,
    parties,
    archive: archiveService,
    policy: archive.retentionPolicy,
    clock,
  });
  const admin = config.recorder.admin;
  const verifier = new OpenIdJwtVerifier({
    openIdMetadataUrl: admin.openIdMetadataUrl,
    issuers: admin.issuers,
    audiences: admin.audiences,
    allowedTenantIds: admin.allowedTenantIds,
    clockSkewInMs: admin.clockSkewInMs,
    keysRefreshIntervalInMs: admin.keysRefreshIntervalInMs,
    keysMaxStaleInMs: admin.keysMaxStaleInMs,
  });
  const scopes = configuredScopes(archive.rbacScopes, entraGroups(memberGroups(config)));
  const adminAccess = createAdminAccess({
    verifier,
    ledger,
    scopes,
    ...(archive.operatorTenantId === undefined
      ? {}
      : { operatorTenantId: archive.operatorTenantId }),
  });

  const liveCallLocator = new StoreLiveCallLocator(
    callLog,
    new TablesMediaHostRegistry(tables),
    records,
  );
  registerArchive({
    archive: archiveService,
    exports,
    exportJobs: { batchSize: archive.exportBatchSize, maxBatchesPerExecution: 100 },
    exportRequests,
    admin: {
      verifier,
      rbacScopes: archive.rbacScopes,
      scopes,
      ...(archive.operatorTenantId === undefined
        ? {}
        : { operatorTenantId: archive.operatorTenantId }),
      records,
      callLog,
      holds,
      ledger,
      blobs,
      archive: archiveService,
      completeness,
      gdpr,
      kekPrivateKey: keys.kek,
      integrity,
      businessData: createBusinessDataService({
        records,
        history: new TableBusinessDataHistory(storage.tableClient(names.businessData)),
        ledger,
        clock,
      }),
      packages,
      manualDisposition: {
        approvalTimeoutInMs: archive.approvalTimeoutInMs,
        reminderIntervalInMs: archive.approvalReminderIntervalInMs,
      },
      clock,
      newId: randomUUID,
    },
    sweep: {
      records,
      holds,
      clock,
      settings: {
        approvalTimeoutInMs: archive.approvalTimeoutInMs,
        reminderIntervalInMs: archive.approvalReminderIntervalInMs,
      },
    },
    liveListen: {
      access: adminAccess,
      calls: liveCallLocator,
      listenKey: archive.liveListenKey,
      clock,
      newId: randomUUID,
    },
    liveCalls: { access: adminAccess, interactions: callLog, calls: liveCallLocator },
    checkpoint: createLedgerCheckpointJob({ ledger, signingKey: keys.ledgerSigner, clock }),
    retentionSchedule: archive.retentionSchedule,
    checkpointSchedule: archive.checkpointSchedule,
  });

  const manifestKey = keys.manifestPublicKeyPem;
  registerPortal({
    config: config.portal,
    media: {
      access: adminAccess,
      records,
      blobs,
      manifestPublicKeyPem: async () =>
        typeof manifestKey === 'function' ? manifestKey() : manifestKey,
      interactionPublicKeyPem: async () =>
        (await resolveSigner(keys.ledgerSigner, publicKeyId)).publicKey
          .export({ type: 'spki', format: 'pem' })
          .toString(),
    },
  });

  // An interaction of several captures keeps its manifest in the home account (its captures'
  // media stay in their regions' accounts); the archive reads every account.
  const interactionSeal = createInteractionSeal({
    blobs: homeBlobs,
    signingKey: keys.ledgerSigner,
    recordSealed: (interaction) => archiveService.recordSealed(interaction),
  });

  return {
    adminAccess,
    whenLedgerMirrored: () => ledger.whenMirrored(),
    whenConfigurationRecorded,
    whenPartyIndexBackfilled,
    recordedGroupsOf: async (tenantId, interactionId) =>
      (await records.get(tenantId, interactionId))?.groupIds ?? [],
    intake: {
      recordInvite: (interaction) => archiveService.recordInvite(interaction),
      recordSealed: async (interaction, participants) => {
        await archiveService.recordSealed(interaction, participants);
      },
      sealInteraction: (interaction) => interactionSeal.sealInteraction(interaction),
    },
  };
}
