import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";

/**
 * Typed configuration. Precedence: defaults < file (stackbox.yaml in the data dir or
 * --config) < environment (STACKBOX_*) < command-line flags.
 */
export interface Config {
  host: string;
  port: number;
  /** Public base URL clients should use; derived from host/port when unset. */
  publicUrl: string | undefined;
  dataDir: string;
  /** postgres://… ; unset = SQLite file in dataDir. */
  database: string | undefined;
  memory: boolean;
  logLevel: string;
  policyFile: string | undefined;
  enforceScope: boolean;
  enforceNewDefaults: boolean;
  adminPassword: string | undefined;
  region: string;
  identity: IdentityConfig;
  network: NetworkConfig;
  image: ImageConfig;
  placement: PlacementConfig;
  compute: ComputeConfig;
  volume: VolumeConfig;
  objectStorage: ObjectStorageConfig;
}

/** proxy-server.conf knobs: keystoneauth's roles and the proxy's small-object cache. */
export interface ObjectStorageConfig {
  /** Account prefix before the project id (keystoneauth reseller_prefix). */
  resellerPrefix: string;
  /** Roles that own their project's account (operator_roles; DevStack: admin, member, swiftoperator). */
  operatorRoles: string[];
  /** Full access to every account (reseller_admin_role). */
  resellerAdminRole: string;
  /** Read-only access to their project's account (project_reader_roles). */
  projectReaderRoles: string[];
  /** Read-only access to every account (system_reader_roles). */
  systemReaderRoles: string[];
  /** Memory for the bytes of small objects (≤ 64 KiB) kept after PUT and GET, in MiB (0: none). */
  smallObjectCacheMb: number;
}

/** One cinder-volume backend (a cinder.conf enabled_backends section), simulated. */
export interface VolumeBackendConfig {
  /** Section name; the cinder-volume service host is `${volume.host}@${name}`, its one pool `${host}@${name}#${name}`. */
  name: string;
  /** The volume_backend_name capability a type's extra spec matches (default: name). */
  volumeBackendName?: string;
  /** Pool capacity in GiB. */
  capacityGb?: number;
  /** storage_availability_zone of this backend (default: volume.defaultAvailabilityZone). */
  availabilityZone?: string;
  /** Further capabilities the backend reports to the scheduler (e.g. {"multiattach": true}). */
  capabilities?: Record<string, unknown>;
}

/** cinder.conf knobs and the simulated storage backends. */
export interface VolumeConfig {
  /** enabled_backends; `stackbox serve --volume-backends a,b:500`. */
  backends: VolumeBackendConfig[];
  /** cinder.conf host: the host part of every backend's service host. */
  host: string;
  /** storage_availability_zone / default_availability_zone. */
  defaultAvailabilityZone: string;
  /** default_volume_type (Cinder creates __DEFAULT__). */
  defaultVolumeType: string;
  /** Where the simulated disks live (sparse files); default <dataDir>/volumes, a temp dir with --memory. */
  dataDir: string | undefined;
  /** Simulated operation latency in milliseconds (create, delete, extend, snapshot, backup, restore, …). */
  latencyMs: Record<string, number>;
  /** Default quotas per project, as cinder.conf [DEFAULT] quota_* (-1 is unlimited). */
  quotas: Record<string, number>;
  /** backup_sha_block_size_bytes-style chunking of backups, in MiB (incremental backups store changed chunks). */
  backupChunkMb: number;
}

/** glance-api.conf knobs that change API behaviour. */
export interface ImageConfig {
  /** Where image data lives (the blob store); default <dataDir>/blobs, a temp dir with --memory. */
  blobDir: string | undefined;
  /** image_size_cap in bytes (Glance's default 1 TiB). */
  imageSizeCap: number;
  /**
   * Glance's enabled_backends: the ids of the file stores image data may live in, the first
   * being the default. More than one enables copy-image and per-store imports.
   */
  stores: string[];
  /**
   * web-download's URI filtering ([import_filtering_opts] allowed_ports): the ports an
   * import may fetch from (Glance's default 80 and 443). Schemes are http and https.
   */
  webDownloadAllowedPorts: number[];
  /**
   * Glance's image cache (image_cache_dir set, as DevStack does): the /v2/cache API, API
   * versions 2.14–2.16, downloaded and queued images kept as cached copies.
   */
  cache: boolean;
  /**
   * Glance's enabled_import_methods (glance-direct, web-download, copy-image, glance-download);
   * copy-image is offered only with more than one store.
   */
  importMethods: string[];
}

/** placement.conf knobs. */
export interface PlacementConfig {
  /** [placement]max_allocation_candidates-style cap when a request gives no limit (-1 none). */
  maxAllocationCandidates: number;
}

