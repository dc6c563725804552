import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Migration } from "kysely";
import pino from "pino";
import type { Logger } from "pino";
import { loadPolicyFile, PolicyEngine } from "../auth/policy.js";
import { InProcessTransport } from "../clients/transport.js";
import { VolumeClient } from "../clients/volume.js";
import { ComputeClient } from "../clients/compute.js";
import type { Clock } from "../common/clock.js";
import { systemClock } from "../common/clock.js";
import type { Config } from "../config/config.js";
import { publicBaseUrl } from "../config/config.js";
import type { Database } from "../db/database.js";
import { migrate, openDatabase } from "../db/database.js";
import { buildKernel } from "../http/kernel.js";
import type { ServiceDefinition } from "../http/service.js";
import type { Identity } from "../services/identity/api/deps.js";
import type { BootstrapResult } from "../services/identity/bootstrap.js";
import { bootstrap } from "../services/identity/bootstrap.js";
import { createIdentity, identityMigrations, identityService } from "../services/identity/index.js";
import type { IdentityDB } from "../services/identity/store/tables.js";
import { TokenCodec } from "../services/identity/tokens/format.js";
import { SimulatedNetworkDriver } from "../drivers/network/simulated/simulated.js";
import type { Network } from "../services/network/api/deps.js";
import { bootstrapNetwork } from "../services/network/bootstrap.js";
import { createNetwork, networkMigrations, networkService } from "../services/network/index.js";
import { ImageClient } from "../clients/image.js";
import { NetworkClient } from "../clients/network.js";
import { PlacementClient } from "../clients/placement.js";
import { LocalBlobStore } from "../drivers/blob/local/local.js";
import type { BlobStore } from "../drivers/blob/blob.js";
import { SimulatedHypervisorDriver } from "../drivers/compute/simulated/simulated.js";
import type { Compute } from "../services/compute/index.js";
import { bootstrapCompute, computeMigrations, computeService, createCompute } from "../services/compute/index.js";
import type { Image } from "../services/image/index.js";
import { createImage, imageMigrations, imageService } from "../services/image/index.js";
import type { Placement } from "../services/placement/index.js";
import { SimulatedVolumeDriver } from "../drivers/volume/simulated/simulated.js";
import type { Volume } from "../services/volume/index.js";
import { bootstrapVolume, createVolume, volumeMigrations, volumeService } from "../services/volume/index.js";
import { createPlacement, placementMigrations, placementService } from "../services/placement/index.js";
import type { ObjectStorage } from "../services/object-storage/index.js";
import { createObjectStorage, objectStorageMigrations, objectStorageService } from "../services/object-storage/index.js";
import { taskMigrations } from "../tasks/migrations.js";
import { TaskRunner } from "../tasks/runner.js";

/**
 * The composition root: the only place that picks implementations and wires them.
 * SERVICES below is the one list of what this cloud serves.
 */
export interface Cloud {
  http: FastifyInstance;
  identity: Identity;
  network: Network;
  image: Image;
  placement: Placement;
  compute: Compute;
  volume: Volume;
  objectStorage: ObjectStorage;
  /** Persisted async work (server builds, …); tests with a ManualClock call tasks.drain(). */
  tasks: TaskRunner;
  blobs: BlobStore;
  database: Database;
  /** Public base URL, e.g. http://127.0.0.1:5000 */
  url: string;
  boot: BootstrapResult;
  /** In-process client for service-to-service calls (as the stackbox-service user). */
  transport: InProcessTransport;
  close(): Promise<void>;
}

/** Catalog endpoints as DevStack registers them: /identity/v3, /compute/v2.1, the others at the prefix. */
const CATALOG_SUFFIX: Record<string, string> = { identity: "/v3", compute: "/v2.1" };

export interface StartOptions {
  clock?: Clock;
  logger?: Logger;
  /** PostgreSQL schema to use (tests isolate clouds this way). */
  schema?: string;
  /** Skip writing clouds.yaml/openrc. */
  noFiles?: boolean;
}

