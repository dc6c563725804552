import assert from "node:assert/strict";
import { test } from "node:test";
import { BadRequest, NotAcceptable } from "../../src/common/errors.js";
import { Microversion, negotiate, versionHeaders } from "../../src/http/microversion.js";
import type { MicroversionSpec } from "../../src/http/microversion.js";

const spec: MicroversionSpec = {
  serviceType: "compute",
  versions: ["2.1", "2.2", "2.3", "2.10", "2.11"],
  legacyHeaders: ["x-openstack-nova-api-version"],
};

test("no header means the minimum", () => {
  assert.equal(negotiate(spec, {}).toString(), "2.1");
});

test("OpenStack-API-Version picks our service's entry among several", () => {
  const v = negotiate(spec, { "openstack-api-version": "placement 1.10, compute 2.10" });
  assert.equal(v.toString(), "2.10");
});

test("latest is the maximum", () => {
  assert.equal(negotiate(spec, { "openstack-api-version": "compute latest" }).toString(), "2.11");
});

test("legacy header is read when the new one does not name us", () => {
  assert.equal(negotiate(spec, { "x-openstack-nova-api-version": "2.3" }).toString(), "2.3");
});

test("out of range versions are 406, malformed ones 400", () => {
  for (const h of ["compute 2.12", "compute 1.0", "compute 3.1", "compute 2.4"]) {
    assert.throws(() => negotiate(spec, { "openstack-api-version": h }), (e: unknown) => e instanceof NotAcceptable && e.status === 406, h);
  }
  for (const h of ["compute abc", "compute 2", "compute 2.x"]) {
    assert.throws(() => negotiate(spec, { "openstack-api-version": h }), (e: unknown) => e instanceof BadRequest && e.status === 400 && /is of invalid format/.test(e.message), h);
  }
});

test("comparison is numeric, not lexical", () => {
  const v = Microversion.of("2.10");
  assert.ok(v.atLeast("2.9"));
  assert.ok(!v.atLeast("2.11"));
  assert.ok(v.within("2.2", "2.10"));
  assert.ok(!v.within(undefined, "2.9"));
});

test("response headers echo the version and vary on the request headers", () => {
  const h = versionHeaders(spec, Microversion.of("2.10"));
  assert.equal(h["openstack-api-version"], "compute 2.10");
  assert.match(h["vary"]!, /OpenStack-API-Version/);
  assert.match(h["vary"]!, /x-openstack-nova-api-version/);
  assert.equal(h["x-openstack-nova-api-version"], "2.10");
});
