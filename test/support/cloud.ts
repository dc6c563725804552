import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pino from "pino";
import { startCloud } from "../../src/app/app.js";
import type { Cloud } from "../../src/app/app.js";
import type { Clock } from "../../src/common/clock.js";
import type { PartialConfig } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/config.js";

/**
 * A fresh cloud for one test file: SQLite :memory: on port 0, or, when STACKBOX_TEST_PG is
 * set (postgres://…), a schema of its own on that PostgreSQL.
 */
export interface TestCloud {
  cloud: Cloud;
  url: string;
  /** http://127.0.0.1:<port>/identity/v3 */
  identity: string;
  adminPassword: string;
  close(): Promise<void>;
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** Project-scoped admin token. */
  adminToken(): Promise<string>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Raw body text (sent as is, for malformed-input tests). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface Response {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export const ADMIN_PASSWORD = "password";

/** `clock`: a ManualClock lets a test move time (lockout, expiry) instead of sleeping. */
export async function startTestCloud(over: PartialConfig = {}, extra: { clock?: Clock } = {}): Promise<TestCloud> {
  const pg = process.env["STACKBOX_TEST_PG"];
  const flags: PartialConfig = {
    host: "127.0.0.1",
    port: 0,
    memory: !pg,
    adminPassword: ADMIN_PASSWORD,
    logLevel: "silent",
    ...over,
    identity: { bcryptRounds: 4, ...over.identity },
  };
  if (pg) flags.database = pg;
  const config = loadConfig({ env: {}, flags });
  const opts: Parameters<typeof startCloud>[1] = { logger: pino({ level: "silent" }), noFiles: true };
  if (extra.clock) opts.clock = extra.clock;
  if (pg) opts.schema = `t_${randomBytes(6).toString("hex")}`;
  const cloud = await startCloud(config, opts);
  const url = cloud.url;
  let adminTok: string | undefined;
  const tc: TestCloud = {
    cloud,
    url,
    identity: `${url}/identity/v3`,
    adminPassword: ADMIN_PASSWORD,
    close: () => cloud.close(),
    request: (method, path, o = {}) => request(url, method, path, o),
    adminToken: async () => {
      adminTok ??= await passwordToken(tc, { name: "admin", password: ADMIN_PASSWORD, project: "admin" });
      return adminTok;
    },
  };
  return tc;
}

export async function request(base: string, method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers["x-auth-token"] = o.token;
  let body: string | undefined;
  if (o.raw !== undefined) {
    body = o.raw;
    headers["content-type"] ??= "application/json";
  } else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers["content-type"] = "application/json";
  }
  const url = path.startsWith("http") ? path : `${base}${path}`;
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface PasswordAuth {
  name?: string;
  id?: string;
  domain?: string;
  password: string;
  project?: string;
  projectId?: string;
  domainScope?: string;
  system?: boolean;
}

/** Issue a token by password; throws on anything but 201. */
export async function passwordToken(tc: TestCloud, a: PasswordAuth): Promise<string> {
  const user: Record<string, unknown> = a.id ? { id: a.id } : { name: a.name, domain: { id: a.domain ?? "default" } };
  user["password"] = a.password;
  let scope: unknown;
  if (a.projectId) scope = { project: { id: a.projectId } };
  else if (a.project) scope = { project: { name: a.project, domain: { id: a.domain ?? "default" } } };
  else if (a.domainScope) scope = { domain: { id: a.domainScope } };
  else if (a.system) scope = { system: { all: true } };
  const res = await tc.request("POST", "/identity/v3/auth/tokens", {
    body: { auth: { identity: { methods: ["password"], password: { user } }, ...(scope ? { scope } : {}) } },
  });
  if (res.status !== 201) throw new Error(`token issue failed: ${res.status} ${res.text}`);
  return res.headers.get("x-subject-token")!;
}

export function unique(prefix = "t"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** A user with `role` on a fresh project, and its project-scoped token. */
export async function persona(
  tc: TestCloud,
  role: string,
  opts: { projectId?: string } = {},
): Promise<{ userId: string; projectId: string; token: string; password: string }> {
  const admin = await tc.adminToken();
  let projectId = opts.projectId;
  if (!projectId) {
    const p = await tc.request("POST", "/identity/v3/projects", { token: admin, body: { project: { name: unique("p"), domain_id: "default" } } });
    projectId = p.body.project.id as string;
  }
  const password = unique("pw");
  const u = await tc.request("POST", "/identity/v3/users", { token: admin, body: { user: { name: unique("u"), domain_id: "default", password } } });
  const userId = u.body.user.id as string;
  const roles = await tc.request("GET", `/identity/v3/roles?name=${role}`, { token: admin });
  const roleId = roles.body.roles[0].id as string;
  const g = await tc.request("PUT", `/identity/v3/projects/${projectId}/users/${userId}/roles/${roleId}`, { token: admin });
  if (g.status !== 204) throw new Error(`grant failed: ${g.status} ${g.text}`);
  const token = await passwordToken(tc, { id: userId, password, projectId });
  return { userId, projectId, token, password };
}

/**
 * A token for admin scoped to the Default domain. Bootstrap (like keystone-manage bootstrap)
 * gives admin no domain role, so this grants admin on Default first.
 */
export async function adminDomainToken(tc: TestCloud): Promise<string> {
  const admin = await tc.adminToken();
  const me = await tc.request("GET", "/identity/v3/users?name=admin&domain_id=default", { token: admin });
  const role = await tc.request("GET", "/identity/v3/roles?name=admin", { token: admin });
  const g = await tc.request("PUT", `/identity/v3/domains/default/users/${me.body.users[0].id}/roles/${role.body.roles[0].id}`, { token: admin });
  if (g.status !== 204) throw new Error(`domain grant failed: ${g.status} ${g.text}`);
  return passwordToken(tc, { name: "admin", password: tc.adminPassword, domainScope: "default" });
}

/** A Keystone error answer: the status, and {"error": {"code", "title", "message"}} matching it. */
export function assertIdentityError(res: { status: number; body: any; text?: string }, status: number, message?: string | RegExp): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(res.status, status, res.text ?? JSON.stringify(res.body));
  assert.equal(res.body?.error?.code, status, res.text ?? JSON.stringify(res.body));
  assert.equal(typeof res.body.error.title, "string");
  assert.equal(typeof res.body.error.message, "string");
  if (typeof message === "string") assert.equal(res.body.error.message, message);
  else if (message) assert.match(res.body.error.message, message);
}

/** A Neutron error: status, {"NeutronError": {"type", "message", "detail": ""}}, optionally its type and message. */
export function assertNeutronError(res: { status: number; body: any; text?: string }, status: number, type?: string, message?: string | RegExp): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const shown = res.text ?? JSON.stringify(res.body);
  assert.equal(res.status, status, shown);
  assert.ok(res.body?.NeutronError, `NeutronError body expected: ${shown}`);
  assert.equal(typeof res.body.NeutronError.message, "string", shown);
  assert.equal(res.body.NeutronError.detail, "", shown);
  if (type) assert.equal(res.body.NeutronError.type, type, shown);
  if (typeof message === "string") assert.equal(res.body.NeutronError.message, message);
  else if (message) assert.match(res.body.NeutronError.message, message);
}
