import { Readable } from "node:stream";
import { SwiftError } from "../core/errors.js";
import type { Proxy } from "../core/proxy.js";
import type { Filter, Handler, SwiftRequest, SwiftResponse } from "../core/types.js";
import { num, parseMeta } from "../store/store.js";
import type { ObjectRow } from "../store/tables.js";
import type { FilterDeps } from "./deps.js";

/** The content type of a delete marker (both legacy history mode and the new versioning). */
export const DELETE_MARKER_CONTENT_TYPE = "application/x-deleted;swift_versions_deleted=1";

const CLIENT_VERSIONS_LOC = "x-versions-location";
const CLIENT_HISTORY_LOC = "x-history-location";
const SYSMETA_VERSIONS_LOC = "x-container-sysmeta-versions-location";
const SYSMETA_VERSIONS_MODE = "x-container-sysmeta-versions-mode";
const REMOVE_HEADERS = ["x-remove-versions-location", "x-remove-history-location"];

/**
 * A PUT sub-request (pre-authorized) that writes `row`'s bytes and metadata, sysmeta included,
 * at `dest`: what the versioning middlewares do when they archive or restore a version. The
 * copy gets a new timestamp, as Swift's copies do (X-Timestamp is not carried over).
 */
export async function putCopyOf(req: SwiftRequest, next: Handler, proxy: Proxy, row: ObjectRow, dest: { container: string; object: string }, source: string): Promise<SwiftResponse> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseMeta(row.meta))) headers[k] = v;
  headers["content-type"] = row.content_type;
  headers["content-length"] = String(num(row.size));
  if (row.delete_at !== null) headers["x-delete-at"] = String(num(row.delete_at));
  const data = await proxy.readBody(row);
  const put = req.sub({ method: "PUT", path: { account: req.account, container: dest.container, object: dest.object }, headers, body: Buffer.isBuffer(data) ? Readable.from([data]) : data, preauthed: true, source });
  // The bytes and their recorded ETag (an SLO manifest's) and size stay exactly as stored.
  put.env["etagOverride"] = row.etag;
  put.env["allowSwiftBytes"] = true;
  return next(put);
}

/** swob's body-less drain of a sub-response we do not pass on. */
export function drain(r: SwiftResponse): void {
  const b = r.body as { destroy?: () => void } | undefined;
  if (b && typeof b.destroy === "function") b.destroy();
}

/** "<3 hex digits of the name's UTF-8 length><name>/" — the legacy archive prefix of one object. */
export function legacyPrefix(object: string): string {
  return `${Buffer.byteLength(object).toString(16).padStart(3, "0")}${object}/`;
}

/** _check_response_error: a client error of a sub-request is 412, anything else 503. */
function check(r: SwiftResponse): void {
  if (r.status >= 200 && r.status < 300) return;
  drain(r);
  if (r.status >= 400 && r.status < 500) throw new SwiftError(412, undefined);
  throw new SwiftError(503);
}