/** nova.conf knobs and the simulated hypervisor fleet. */
export interface ComputeConfig {
  /** Simulated compute hosts (hypervisors); `stackbox serve --hosts N`. */
  hosts: number;
  /** Host names are `${hostPrefix}${n}`, n zero-padded to 5 digits ("compute-00001"). */
  hostPrefix: string;
  /** Capacity of each simulated host. */
  hostVcpus: number;
  hostMemoryMb: number;
  hostDiskGb: number;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  /** Hosts are spread round-robin over these availability zones. */
  availabilityZones: string[];
  /** default_availability_zone: the zone of hosts in no zone aggregate. */
  defaultAvailabilityZone: string;
  /** Simulated operation latency in milliseconds (build, delete, reboot, resize, migrate, …). */
  latencyMs: Record<string, number>;
  /** Default quotas per project, as nova.conf [quota] (-1 is unlimited). */
  quotas: Record<string, number>;
  /** nova.conf shelved_offload_time (seconds): 0 offloads at once (DevStack), -1 never. */
  shelvedOffloadTime: number;
  /** nova.conf reclaim_instance_interval (seconds): 0 = no soft delete (restore/forceDelete answer 409). */
  reclaimInstanceInterval: number;
  /** nova.conf allow_resize_to_same_host. */
  allowResizeToSameHost: boolean;
}

/** Neutron's neutron.conf / ml2_conf.ini knobs that change API behaviour. */
export interface NetworkConfig {
  /** base_mac: the first three octets are kept, the rest random. */
  baseMac: string;
  /** global_physnet_mtu; tenant (VXLAN) networks get 50 bytes less, as ML2 computes it. */
  globalPhysnetMtu: number;
  /** tenant_network_types[0]: "vxlan" (VNIs from vxlanRange) or "local". */
  tenantNetworkType: string;
  vxlanRange: [number, number];
  /** Simulated hosts the backend reports agents for (compute hosts add theirs later). */
  hosts: string[];
  /** The external network first start creates (DevStack's "public"); "" for none. */
  publicNetworkName: string;
  publicSubnetCidr: string;
  publicSubnetV6Cidr: string;
  /** Default quotas per project, as neutron.conf [quotas] (-1 is unlimited). */
  quotas: Record<string, number>;
}

export interface IdentityConfig {
  tokenExpiration: number;
  /** How long an expired token may still be validated with allow_expired. */
  allowExpiredWindow: number;
  bcryptRounds: number;
  maxRequestBodySize: number;
  lockoutFailureAttempts: number;
  lockoutDuration: number;
  uniqueLastPasswordCount: number;
  passwordExpiresDays: number;
  minimumPasswordAge: number;
  passwordRegex: string | undefined;
  passwordRegexDescription: string | undefined;
  changePasswordUponFirstUse: boolean;
  disableUserAccountDaysInactive: number;
  listLimit: number;
}