export function databaseUrl(config: Config): string {
  if (config.database) return config.database;
  if (config.memory) return ":memory:";
  // The state holds the token and credential keys: owner-only, as Keystone keeps its key files.
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const file = join(config.dataDir, "stackbox.db");
  if (!existsSync(file)) closeSync(openSync(file, "a", 0o600));
  // SQLite gives its -wal and -shm files the database file's permissions.
  chmodSync(file, 0o600);
  return file;
}

export async function openState(config: Config, schema?: string): Promise<Database> {
  const opts: Parameters<typeof openDatabase>[0] = { url: databaseUrl(config) };
  if (schema) opts.schema = schema;
  const database = await openDatabase(opts);
  const all: Record<string, Migration> = {
    ...identityMigrations,
    ...networkMigrations,
    ...imageMigrations,
    ...placementMigrations,
    ...computeMigrations,
    ...volumeMigrations,
    ...objectStorageMigrations,
    ...taskMigrations,
  };
  await migrate(database.db, all, database.dialect === "postgres" ? schema : undefined);
  return database;
}

export async function startCloud(config: Config, opts: StartOptions = {}): Promise<Cloud> {
  const logger = opts.logger ?? pino({ level: config.logLevel, redact: ["req.headers.x-auth-token", "req.headers.x-subject-token"] });
  const clock = opts.clock ?? systemClock;
  const database = await openState(config, opts.schema);
  const identity = await createIdentity(database, config, clock);
  const network = createNetwork(database, config, clock, new SimulatedNetworkDriver({ hosts: config.network.hosts }));
  const blobs: BlobStore = config.memory && !config.image.blobDir ? LocalBlobStore.temporary() : new LocalBlobStore(config.image.blobDir ?? join(config.dataDir, "blobs"));
  const tasks = new TaskRunner(database, clock, logger);
  const image = createImage(database, config, clock, blobs, tasks);
  const placement = createPlacement(database, config, clock);

  // Service-to-service calls go through the router (built below) as the service user.
  let http: FastifyInstance | undefined;
  let boot: BootstrapResult | undefined;
  const transport = new InProcessTransport(
    () => http as FastifyInstance,
    async () => {
      const t = await identity.tokens.issue({
        userId: boot!.serviceUserId,
        methods: ["password"],
        scope: { kind: "project", id: boot!.serviceProjectId },
      });
      return { id: t.id, expiresAt: t.payload.expiresAt };
    },
  );
  const compute = createCompute({
    database,
    config: config.compute,
    clock,
    log: logger,
    tasks,
    driver: new SimulatedHypervisorDriver(config.compute, clock),
    placement: new PlacementClient(transport),
    network: new NetworkClient(transport),
    image: new ImageClient(transport),
    volume: new VolumeClient(transport),
  });
  const volumeDriver =
    config.memory && !config.volume.dataDir
      ? SimulatedVolumeDriver.temporary(config.volume, clock)
      : new SimulatedVolumeDriver(config.volume, clock, config.volume.dataDir ?? join(config.dataDir, "volumes"));
  const volume = createVolume({
    database,
    config: config.volume,
    clock,
    log: logger,
    tasks,
    driver: volumeDriver,
    image: new ImageClient(transport),
    nova: new ComputeClient(transport),
    blobs,
  });
  const objectStorage = createObjectStorage({
    database,
    config: config.objectStorage,
    clock,
    log: logger,
    blobs,
    passwordLogin: async (project, user, password) => {
      const t = await identity.auth.authenticate({
        identity: { methods: ["password"], password: { user: { name: user, domain: { id: "default" }, password } } },
        scope: { project: { name: project, domain: { id: "default" } } },
      });
      return { token: t.id, projectId: t.project?.id ?? "", expiresAt: t.payload.expiresAt };
    },
  });
  const services: ServiceDefinition[] = [
    identityService(identity),
    networkService(network),
    imageService(image),
    placementService(placement),
    computeService(compute),
    volumeService(volume),
    objectStorageService(objectStorage),
  ];

  // One engine per service (rule names such as "owner" or "default" mean different things in
  // Keystone and Neutron); an operator policy file overrides a rule by name in every service
  // that registers it.
  const overrides = config.policyFile ? loadPolicyFile(config.policyFile) : {};
  const engines = new Map<ServiceDefinition, PolicyEngine>();
  for (const s of services) {
    const engine = new PolicyEngine([], { enforceScope: config.enforceScope, enforceNewDefaults: config.enforceNewDefaults, overrides });
    engine.register(s.policies);
    engines.set(s, engine);
  }

  let url = publicBaseUrl(config);
  http = await buildKernel({
    services,
    authenticator: identity.tokens,
    policyFor: (s) => engines.get(s) as PolicyEngine,
    logger,
    baseUrl: () => url,
    bodyLimit: config.identity.maxRequestBodySize,
  });
  await http.listen({ host: config.host, port: config.port });
  const addr = http.server.address();
  const port = typeof addr === "object" && addr ? addr.port : config.port;
  url = publicBaseUrl(config, port);

  boot = await bootstrap(identity, {
    adminPassword: config.adminPassword,
    region: config.region,
    services: services.flatMap((s) =>
      s.catalog ? s.catalog.map((e) => ({ type: e.type, name: e.name, url: `${url}${s.prefix}${e.path}` })) : [{ type: s.type, name: s.name, url: `${url}${s.prefix}${CATALOG_SUFFIX[s.type] ?? ""}` }],
    ),
  });
  await bootstrapNetwork(network, boot.adminProjectId);
  await bootstrapCompute(compute);
  await bootstrapVolume(volume);
  tasks.start();
  if (!config.memory && !opts.noFiles) writeClientFiles(config, url, boot);

  const server = http;
  return {
    http: server,
    identity,
    network,
    image,
    placement,
    compute,
    volume,
    objectStorage,
    tasks,
    blobs,
    database,
    url,
    boot,
    transport,
    close: async () => {
      await server.close();
      await tasks.stop();
      await objectStorage.close();
      await database.close();
      await blobs.destroy();
      await volumeDriver.destroy();
    },
  };
}

