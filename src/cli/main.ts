#!/usr/bin/env node
import { Command } from "commander";
import { join } from "node:path";
import { openState, rotateTokenKeys, startCloud } from "../app/app.js";
import type { PartialConfig } from "../config/config.js";
import { loadConfig, parseVolumeBackends } from "../config/config.js";

/** argv → Config → app. */
const program = new Command();
program.name("stackbox").description("An OpenStack cloud in one Node.js process");

interface CommonFlags {
  config?: string;
  dataDir?: string;
  database?: string;
}

function common(cmd: Command): Command {
  return cmd
    .option("--config <file>", "configuration file (YAML or JSON)")
    .option("--data-dir <dir>", "where state lives (default ./.stackbox)")
    .option("--database <url>", "postgres://… instead of the SQLite file");
}

function flagsOf(o: CommonFlags & Record<string, unknown>): PartialConfig {
  const f: PartialConfig = {};
  if (o.dataDir) f.dataDir = o.dataDir;
  if (o.database) f.database = o.database;
  return f;
}

common(program.command("serve"))
  .description("run the cloud")
  .option("--host <host>", "address to bind")
  .option("--port <port>", "port to bind", (v) => Number(v))
  .option("--public-url <url>", "URL clients use to reach this cloud")
  .option("--memory", "throwaway in-memory state")
  .option("--admin-password <pw>", "admin password on first start (default: random)")
  .option("--policy-file <file>", "operator policy overrides (YAML or JSON)")
  .option("--enforce-scope", "reject tokens whose scope a rule does not allow")
  .option("--enforce-new-defaults", "use only the new (secure RBAC) policy defaults")
  .option("--log-level <level>", "pino log level")
  .option("--hosts <n>", "simulated compute hosts (hypervisors)", (v) => Number(v))
  .option("--volume-backends <list>", "simulated block storage backends: name[:capacityGiB],…")
  .action(async (o: CommonFlags & Record<string, unknown>) => {
    const flags = flagsOf(o);
    if (o["host"]) flags.host = o["host"] as string;
    if (o["port"] !== undefined) flags.port = o["port"] as number;
    if (o["publicUrl"]) flags.publicUrl = o["publicUrl"] as string;
    if (o["memory"]) flags.memory = true;
    if (o["adminPassword"]) flags.adminPassword = o["adminPassword"] as string;
    if (o["policyFile"]) flags.policyFile = o["policyFile"] as string;
    if (o["enforceScope"]) flags.enforceScope = true;
    if (o["enforceNewDefaults"]) flags.enforceNewDefaults = true;
    if (o["logLevel"]) flags.logLevel = o["logLevel"] as string;
    if (o["hosts"] !== undefined) flags.compute = { hosts: o["hosts"] as number };
    if (o["volumeBackends"] !== undefined) flags.volume = { backends: parseVolumeBackends(o["volumeBackends"] as string) };
    const config = loadConfig(o.config ? { file: o.config, flags } : { flags });
    const cloud = await startCloud(config);
    const lines = [
      `Stackbox is serving at ${cloud.url}`,
      `  identity:  ${cloud.url}/identity/v3`,
      `  compute:   ${cloud.url}/compute/v2.1  (${config.compute.hosts} simulated host${config.compute.hosts === 1 ? "" : "s"})`,
      `  placement: ${cloud.url}/placement`,
      `  network:   ${cloud.url}/networking`,
      `  image:     ${cloud.url}/image`,
      `  volume:    ${cloud.url}/volume/v3  (${config.volume.backends.map((b) => b.name).join(", ")})`,
    ];
    if (cloud.boot.adminPassword) {
      lines.push(`  admin user: admin  password: ${cloud.boot.adminPassword}  (project admin, domain Default)`);
    }
    if (!config.memory) {
      lines.push(`  clouds.yaml: ${join(config.dataDir, "clouds.yaml")}   openrc: ${join(config.dataDir, "openrc")}`);
    }
    process.stdout.write(lines.join("\n") + "\n");
    const stop = async (): Promise<void> => {
      await cloud.close();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop());
    process.on("SIGTERM", () => void stop());
  });

common(program.command("db-migrate"))
  .description("create or upgrade the database schema")
  .action(async (o: CommonFlags & Record<string, unknown>) => {
    const config = loadConfig(o.config ? { file: o.config, flags: flagsOf(o) } : { flags: flagsOf(o) });
    const db = await openState(config);
    await db.close();
    process.stdout.write("database is up to date\n");
  });

common(program.command("token-rotate"))
  .description("add a new token key and retire the oldest (keeps 3), like keystone-manage fernet_rotate")
  .action(async (o: CommonFlags & Record<string, unknown>) => {
    const config = loadConfig(o.config ? { file: o.config, flags: flagsOf(o) } : { flags: flagsOf(o) });
    const id = await rotateTokenKeys(config);
    process.stdout.write(`token key ${id} is now primary\n`);
  });

program.parseAsync().catch((e: unknown) => {
  process.stderr.write(`stackbox: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