export const defaults: Config = {
  host: "127.0.0.1",
  port: 5000,
  publicUrl: undefined,
  dataDir: ".stackbox",
  database: undefined,
  memory: false,
  logLevel: "info",
  policyFile: undefined,
  enforceScope: false,
  enforceNewDefaults: false,
  adminPassword: undefined,
  region: "RegionOne",
  identity: {
    tokenExpiration: 3600,
    allowExpiredWindow: 172800,
    bcryptRounds: 12,
    maxRequestBodySize: 114688,
    lockoutFailureAttempts: 0,
    lockoutDuration: 1800,
    uniqueLastPasswordCount: 0,
    passwordExpiresDays: 0,
    minimumPasswordAge: 0,
    passwordRegex: undefined,
    passwordRegexDescription: undefined,
    changePasswordUponFirstUse: false,
    disableUserAccountDaysInactive: 0,
    listLimit: 0,
  },
  network: {
    baseMac: "fa:16:3e:00:00:00",
    globalPhysnetMtu: 1500,
    tenantNetworkType: "vxlan",
    vxlanRange: [1, 65535],
    hosts: ["stackbox"],
    publicNetworkName: "public",
    publicSubnetCidr: "172.24.4.0/24",
    publicSubnetV6Cidr: "2001:db8:ffff::/64",
    quotas: {
      network: 100,
      subnet: 100,
      subnetpool: -1,
      port: 500,
      router: 10,
      floatingip: 50,
      security_group: 10,
      security_group_rule: 100,
      rbac_policy: 10,
    },
  },
  image: {
    blobDir: undefined,
    imageSizeCap: 1099511627776,
    stores: ["local"],
    webDownloadAllowedPorts: [80, 443],
    cache: true,
    importMethods: ["glance-direct", "web-download", "copy-image", "glance-download"],
  },
  placement: {
    maxAllocationCandidates: -1,
  },
  compute: {
    hosts: 1,
    hostPrefix: "compute-",
    hostVcpus: 64,
    hostMemoryMb: 262144,
    hostDiskGb: 4096,
    cpuAllocationRatio: 4.0,
    ramAllocationRatio: 1.0,
    diskAllocationRatio: 1.0,
    availabilityZones: ["nova"],
    defaultAvailabilityZone: "nova",
    latencyMs: {},
    quotas: {
      instances: 10,
      cores: 20,
      ram: 51200,
      metadata_items: 128,
      key_pairs: 100,
      server_groups: 10,
      server_group_members: 10,
      injected_files: 5,
      injected_file_content_bytes: 10240,
      injected_file_path_bytes: 255,
    },
    shelvedOffloadTime: 0,
    reclaimInstanceInterval: 0,
    allowResizeToSameHost: false,
  },
  volume: {
    backends: [
      { name: "simulated-1", capacityGb: 1000 },
      { name: "simulated-2", capacityGb: 1000 },
    ],
    host: "stackbox",
    defaultAvailabilityZone: "nova",
    defaultVolumeType: "__DEFAULT__",
    dataDir: undefined,
    latencyMs: {},
    quotas: {
      volumes: 10,
      snapshots: 10,
      gigabytes: 1000,
      backups: 10,
      backup_gigabytes: 1000,
      groups: 10,
      per_volume_gigabytes: -1,
    },
    backupChunkMb: 32,
  },
  objectStorage: {
    resellerPrefix: "AUTH_",
    operatorRoles: ["admin", "member", "swiftoperator"],
    resellerAdminRole: "ResellerAdmin",
    projectReaderRoles: ["reader"],
    systemReaderRoles: [],
    smallObjectCacheMb: 256,
  },
};

/** The per-service sections: merged key by key (and their `quotas`/`latencyMs` maps too). */
const SECTIONS = ["identity", "network", "image", "placement", "compute", "volume", "objectStorage"] as const;
type Section = (typeof SECTIONS)[number];

export type PartialConfig = Partial<Omit<Config, Section>> & { [K in Section]?: Partial<Config[K]> };

