import { SwiftError, respond } from "../core/errors.js";
import { formatListing, listingFormat } from "../core/listing.js";
import { stripSwiftBytes } from "../core/proxy.js";
import { httpDate, isoTimestamp } from "../core/time.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import { num, parseMeta } from "../store/store.js";
import type { ContainerRow, ObjectRow, SwiftTrx } from "../store/tables.js";
import type { FilterDeps } from "./deps.js";
import { DELETE_MARKER_CONTENT_TYPE, drain } from "./versioned-writes.js";

const CLIENT_VERSIONS_ENABLED = "x-versions-enabled";
const SYSMETA_VERSIONS_ENABLED = "x-container-sysmeta-versions-enabled";
const SYSMETA_VERSIONS_CONT = "x-container-sysmeta-versions-container";
const LEGACY_VERSIONS_LOC = "x-container-sysmeta-versions-location";
/** The version id of the object that is current in the primary container (absent: the "null" version). */
const SYSMETA_VERSION_ID = "x-object-sysmeta-versions-version-id";
/**
 * Swift marks its hidden names with "\x00". PostgreSQL cannot store NUL in text, so Stackbox
 * uses "\x01", the next byte, which sorts the same way (before every printable character).
 */
const RESERVED = "\x01";
const HIDDEN_PREFIX = `${RESERVED}versions${RESERVED}`;
const EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e";
const HTML = "text/html; charset=UTF-8";
const NO_VERSIONS_CONTAINER = "The versions container does not exist. You may want to re-enable object versioning.";

const TRUE_VALUES = ["true", "1", "yes", "on", "t", "y"];
const isTrue = (v: string | undefined): boolean => v !== undefined && TRUE_VALUES.includes(v.trim().toLowerCase());

const badRequest = (body: string, contentType = HTML): SwiftError => new SwiftError(400, body, { "content-type": contentType });

/** Python's quote(s, safe="/"). */
function quote(s: string): string {
  return encodeURIComponent(s)
    .replace(/%2F/g, "/")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function unquote(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Swift's Timestamp(v).internal ("1700000000.12345"); undefined when v is not one. */
export function normalizeTimestamp(v: string): string | undefined {
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(v)) return undefined;
  const raw = Math.round(Number(v) * 1e5);
  if (!Number.isFinite(raw) || raw > 999999999999999) return undefined;
  return formatRaw(raw);
}

function formatRaw(raw: number): string {
  const s = String(raw).padStart(15, "0");
  return `${s.slice(0, s.length - 5)}.${s.slice(s.length - 5)}`;
}

/** ~Timestamp: newer versions sort first. */
function invert(ts: string): string {
  return formatRaw(999999999999999 - Math.round(Number(ts) * 1e5));
}

export const hiddenContainer = (container: string): string => `${HIDDEN_PREFIX}${container}`;
const versionName = (object: string, ts: string): string => `${RESERVED}${object}${RESERVED}${invert(ts)}`;

function splitVersion(name: string): { name: string; id: string } | undefined {
  if (!name.startsWith(RESERVED)) return undefined;
  const i = name.lastIndexOf(RESERVED);
  if (i <= 0) return undefined;
  const inv = normalizeTimestamp(name.slice(i + 1));
  if (!inv) return undefined;
  return { name: name.slice(1, i), id: invert(inv) };
}

const versionIdOf = (row: ObjectRow): string | undefined => parseMeta(row.meta)[SYSMETA_VERSION_ID];

function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((p) => {
    const [range = "", ...params] = p.trim().split(";");
    const r = range.trim().toLowerCase();
    if (r !== "application/json" && r !== "application/*" && r !== "*/*") return false;
    const q = params.map((x) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(x)).find((m) => m);
    return !q || Number(q[1]) > 0;
  });
}

function entryOf(row: ObjectRow): Record<string, unknown> {
  const { type, bytes } = stripSwiftBytes(row.content_type);
  return { name: row.name, hash: row.etag, bytes: bytes ?? num(row.size), content_type: type, last_modified: isoTimestamp(row.timestamp) };
}