function unquote(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Swift's versioned_writes (legacy.py), with allow_versioned_writes on: X-Versions-Location
 * (stack mode: an overwritten object's previous version goes to the archive container as
 * <len><name>/<timestamp>, and DELETE brings the newest back) and X-History-Location (history
 * mode: DELETE archives the current version and leaves a delete marker). The location is kept
 * as container sysmeta and shown back as the header it was set with.
 */
export function versionedWritesFilter(d: FilterDeps): Filter {
  d.info.register("versioned_writes", { allowed_flags: [CLIENT_VERSIONS_LOC, CLIENT_HISTORY_LOC] });

  async function containerRequest(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const h = req.headers;
    if (h[CLIENT_VERSIONS_LOC] !== undefined && h[CLIENT_HISTORY_LOC] !== undefined) {
      if (!h[CLIENT_HISTORY_LOC]) delete h[CLIENT_HISTORY_LOC];
      else if (h[CLIENT_VERSIONS_LOC]) throw new SwiftError(400, `Only one of ${CLIENT_VERSIONS_LOC} or ${CLIENT_HISTORY_LOC} may be specified`);
      else delete h[CLIENT_VERSIONS_LOC];
    }
    if (h[CLIENT_VERSIONS_LOC] !== undefined || h[CLIENT_HISTORY_LOC] !== undefined) {
      const stack = h[CLIENT_VERSIONS_LOC] !== undefined;
      const val = (stack ? h[CLIENT_VERSIONS_LOC] : h[CLIENT_HISTORY_LOC])!;
      if (!val) {
        h["x-remove-versions-location"] = "x";
      } else {
        if (val.includes("/")) throw new SwiftError(412, "Container name cannot contain slashes");
        h[SYSMETA_VERSIONS_LOC] = val;
        h[SYSMETA_VERSIONS_MODE] = stack ? "stack" : "history";
        for (const r of REMOVE_HEADERS) delete h[r];
      }
      // Only the sysmeta is the location from now on.
      h[CLIENT_VERSIONS_LOC] = "";
      h[CLIENT_HISTORY_LOC] = "";
    }
    if (REMOVE_HEADERS.some((r) => h[r])) {
      h[CLIENT_VERSIONS_LOC] = "";
      h[CLIENT_HISTORY_LOC] = "";
      h[SYSMETA_VERSIONS_LOC] = "";
      h[SYSMETA_VERSIONS_MODE] = "";
    }
    for (const r of REMOVE_HEADERS) delete h[r];
    const resp = await next(req);
    if ((req.method === "GET" || req.method === "HEAD") && resp.status >= 200 && resp.status < 300) {
      const row = await d.store.container(req.account, req.container!);
      if (row) {
        const meta = parseMeta(row.meta);
        const loc = meta[SYSMETA_VERSIONS_LOC];
        if (loc) resp.headers[meta[SYSMETA_VERSIONS_MODE] === "history" ? CLIENT_HISTORY_LOC : CLIENT_VERSIONS_LOC] = loc;
      }
    }
    return resp;
  }

  /** _copy_current: authorize the caller's write, then archive the current version if any. */
  async function copyCurrent(req: SwiftRequest, next: Handler, versions: string): Promise<void> {
    await d.proxy.authorize(req, await d.proxy.containerFor(req));
    const cur = await d.proxy.liveObject(req.account, req.container!, req.object!);
    if (!cur) return;
    const r = await putCopyOf(req, next, d.proxy, cur, { container: versions, object: legacyPrefix(req.object!) + cur.timestamp }, "VW");
    check(r);
    drain(r);
  }

  /** Restore an archived version over the object; false when it is gone already. */
  async function restore(req: SwiftRequest, next: Handler, versions: string, name: string): Promise<boolean> {
    const row = await d.proxy.liveObject(req.account, versions, name);
    if (!row) return false;
    const r = await putCopyOf(req, next, d.proxy, row, { container: req.container!, object: req.object! }, "VW");
    check(r);
    drain(r);
    return true;
  }

  /** The archive's versions of one object, newest first. */
  async function* versionsOf(req: SwiftRequest, versions: string): AsyncGenerator<ObjectRow> {
    const prefix = legacyPrefix(req.object!);
    let marker: string | undefined;
    for (;;) {
      const page = await d.store.listObjects(req.account, versions, { prefix, marker, limit: 100, reverse: true });
      if (page.length === 0) return;
      for (const i of page) {
        if (!("row" in i)) continue;
        marker = i.row.name;
        yield i.row;
      }
      if (page.length < 100) return;
    }
  }

  /** handle_obj_versions_delete_pop: stack mode DELETE. */
  async function deletePop(req: SwiftRequest, next: Handler, versions: string): Promise<SwiftResponse> {
    const it = versionsOf(req, versions);
    let target: SwiftRequest = req;
    let authed = false;
    for await (const prev of it) {
      if (!authed) {
        await d.proxy.authorize(req, await d.proxy.containerFor(req));
        authed = true;
      }
      if (prev.content_type === DELETE_MARKER_CONTENT_TYPE) {
        if (await d.proxy.liveObject(req.account, req.container!, req.object!)) break; // back to the delete-marker state
        for await (const older of it) {
          if (older.content_type === DELETE_MARKER_CONTENT_TYPE) break;
          if (!(await restore(req, next, versions, older.name))) continue;
          const del = await next(req.sub({ method: "DELETE", path: { container: versions, object: older.name }, preauthed: true, source: "VW" }));
          drain(del);
          if (del.status !== 404) check(del);
          break;
        }
        target = req.sub({ method: "DELETE", path: { container: versions, object: prev.name }, preauthed: true, source: "VW" });
      } else {
        if (!(await restore(req, next, versions, prev.name))) continue;
        target = req.sub({ method: "DELETE", path: { container: versions, object: prev.name }, preauthed: true, source: "VW" });
      }
      delete target.headers["x-if-delete-at"];
      break;
    }
    return next(target);
  }

  async function objectRequest(req: SwiftRequest, next: Handler): Promise<SwiftResponse> {
    const container = await d.proxy.containerFor(req);
    if (!container) return next(req);
    const meta = parseMeta(container.meta);
    const loc = meta[SYSMETA_VERSIONS_LOC];
    if (!loc) return next(req);
    const mode = meta[SYSMETA_VERSIONS_MODE] || "stack";
    const versions = unquote(loc).split("/")[0]!;
    if (req.method === "PUT") {
      await copyCurrent(req, next, versions);
      return next(req);
    }
    if (mode === "history") {
      await copyCurrent(req, next, versions);
      const marker = req.sub({
        method: "PUT",
        path: { container: versions, object: legacyPrefix(req.object!) + d.time.next() },
        headers: { "content-type": DELETE_MARKER_CONTENT_TYPE, "content-length": "0" },
        body: Readable.from([]),
        preauthed: true,
        source: "VW",
      });
      const r = await next(marker);
      check(r);
      drain(r);
      return next(req);
    }
    return deletePop(req, next, versions);
  }

  return {
    name: "versioned-writes",
    async handle(req, next) {
      if (req.kind === "container") return containerRequest(req, next);
      if (req.kind === "object" && (req.method === "PUT" || req.method === "DELETE")) return objectRequest(req, next);
      return next(req);
    },
  };
}

