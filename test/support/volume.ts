import assert from "node:assert/strict";
import { uuid } from "../../src/common/ids.js";
import type { Response, TestCloud } from "./cloud.js";
import { unique } from "./cloud.js";
import { newVolumeRow } from "../../src/services/volume/store/rows.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = any;

/**
 * Short calls against a test cloud's Cinder at a microversion. Paths are relative to
 * /volume/v3/<project> (the catalog's form); `projectless` drops the project as 3.67 allows.
 */
export function volumeApi(tc: TestCloud, projectId: string, version = "3.0", projectless = false) {
  const base = projectless ? "/volume/v3" : `/volume/v3/${projectId}`;
  const headers = (v?: string) => ({ "openstack-api-version": `volume ${v ?? version}` });
  return {
    get: (token: string, path: string, v?: string): Promise<Response> => tc.request("GET", `${base}${path}`, { token, headers: headers(v) }),
    post: (token: string, path: string, body: unknown, v?: string): Promise<Response> => tc.request("POST", `${base}${path}`, { token, body, headers: headers(v) }),
    put: (token: string, path: string, body: unknown, v?: string): Promise<Response> => tc.request("PUT", `${base}${path}`, { token, body, headers: headers(v) }),
    del: (token: string, path: string, v?: string): Promise<Response> => tc.request("DELETE", `${base}${path}`, { token, headers: headers(v) }),
  };
}

/** A Cinder fault: status and {"<name>": {"code", "message"}}. */
export function assertVolumeError(res: Response, status: number, message?: string | RegExp): void {
  assert.equal(res.status, status, res.text);
  const keys = Object.keys(res.body ?? {});
  assert.equal(keys.length, 1, res.text);
  const inner = res.body[keys[0]!];
  assert.equal(inner.code, status, res.text);
  assert.equal(typeof inner.message, "string", res.text);
  if (typeof message === "string") assert.equal(inner.message, message);
  else if (message) assert.match(inner.message, message);
}

/** Poll a resource (GET path → body[key].status) until it reaches `status` (or fail on an error status). */
export async function waitStatus(get: () => Promise<Response>, key: string, status: string, tries = 400): Promise<Body> {
  let last: Body;
  for (let i = 0; i < tries; i++) {
    const r = await get();
    assert.equal(r.status, 200, r.text);
    last = r.body[key];
    if (last.status === status) return last;
    if (String(last.status).startsWith("error") && !status.startsWith("error")) assert.fail(`${key} ${last.id} went to ${last.status} waiting for ${status}`);
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.fail(`${key} never reached ${status}: ${JSON.stringify(last)}`);
}

/** A volume row and its disk, made directly (for tests of snapshots, backups and transfers, not of volume create). */
export async function makeVolume(t: TestCloud, projectId: string, userId: string, o: { size?: number; status?: string } = {}): Promise<string> {
  const v = t.cloud.volume;
  const backend = v.driver.backends()[0]!;
  const type = await v.core.db.selectFrom("vol_type").select("id").where("name", "=", v.config.defaultVolumeType).executeTakeFirstOrThrow();
  const id = uuid();
  const now = v.core.now();
  await v.core.db
    .insertInto("vol_volume")
    .values(
      newVolumeRow({
        id,
        project_id: projectId,
        user_id: userId,
        name: unique("vol"),
        size: o.size ?? 1,
        status: o.status ?? "available",
        availability_zone: backend.availabilityZone,
        volume_type_id: type.id,
        host: backend.pool,
        backend: backend.name,
        created_at: now,
        launched_at: now,
      }),
    )
    .execute();
  await v.driver.createVolume(backend.name, id, o.size ?? 1);
  return id;
}