/**
 * Swift's object_versioning (allow_object_versioning): X-Versions-Enabled on a container keeps
 * every version of its objects. Where Swift keeps each version's bytes in a hidden container
 * and a symlink in the primary one, here the current version stays a plain object in the
 * primary container (its version id in sysmeta) and the older versions and delete markers
 * live in the hidden container "\x01versions\x01<container>" as "\x01<name>\x01<inverted timestamp>"
 * (rows moved, never copied). What clients see is Swift's: X-Object-Version-Id,
 * ?version-id=, ?versions listings with version_id and is_latest, delete markers, the
 * versions' bytes in the container's and the account's bytes, and no hidden container in
 * account listings.
 */
export function objectVersioningFilter(d: FilterDeps): Filter {
  d.info.register("object_versioning", {});
  const store = d.store;

  // ------------------------------------------------------------------ rows (one transaction each)
  async function lock(trx: SwiftTrx, account: string, name: string): Promise<ContainerRow | undefined> {
    let q = trx.selectFrom("swift_container").selectAll().where("account", "=", account).where("name", "=", name);
    if (store.pg) q = q.forUpdate();
    return q.executeTakeFirst();
  }

  const removeRow = (trx: SwiftTrx, account: string, container: string, name: string): Promise<ObjectRow | undefined> => store.removeRow(trx, account, container, name);
  const addRow = (trx: SwiftTrx, row: ObjectRow): Promise<ObjectRow | undefined> => store.addRow(trx, row);

  const asVersion = (row: ObjectRow, hidden: string, object: string, id: string): ObjectRow => ({ ...row, container: hidden, name: versionName(object, id), delete_at: null });

  async function dropAll(rows: Array<ObjectRow | undefined>): Promise<void> {
    for (const r of rows) if (r) await d.proxy.dropBlob(r);
  }

  const expired = (row: ObjectRow): boolean => row.delete_at !== null && num(row.delete_at) <= d.time.nowSeconds();

  // ------------------------------------------------------------------ objects
  async function objectRequest(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const container = await d.proxy.containerFor(req);
    const meta = container ? parseMeta(container.meta) : {};
    const versions = meta[SYSMETA_VERSIONS_CONT] ? unquote(meta[SYSMETA_VERSIONS_CONT]).split("/")[0]! : "";
    const enabled = isTrue(meta[SYSMETA_VERSIONS_ENABLED]);
    const version = req.query.get("version-id");
    if (version) return versionedRequest(req, next, container, versions, version);
    if (!versions || !container) return next(req);
    switch (req.method) {
      case "PUT":
        return putObject(req, next, container, versions, enabled);
      case "DELETE":
        return deleteObject(req, next, container, versions, enabled);
      case "POST":
        return next(req);
      default: {
        const resp = await next(req);
        resp.headers["x-object-version-id"] = "null";
        if (resp.status >= 200 && resp.status < 300) {
          const cur = await d.proxy.liveObject(req.account, req.container!, req.object!);
          const id = cur && versionIdOf(cur);
          if (id) {
            resp.headers["x-object-version-id"] = id;
            resp.headers["content-location"] = `${quote(`/v1/${req.account}/${req.container!}/${req.object!}`)}?version-id=${id}`;
          }
        }
        return resp;
      }
    }
  }

  async function putObject(req: SwiftRequest, next: Handler, container: ContainerRow, versions: string, enabled: boolean): Promise<SwiftResponse> {
    const object = req.object!;
    if (!enabled) {
      // Versioning suspended: the new data is the "null" version; a versioned current one is kept.
      delete req.headers[SYSMETA_VERSION_ID];
      req.env["onReplaced"] = async (old: ObjectRow) => {
        const id = versionIdOf(old);
        if (!id || expired(old)) return false;
        return archive(old, versions, object, id);
      };
      return next(req);
    }
    await d.proxy.authorize(req, container);
    if (!(await store.container(req.account, versions))) throw new SwiftError(500, NO_VERSIONS_CONTAINER);
    const ts = d.time.next();
    req.env["timestamp"] = ts;
    req.headers[SYSMETA_VERSION_ID] = ts;
    req.env["onReplaced"] = async (old: ObjectRow) => {
      if (expired(old)) return false;
      return archive(old, versions, object, versionIdOf(old) ?? old.timestamp);
    };
    const resp = await next(req);
    if (resp.status === 201) resp.headers["x-object-version-id"] = ts;
    return resp;
  }

  /** Keep a replaced current version in the versions container; false when that is gone. */
  async function archive(old: ObjectRow, versions: string, object: string, id: string): Promise<boolean> {
    const replaced = await store.write(async (trx) => {
      if (!(await lock(trx, old.account, versions))) return false;
      return [await addRow(trx, asVersion(old, versions, object, id))];
    });
    if (replaced === false) return false;
    await dropAll(replaced);
    return true;
  }

  async function deleteObject(req: SwiftRequest, next: Handler, container: ContainerRow, versions: string, enabled: boolean): Promise<SwiftResponse> {
    const object = req.object!;
    const cur = await d.proxy.liveObject(req.account, req.container!, object);
    if (!enabled) {
      const id = cur && versionIdOf(cur);
      if (!cur || !id) return next(req);
      // Deleting a versioned current object keeps its data as a version (Swift deletes the symlink only).
      await d.proxy.authorize(req, container);
      return moveToVersions(req, versions, id);
    }
    await d.proxy.authorize(req, container);
    if (!(await store.container(req.account, versions))) throw new SwiftError(500, NO_VERSIONS_CONTAINER);
    const ts = d.time.next();
    const marker: ObjectRow = { account: req.account, container: versions, name: versionName(object, ts), timestamp: ts, size: 0, etag: EMPTY_MD5, content_type: DELETE_MARKER_CONTENT_TYPE, meta: "{}", blob: null, delete_at: null };
    const out = await store.write(async (trx) => {
      await lock(trx, req.account, req.container!);
      if (!(await lock(trx, req.account, versions))) return undefined;
      const dropped: Array<ObjectRow | undefined> = [];
      const row = await trx.selectFrom("swift_object").selectAll().where("account", "=", req.account).where("container", "=", req.container!).where("name", "=", object).executeTakeFirst();
      let moved = false;
      if (row && !expired(row)) {
        await removeRow(trx, req.account, req.container!, object);
        dropped.push(await addRow(trx, asVersion(row, versions, object, versionIdOf(row) ?? row.timestamp)));
        moved = true;
      }
      dropped.push(await addRow(trx, marker));
      return { moved, dropped };
    });
    if (!out) throw new SwiftError(500, NO_VERSIONS_CONTAINER);
    await dropAll(out.dropped);
    // Nothing current (missing or expired): the DELETE goes on and answers 404, as Swift's does.
    const resp = out.moved ? respond(204, { body: "", contentType: HTML }) : await next(req);
    if ((resp.status >= 200 && resp.status < 300) || resp.status === 404) resp.headers["x-object-version-id"] = ts;
    return resp;
  }

  /** The current versioned object leaves the primary container, its bytes kept as version `id`. */
  async function moveToVersions(req: SwiftRequest, versions: string, id: string): Promise<SwiftResponse> {
    const object = req.object!;
    const out = await store.write(async (trx) => {
      await lock(trx, req.account, req.container!);
      const hasVersions = await lock(trx, req.account, versions);
      const row = await removeRow(trx, req.account, req.container!, object);
      if (!row) return undefined;
      if (!hasVersions) return [row];
      return [await addRow(trx, asVersion(row, versions, object, id))];
    });
    if (!out) return respond(404);
    await dropAll(out);
    return respond(204, { body: "", contentType: HTML });
  }

  async function versionedRequest(req: SwiftRequest, next: Handler, container: ContainerRow | undefined, versions: string, raw: string): Promise<SwiftResponse> {
    if (req.method === "POST") throw badRequest(`${req.method} to a specific version is not allowed`);
    if (!versions && raw !== "null") throw badRequest("version-aware operations require that the container is versioned");
    let version = raw;
    if (raw !== "null") {
      const v = normalizeTimestamp(raw);
      if (!v) throw badRequest("Invalid version parameter");
      version = v;
    }
    req.query.delete("version-id");
    const object = req.object!;
    if (req.method === "DELETE") return deleteVersion(req, next, container, versions, version, raw);
    if (req.method === "PUT") return putVersion(req, container, versions, version);
    const cur = await d.proxy.liveObject(req.account, req.container!, object);
    const curId = cur && versionIdOf(cur);
    if (version === "null") {
      const resp = await next(req);
      if (resp.status >= 200 && resp.status < 300) {
        if (curId) {
          drain(resp);
          return respond(404);
        }
        resp.headers["x-object-version-id"] = "null";
      }
      return resp;
    }
    // Versions are read as objects of the versions container: its ACLs (none) apply.
    await authorizeAsVersion(req, versions, object, version);
    const target = curId === version ? { container: req.container!, object } : { container: versions, object: versionName(object, version) };
    const sub = req.sub({ method: req.method, path: target, headers: { ...req.headers }, query: new URLSearchParams(req.query), preauthed: true });
    const resp = await next(sub);
    if (resp.status >= 200 && resp.status < 300) resp.headers["x-object-version-id"] = raw;
    if (resp.headers["content-type"] === DELETE_MARKER_CONTENT_TYPE) {
      drain(resp);
      return respond(404, { headers: { "x-object-version-id": raw, "content-type": DELETE_MARKER_CONTENT_TYPE } });
    }
    return resp;
  }

  async function authorizeAsVersion(req: SwiftRequest, versions: string, object: string, version: string): Promise<void> {
    if (!req.authorize) return;
    const probe = req.sub({ method: req.method, path: { container: versions, object: versionName(object, version) } });
    await d.proxy.authorize(probe, await store.container(req.account, versions));
  }

  async function deleteVersion(req: SwiftRequest, next: Handler, container: ContainerRow | undefined, versions: string, version: string, raw: string): Promise<SwiftResponse> {
    const object = req.object!;
    const cur = await d.proxy.liveObject(req.account, req.container!, object);
    const curId = cur && versionIdOf(cur);
    if (version === "null") {
      // Straight to the current object; a versioned one keeps its data as a version.
      if (!curId || !container) return next(req);
      await d.proxy.authorize(req, container);
      return moveToVersions(req, versions, curId);
    }
    await authorizeAsVersion(req, versions, object, version);
    let resp: SwiftResponse;
    let currentId: string;
    if (curId === version) {
      resp = await next(req.sub({ method: "DELETE", path: { container: req.container!, object }, preauthed: true, source: "OV" }));
      currentId = "null";
    } else {
      resp = await next(req.sub({ method: "DELETE", path: { container: versions, object: versionName(object, version) }, preauthed: true, source: "OV" }));
      currentId = curId ?? "null";
    }
    resp.headers["x-object-version-id"] = raw;
    resp.headers["x-object-current-version-id"] = currentId;
    return resp;
  }

  /** PUT ?version-id=<id> with no body: that version becomes the current one again. */
  async function putVersion(req: SwiftRequest, container: ContainerRow | undefined, versions: string, version: string): Promise<SwiftResponse> {
    const object = req.object!;
    const cl = req.header("content-length");
    let hasBody = cl !== undefined ? cl !== "0" : false;
    if (cl === undefined && req.body) {
      for await (const c of req.body as AsyncIterable<Uint8Array>) {
        if (c.length > 0) {
          hasBody = true;
          break;
        }
      }
    }
    if (hasBody) throw badRequest("PUT version-id requests require a zero byte body", "text/plain");
    if (version === "null") throw badRequest("Invalid version parameter");
    const source = await d.proxy.liveObject(req.account, versions, versionName(object, version));
    const cur = await d.proxy.liveObject(req.account, req.container!, object);
    const curId = cur && versionIdOf(cur);
    if (!source && curId !== version) {
      if (await store.container(req.account, versions)) throw new SwiftError(404, "The specified version does not exist", { "content-type": "text/plain" });
      throw new SwiftError(500, NO_VERSIONS_CONTAINER, { "content-type": "text/plain" });
    }
    if (!container) return respond(404);
    await d.proxy.authorize(req, container);
    const ts = d.time.next();
    let restored: ObjectRow | undefined;
    if (source) {
      const out = await store.write(async (trx) => {
        await lock(trx, req.account, req.container!);
        await lock(trx, req.account, versions);
        const dropped: Array<ObjectRow | undefined> = [];
        const row = await removeRow(trx, req.account, versions, source.name);
        if (!row) return undefined;
        const old = await removeRow(trx, req.account, req.container!, object);
        if (old) {
          const id = versionIdOf(old);
          if (id && !expired(old)) dropped.push(await addRow(trx, asVersion(old, versions, object, id)));
          else dropped.push(old);
        }
        const meta = { ...parseMeta(row.meta), [SYSMETA_VERSION_ID]: version };
        const cur: ObjectRow = { ...row, container: req.container!, name: object, meta: JSON.stringify(meta), delete_at: null };
        dropped.push(await addRow(trx, cur));
        return { dropped, cur };
      });
      if (!out) throw new SwiftError(404, "The specified version does not exist", { "content-type": "text/plain" });
      await dropAll(out.dropped);
      restored = out.cur;
    } else {
      restored = cur;
    }
    return {
      status: 201,
      headers: { etag: restored!.etag, "last-modified": httpDate(ts), "content-type": HTML, "content-length": "0", "x-object-version-id": version },
      body: "",
    };
  }

  // ------------------------------------------------------------------ containers
  async function enableVersioning(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const name = req.container!;
    const row = await store.container(req.account, name);
    const meta = row ? parseMeta(row.meta) : {};
    if (meta[LEGACY_VERSIONS_LOC] || meta["x-versions-location"]) throw badRequest("Cannot enable object versioning on a container that is already using the legacy versioned writes feature.");
    if (meta["x-container-sync-to"]) throw badRequest("Cannot enable object versioning on a container configured as source of container syncing.");
    const enabled = isTrue(req.headers[CLIENT_VERSIONS_ENABLED]);
    req.headers[SYSMETA_VERSIONS_ENABLED] = enabled ? "True" : "False";
    delete req.headers[CLIENT_VERSIONS_ENABLED];
    const hidden = hiddenContainer(name);
    let made = false;
    if (enabled) {
      const r = await next(req.sub({ method: "PUT", path: { container: hidden }, headers: {}, preauthed: true, source: "OV" }));
      // Swift answers any failure here with 500; a refusal of the hidden name (too long for
      // a container name) is the caller's input, so it gets that 400 instead.
      if (r.status === 400) return r;
      drain(r);
      if (!((r.status >= 200 && r.status < 300) || r.status === 409)) throw new SwiftError(500, "Error enabling object versioning", { "content-type": HTML });
      req.headers[SYSMETA_VERSIONS_CONT] = quote(hidden);
      made = true;
    }
    const resp = await next(req);
    if (made && !(resp.status >= 200 && resp.status < 300)) {
      drain(await next(req.sub({ method: "DELETE", path: { container: hidden }, preauthed: true, source: "OV" })));
    }
    return resp;
  }

  /** X-Versions-Enabled and the versions' bytes on a container's HEAD/GET; the versions container's name. */
  async function decorate(req: SwiftRequest, resp: SwiftResponse): Promise<string> {
    const row = await store.container(req.account, req.container!);
    if (!row) return "";
    const meta = parseMeta(row.meta);
    if (meta[SYSMETA_VERSIONS_ENABLED] !== undefined) resp.headers[CLIENT_VERSIONS_ENABLED] = meta[SYSMETA_VERSIONS_ENABLED];
    const loc = meta[SYSMETA_VERSIONS_CONT] ? unquote(meta[SYSMETA_VERSIONS_CONT]) : "";
    if (loc && resp.headers["x-container-bytes-used"] !== undefined) {
      const v = await store.container(req.account, loc);
      if (v) resp.headers["x-container-bytes-used"] = String(Number(resp.headers["x-container-bytes-used"]) + num(v.bytes_used));
    }
    return loc || hiddenContainer(req.container!);
  }

  async function containerRead(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    if (req.method === "GET" && req.query.has("versions")) return listVersions(req, next);
    const resp = await next(req);
    if (resp.status >= 200 && resp.status < 300) await decorate(req, resp);
    return resp;
  }

  async function listVersions(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const q = req.query;
    const fmt = q.get("format");
    if (fmt ? fmt.toLowerCase() !== "json" : !acceptsJson(req.header("accept"))) {
      // Listing formats are checked (400/406) the way every listing is, then only JSON will do.
      listingFormat(req);
      return respond(406);
    }
    let hiddenMarker = q.get("marker") ?? "";
    const vm = q.get("version_marker");
    if (vm !== null) {
      if (!q.has("marker")) throw badRequest("version_marker param requires marker");
      if (vm !== "null") {
        const ts = normalizeTimestamp(vm);
        if (!ts) throw badRequest("invalid version_marker param");
        hiddenMarker = versionName(hiddenMarker, ts);
      }
    } else if (q.has("marker")) {
      hiddenMarker = `${RESERVED}${hiddenMarker}${RESERVED}:`;
    }
    const delim = q.get("delimiter") ?? "";
    if (/[0-9.\x00\x01]/.test(delim)) throw badRequest("invalid delimiter param");
    const primaryReq = req.sub({ method: "GET", path: { container: req.container }, headers: { ...req.headers, accept: "application/json" }, query: new URLSearchParams(q) });
    primaryReq.authorize = req.authorize;
    primaryReq.swiftOwner = req.swiftOwner;
    primaryReq.query.set("format", "json");
    primaryReq.query.delete("versions");
    const resp = await next(primaryReq);
    if (resp.status < 200 || resp.status >= 300) return resp;
    const location = await decorate(req, resp);
    const body = Buffer.isBuffer(resp.body) || typeof resp.body === "string" ? String(resp.body) : "";
    const primary = (body ? JSON.parse(body) : []) as Array<Record<string, unknown>>;
    const reverse = TRUE_VALUES.includes((q.get("reverse") ?? "").toLowerCase());
    const limit = q.has("limit") ? Number(q.get("limit")) : 10000;

    // version ids of the current objects listed
    const names = primary.filter((i) => "name" in i).map((i) => String(i["name"]));
    const ids = new Map<string, string>();
    for (let i = 0; i < names.length; i += 500) {
      const rows = await store.db.selectFrom("swift_object").select(["name", "meta"]).where("account", "=", req.account).where("container", "=", req.container!).where("name", "in", names.slice(i, i + 500)).execute();
      for (const r of rows) {
        const id = parseMeta(r.meta)[SYSMETA_VERSION_ID];
        if (id) ids.set(r.name, id);
      }
    }
    const items: Array<Record<string, unknown>> = [];
    const subdirs = new Set<string>();
    const latest = new Set<string>();
    for (const i of primary) {
      if (!("name" in i)) {
        subdirs.add(String(i["subdir"]));
        continue;
      }
      const name = String(i["name"]);
      const id = ids.get(name);
      items.push(id ? { ...i, is_latest: true, version_id: id } : { ...i, version_id: "null", is_latest: true });
      latest.add(name);
    }
    const prefix = q.get("prefix") ?? "";
    const hidden = await store.listObjects(req.account, location, {
      prefix: RESERVED + prefix,
      ...(hiddenMarker ? { marker: hiddenMarker } : {}),
      limit,
      reverse,
      ...(delim ? { delimiter: delim } : {}),
    });
    for (const h of hidden) {
      if ("subdir" in h) {
        subdirs.add(h.subdir.split(RESERVED)[1] ?? h.subdir);
        continue;
      }
      const v = splitVersion(h.row.name);
      if (!v) continue;
      const e = entryOf(h.row);
      let isLatest = false;
      if (e["content_type"] === DELETE_MARKER_CONTENT_TYPE && !latest.has(v.name)) {
        isLatest = true;
        latest.add(v.name);
      }
      items.push({ ...e, name: v.name, is_latest: isLatest, version_id: v.id });
    }
    for (const s of subdirs) items.push({ subdir: s });
    const key = (i: Record<string, unknown>): string => String(i["subdir"] ?? i["name"]);
    items.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      const c = ka < kb ? -1 : ka > kb ? 1 : 0;
      return reverse ? -c : c;
    });
    const out = JSON.stringify(items.slice(0, limit));
    const headers: Record<string, string> = { ...resp.headers, "content-type": "application/json; charset=utf-8" };
    delete headers["content-length"];
    return { status: 200, headers, body: out };
  }

  async function containerDelete(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const row = await store.container(req.account, req.container!);
    const loc = row ? parseMeta(row.meta)[SYSMETA_VERSIONS_CONT] : undefined;
    if (!loc) return next(req);
    const hidden = unquote(loc);
    const v = await store.container(req.account, hidden);
    if (v && num(v.object_count) > 0) throw new SwiftError(409, "Delete all versions before deleting container.", { "content-type": HTML });
    const resp = await next(req);
    if (resp.status >= 200 && resp.status < 300 && v) {
      drain(await next(req.sub({ method: "DELETE", path: { container: hidden }, preauthed: true, source: "OV" })));
    }
    return resp;
  }

  // ------------------------------------------------------------------ accounts
  /** Account listings never show the versions containers; their bytes count with their container's. */
  async function accountListing(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const hidden = await store.listContainers(req.account, { prefix: HIDDEN_PREFIX, limit: 10000 });
    if (hidden.length === 0) return next(req);
    const q = req.query;
    const sub = req.sub({ method: "GET", path: {}, headers: { ...req.headers, accept: "application/json" }, query: new URLSearchParams(q) });
    sub.authorize = req.authorize;
    sub.swiftOwner = req.swiftOwner;
    sub.query.set("format", "json");
    // The hidden names sort first (or last, reversed): ask for as many more and leave them out.
    const limitRaw = q.get("limit");
    const limit = limitRaw !== null && /^\d+$/.test(limitRaw) ? Number(limitRaw) : 10000;
    if (limitRaw === null || /^\d+$/.test(limitRaw)) sub.query.set("limit", String(Math.min(limit + hidden.length, Math.max(limit, 10000))));
    const resp = await next(sub);
    if (resp.status !== 200) return resp;
    const fmt = listingFormat(req);
    const body = Buffer.isBuffer(resp.body) || typeof resp.body === "string" ? String(resp.body) : "[]";
    const listing = (JSON.parse(body) as Array<Record<string, unknown>>).filter((e) => !String(e["name"] ?? e["subdir"] ?? "").startsWith(RESERVED)).slice(0, limit);
    const bytes = new Map<string, number>();
    for (const h of hidden) if ("row" in h) bytes.set(h.row.name.slice(HIDDEN_PREFIX.length), num(h.row.bytes_used));
    for (const e of listing) {
      const b = "name" in e ? bytes.get(String(e["name"])) : undefined;
      if (b !== undefined) e["bytes"] = Number(e["bytes"]) + b;
    }
    const headers = { ...resp.headers };
    delete headers["content-type"];
    delete headers["content-length"];
    return formatListing(fmt, "account", req.account, listing, headers, (e) => e);
  }

  return {
    name: "object-versioning",
    async handle(req, next) {
      switch (req.kind) {
        case "account":
          return req.method === "GET" ? accountListing(req, next) : next(req);
        case "container":
          if ((req.method === "PUT" || req.method === "POST") && req.headers[CLIENT_VERSIONS_ENABLED] !== undefined) return enableVersioning(req, next);
          if (req.method === "DELETE") return containerDelete(req, next);
          if (req.method === "GET" || req.method === "HEAD") return containerRead(req, next);
          return next(req);
        default:
          return objectRequest(req, next);
      }
    },
  };
}