function merge(base: Config, over: PartialConfig): Config {
  const out = { ...base } as Config;
  for (const s of SECTIONS) (out as unknown as Record<string, unknown>)[s] = { ...base[s] };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    if ((SECTIONS as readonly string[]).includes(k)) {
      const target = (out as unknown as Record<string, Record<string, unknown>>)[k]!;
      for (const [f, fv] of Object.entries(v as Record<string, unknown>)) {
        if (fv === undefined) continue;
        const cur = target[f];
        const isMap = (x: unknown): boolean => typeof x === "object" && x !== null && !Array.isArray(x);
        target[f] = isMap(cur) && isMap(fv) ? { ...(cur as object), ...(fv as object) } : fv;
      }
    } else (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

const ENV: Record<string, [keyof Config | `identity.${keyof IdentityConfig}` | `compute.${keyof ComputeConfig}`, "s" | "n" | "b"]> = {
  STACKBOX_HOST: ["host", "s"],
  STACKBOX_PORT: ["port", "n"],
  STACKBOX_PUBLIC_URL: ["publicUrl", "s"],
  STACKBOX_DATA_DIR: ["dataDir", "s"],
  STACKBOX_DATABASE: ["database", "s"],
  STACKBOX_LOG_LEVEL: ["logLevel", "s"],
  STACKBOX_POLICY_FILE: ["policyFile", "s"],
  STACKBOX_ENFORCE_SCOPE: ["enforceScope", "b"],
  STACKBOX_ENFORCE_NEW_DEFAULTS: ["enforceNewDefaults", "b"],
  STACKBOX_ADMIN_PASSWORD: ["adminPassword", "s"],
  STACKBOX_BCRYPT_ROUNDS: ["identity.bcryptRounds", "n"],
  STACKBOX_TOKEN_EXPIRATION: ["identity.tokenExpiration", "n"],
  STACKBOX_LOCKOUT_FAILURE_ATTEMPTS: ["identity.lockoutFailureAttempts", "n"],
  STACKBOX_LOCKOUT_DURATION: ["identity.lockoutDuration", "n"],
  STACKBOX_UNIQUE_LAST_PASSWORD_COUNT: ["identity.uniqueLastPasswordCount", "n"],
  STACKBOX_PASSWORD_EXPIRES_DAYS: ["identity.passwordExpiresDays", "n"],
  STACKBOX_MINIMUM_PASSWORD_AGE: ["identity.minimumPasswordAge", "n"],
  STACKBOX_PASSWORD_REGEX: ["identity.passwordRegex", "s"],
  STACKBOX_PASSWORD_REGEX_DESCRIPTION: ["identity.passwordRegexDescription", "s"],
  STACKBOX_CHANGE_PASSWORD_UPON_FIRST_USE: ["identity.changePasswordUponFirstUse", "b"],
  STACKBOX_DISABLE_USER_ACCOUNT_DAYS_INACTIVE: ["identity.disableUserAccountDaysInactive", "n"],
  STACKBOX_HOSTS: ["compute.hosts", "n"],
};

export class ConfigError extends Error {}

function coerce(name: string, raw: string, kind: "s" | "n" | "b"): unknown {
  if (kind === "s") return raw;
  if (kind === "n") {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(`${name} must be a number, got "${raw}"`);
    return n;
  }
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

export function fromEnv(env: NodeJS.ProcessEnv): PartialConfig {
  const out: PartialConfig = {};
  for (const [name, [key, kind]] of Object.entries(ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const v = coerce(name, raw, kind);
    if (key.startsWith("identity.")) {
      out.identity = { ...out.identity, [key.slice(9)]: v };
    } else if (key.startsWith("compute.")) {
      out.compute = { ...out.compute, [key.slice(8)]: v };
    } else {
      (out as Record<string, unknown>)[key] = v;
    }
  }
  const backends = env["STACKBOX_VOLUME_BACKENDS"];
  if (backends) out.volume = { backends: parseVolumeBackends(backends) };
  return out;
}

export function fromFile(path: string): PartialConfig {
  const doc: unknown = parseYaml(readFileSync(path, "utf8"));
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`${path}: not a mapping`);
  return doc as PartialConfig;
}

function validate(c: Config): Config {
  if (!Number.isInteger(c.port) || c.port < 0 || c.port > 65535) throw new ConfigError(`port ${c.port} is invalid`);
  if (c.identity.bcryptRounds < 4 || c.identity.bcryptRounds > 31) throw new ConfigError("bcryptRounds must be 4..31");
  if (c.identity.tokenExpiration <= 0) throw new ConfigError("tokenExpiration must be positive");
  if (!Number.isInteger(c.compute.hosts) || c.compute.hosts < 0 || c.compute.hosts > 100000) {
    throw new ConfigError(`compute.hosts must be an integer 0..100000, got ${c.compute.hosts}`);
  }
  const names = new Set<string>();
  for (const b of c.volume.backends) {
    if (!/^[A-Za-z0-9_.-]+$/.test(b.name ?? "")) throw new ConfigError(`volume backend name "${b.name}" is invalid`);
    if (names.has(b.name)) throw new ConfigError(`volume backend "${b.name}" is listed twice`);
    names.add(b.name);
    if (b.capacityGb !== undefined && (!Number.isFinite(b.capacityGb) || b.capacityGb <= 0)) {
      throw new ConfigError(`volume backend "${b.name}": capacityGb must be positive`);
    }
  }
  return c;
}

/** `--volume-backends a,b:500`: backend names, each with an optional capacity in GiB. */
export function parseVolumeBackends(spec: string): VolumeBackendConfig[] {
  return spec
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const [name, cap] = x.split(":");
      const b: VolumeBackendConfig = { name: name! };
      if (cap !== undefined) {
        const n = Number(cap);
        if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`--volume-backends: capacity of "${name}" must be a positive number of GiB`);
        b.capacityGb = n;
      }
      return b;
    });
}

/** Resolve the effective configuration from every source. */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; flags?: PartialConfig } = {}): Config {
  const env = fromEnv(opts.env ?? process.env);
  const flags = opts.flags ?? {};
  const dataDir = resolve(flags.dataDir ?? env.dataDir ?? defaults.dataDir);
  const file = opts.file ?? (existsSync(join(dataDir, "stackbox.yaml")) ? join(dataDir, "stackbox.yaml") : undefined);
  let c = defaults;
  if (file) c = merge(c, fromFile(file));
  c = merge(c, env);
  c = merge(c, flags);
  c.dataDir = resolve(c.dataDir);
  return validate(c);
}

export function publicBaseUrl(c: Config, boundPort?: number): string {
  if (c.publicUrl) return c.publicUrl.replace(/\/+$/, "");
  const host = c.host === "0.0.0.0" || c.host === "::" ? "127.0.0.1" : c.host;
  return `http://${host}:${boundPort ?? c.port}`;
}