/** clouds.yaml and openrc for the admin, written next to the state. */
function writeClientFiles(config: Config, url: string, boot: BootstrapResult): void {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const pw = boot.adminPassword ?? config.adminPassword;
  if (!pw) return; // existing cloud: files from the first start still hold the password
  const auth = `${url}/identity/v3`;
  writeFileSync(
    join(config.dataDir, "clouds.yaml"),
    [
      "clouds:",
      "  stackbox:",
      "    auth:",
      `      auth_url: ${auth}`,
      "      username: admin",
      `      password: ${JSON.stringify(pw)}`,
      "      project_name: admin",
      "      user_domain_name: Default",
      "      project_domain_name: Default",
      `    region_name: ${config.region}`,
      "    interface: public",
      "    identity_api_version: 3",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  writeFileSync(
    join(config.dataDir, "openrc"),
    [
      `export OS_AUTH_URL=${auth}`,
      "export OS_IDENTITY_API_VERSION=3",
      "export OS_USERNAME=admin",
      `export OS_PASSWORD='${pw.replaceAll("'", "'\\''")}'`,
      "export OS_PROJECT_NAME=admin",
      "export OS_USER_DOMAIN_NAME=Default",
      "export OS_PROJECT_DOMAIN_NAME=Default",
      `export OS_REGION_NAME=${config.region}`,
      "export OS_INTERFACE=public",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
}

/** `stackbox token-rotate`: add a new primary token key, keep the newest three. */
export async function rotateTokenKeys(config: Config): Promise<number> {
  const db = await openState(config);
  try {
    return await new TokenCodec(db.db as unknown as IdentityDB).rotate();
  } finally {
    await db.close();
  }
}
