import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Response, TestCloud } from "./cloud.js";
import { unique } from "./cloud.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any;

/** Placement over HTTP at a microversion, as an admin (or the given token). */
export function placementApi(tc: TestCloud, token: () => Promise<string>) {
  const call = async (method: string, path: string, body?: unknown, version = "1.39", headers: Record<string, string> = {}): Promise<Response> =>
    tc.request(method, `/placement${path}`, {
      token: await token(),
      ...(body === undefined ? {} : { body }),
      headers: { "openstack-api-version": `placement ${version}`, ...headers },
    });
  const api = {
    call,
    /** A root provider (or a child of `parent`) with these inventories; returns its uuid. */
    async provider(opts: { name?: string; parent?: string; inventories?: Record<string, Record<string, number>>; traits?: string[]; aggregates?: string[] } = {}): Promise<string> {
      const r = await call("POST", "/resource_providers", { name: opts.name ?? unique("rp"), ...(opts.parent ? { parent_provider_uuid: opts.parent } : {}) });
      assert.equal(r.status, 200, r.text);
      const uuid = r.body.uuid as string;
      let gen = r.body.generation as number;
      if (opts.inventories) {
        const i = await call("PUT", `/resource_providers/${uuid}/inventories`, { resource_provider_generation: gen, inventories: opts.inventories });
        assert.equal(i.status, 200, i.text);
        gen = i.body.resource_provider_generation;
      }
      if (opts.traits) {
        for (const t of opts.traits) if (t.startsWith("CUSTOM_")) await call("PUT", `/traits/${t}`);
        const t = await call("PUT", `/resource_providers/${uuid}/traits`, { resource_provider_generation: gen, traits: opts.traits });
        assert.equal(t.status, 200, t.text);
        gen = t.body.resource_provider_generation;
      }
      if (opts.aggregates) {
        const a = await call("PUT", `/resource_providers/${uuid}/aggregates`, { resource_provider_generation: gen, aggregates: opts.aggregates });
        assert.equal(a.status, 200, a.text);
      }
      return uuid;
    },
    async allocate(consumer: string, allocations: Record<string, Record<string, number>>, generation: number | null = null, extra: Record<string, unknown> = {}): Promise<Response> {
      const body = {
        allocations: Object.fromEntries(Object.entries(allocations).map(([rp, resources]) => [rp, { resources }])),
        project_id: "proj",
        user_id: "user",
        consumer_generation: generation,
        consumer_type: "INSTANCE",
        ...extra,
      };
      return call("PUT", `/allocations/${consumer}`, body);
    },
    uuid: (): string => randomUUID(),
  };
  return api;
}

/** A Placement error: status, {"errors": [{"status", "title", "detail", "request_id", "code"?}]}, optionally code and detail. */
export function assertPlacementError(res: Response, status: number, code?: string | null, detail?: string | RegExp): Body {
  const shown = res.text;
  assert.equal(res.status, status, shown);
  assert.ok(Array.isArray(res.body?.errors) && res.body.errors.length === 1, `errors body expected: ${shown}`);
  const e = res.body.errors[0];
  assert.equal(e.status, status, shown);
  assert.equal(typeof e.title, "string", shown);
  assert.equal(typeof e.detail, "string", shown);
  assert.match(e.request_id, /^req-/, shown);
  if (code === null) assert.equal(e.code, undefined, shown);
  else if (code) assert.equal(e.code, code, shown);
  if (typeof detail === "string") assert.ok(e.detail.includes(detail), `detail ${JSON.stringify(e.detail)} should include ${detail}`);
  else if (detail) assert.match(e.detail, detail);
  return e;
}
