import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { BlobStore } from "../../../drivers/blob/blob.js";
import { BlobTooLarge } from "../../../drivers/blob/blob.js";
import type { Listed, Meta, SwiftStore } from "../store/store.js";
import { num, parseMeta } from "../store/store.js";
import type { ContainerRow, ObjectRow } from "../store/tables.js";
import { cleanAccountAcl, cleanAcl } from "./acl.js";
import { LIMITS, checkMetadata, deleteAt, titleCase } from "./constraints.js";
import { SwiftError, fail, respond } from "./errors.js";
import type { SmallObjectCache } from "./cache.js";
import { formatListing, listingFormat, pyJson } from "./listing.js";
import { guessType } from "./mimetypes.js";
import { conditionalStatus, parseRanges, multipartRanges } from "./ranges.js";
import type { Timestamps } from "./time.js";
import { httpDate, isoTimestamp } from "./time.js";
import type { SwiftRequest, SwiftResponse } from "./types.js";

/** Object headers kept with the object besides X-Object-Meta-* (the object server's allowed_headers). */
const ALLOWED_OBJECT_HEADERS = [
  "content-disposition",
  "content-encoding",
  "content-language",
  "cache-control",
  "expires",
  "x-robots-tag",
  "x-delete-at",
  "x-object-manifest",
  "x-static-large-object",
];

/** Container headers kept besides X-Container-Meta-* (ACLs, sync, legacy versioning). */
const CONTAINER_HEADERS = ["x-container-read", "x-container-write", "x-container-sync-to", "x-container-sync-key", "x-versions-location", "x-history-location"];

/** Headers only an account owner may set or see (proxy's swift_owner_headers). */
export const OWNER_HEADERS = [
  "x-container-read",
  "x-container-write",
  "x-container-sync-key",
  "x-container-sync-to",
  "x-account-meta-temp-url-key",
  "x-account-meta-temp-url-key-2",
  "x-container-meta-temp-url-key",
  "x-container-meta-temp-url-key-2",
  "x-account-access-control",
];

export const ACCOUNT_ACL_SYSMETA = "x-account-sysmeta-core-access-control";
/** keystoneauth's PROJECT_DOMAIN_ID_SYSMETA_HEADER (answered as X-Account-Project-Domain-Id). */
export const PROJECT_DOMAIN_SYSMETA = "x-account-sysmeta-project-domain-id";
/** Objects up to this size stay in the small-object cache after a PUT or GET. */
const CACHE_MAX_OBJECT = 64 * 1024;

export interface ProxyDeps {
  store: SwiftStore;
  blobs: BlobStore;
  time: Timestamps;
  cache: SmallObjectCache;
  resellerPrefix: string;
  /** Default storage policy name (/info policies). */
  policy: string;
}

/**
 * The proxy server: accounts, containers and objects over the store and the blob store.
 * Filters in front of it (auth, SLO, versioning, …) see and shape every request first; the
 * proxy authorizes each one with req.authorize once it knows the container's ACLs.
 */
export class Proxy {
  constructor(private readonly d: ProxyDeps) {}

  async handle(req: SwiftRequest): Promise<SwiftResponse> {
    switch (req.kind) {
      case "account":
        return this.account(req);
      case "container":
        return this.container(req);
      default:
        return this.object(req);
    }
  }

  // ------------------------------------------------------------------ authorization
  /** The account's ACL for keystoneauth (sysmeta), read once per request. */
  private async loadAccountAcl(req: SwiftRequest): Promise<void> {
    if (req.env["accountAcl"] !== undefined || !req.authorize) return;
    const row = await this.d.store.account(req.account);
    const meta = row ? parseMeta(row.meta) : {};
    req.env["accountAcl"] = meta[ACCOUNT_ACL_SYSMETA] ?? "";
    // keystoneauth's get_project_domain_id: names in ACLs count only in default-domain accounts.
    req.env["accountExists"] = row !== undefined;
    req.env["accountDomain"] = meta[PROJECT_DOMAIN_SYSMETA] ?? null;
  }

  /** Throws the refusal when req.authorize denies `req` against the container's ACLs (filters use it before side effects). */
  async authorize(req: SwiftRequest, container: ContainerRow | undefined, delayDenial = true): Promise<void> {
    if (!req.authorize) {
      req.swiftOwner = true;
      return;
    }
    // As Swift's proxy: swift.authorize runs first without ACLs (an owner is recognised, and
    // so marked swift_owner, even where an ACL would also let it in); only the handlers that
    // delay denial (object requests, container GET/HEAD) ask again with the container's ACL.
    const attempt = (): SwiftResponse | undefined => {
      const first = req.authorize!(req, undefined);
      if (!first || !delayDenial) return first;
      return req.authorize!(req, container ? aclsOf(container) : { read: undefined, write: undefined });
    };
    let denied = attempt();
    if (denied && req.identity && req.account !== `${this.d.resellerPrefix}${req.identity.projectId ?? ""}`) {
      await this.loadAccountAcl(req);
      denied = attempt();
    }
    if (denied) throw new SwiftErrorResponse(denied);
  }

  // ------------------------------------------------------------------ accounts
  private async account(req: SwiftRequest): Promise<SwiftResponse> {
    if (req.account.length > LIMITS.max_account_name_length) fail(400, `Account name length of ${req.account.length} longer than ${LIMITS.max_account_name_length}`);
    switch (req.method) {
      case "HEAD":
      case "GET": {
        // listing_formats sits before auth in Swift's pipeline: a bad Accept is refused first.
        const fmt = listingFormat(req);
        await this.loadAccountAcl(req);
        await this.authorize(req, undefined, false);
        const row = await this.d.store.account(req.account);
        const stats = await this.d.store.accountStats(req.account);
        const ts = row?.created_at ?? this.d.time.next();
        const meta = row ? parseMeta(row.meta) : {};
        const headers: Record<string, string> = {
          "x-account-container-count": String(stats.containers),
          "x-account-object-count": String(stats.objects),
          "x-account-bytes-used": String(stats.bytes),
          "x-timestamp": ts,
          "x-put-timestamp": row?.put_timestamp ?? ts,
          ...metaHeaders(meta, req.swiftOwner),
        };
        if (stats.containers > 0) {
          const p = `x-account-storage-policy-${this.d.policy.toLowerCase()}`;
          headers[`${p}-container-count`] = String(stats.containers);
          headers[`${p}-object-count`] = String(stats.objects);
          headers[`${p}-bytes-used`] = String(stats.bytes);
        }
        if (req.swiftOwner && meta[ACCOUNT_ACL_SYSMETA]) headers["x-account-access-control"] = meta[ACCOUNT_ACL_SYSMETA];
        if (meta[PROJECT_DOMAIN_SYSMETA] !== undefined) headers["x-account-project-domain-id"] = meta[PROJECT_DOMAIN_SYSMETA];
        // The proxy's get_working_response: only a real (not autocreated-on-the-fly) account says so.
        if (row) headers["accept-ranges"] = "bytes";
        // listing_formats: the format decides HEAD's Content-Type too; Vary: Accept unless ?format= chose it.
        if (!req.query.has("format")) headers["vary"] = "Accept";
        if (req.method === "HEAD") return { status: 204, headers: { ...headers, "content-type": `${fmt}; charset=utf-8`, "content-length": "0" } };
        const o = listOptions(req, LIMITS.account_listing_limit);
        const items = await this.d.store.listContainers(req.account, o);
        return formatListing(fmt, "account", req.account, items, headers, containerEntry);
      }
      case "POST": {
        await this.loadAccountAcl(req);
        await this.authorize(req, undefined, false);
        checkMetadata(req, "account");
        const update = { ...this.accountMetaUpdate(req), ...(await this.domainUpdate(req)) };
        await this.d.store.ensureAccount(req.account, this.d.time.next(), update);
        return respond(204, { body: "", contentType: "text/html; charset=UTF-8" });
      }
      case "PUT":
      case "DELETE":
        // allow_account_management is off, as in DevStack: accounts come and go with projects.
        return respond(405, { headers: { allow: "HEAD, GET, POST" } });
      default:
        return respond(405, { headers: { allow: "HEAD, GET, POST" } });
    }
  }

  /**
   * keystoneauth's _set_project_domain_id (account POST, container PUT): an account records
   * the domain of its project when it is created by one of its users ("_unknown" when someone
   * else creates it), or later when that user confirms it.
   */
  private async domainUpdate(req: SwiftRequest): Promise<Meta> {
    const id = req.identity;
    if (!id || !req.authorize) return {};
    const own = req.account === `${this.d.resellerPrefix}${id.projectId ?? ""}`;
    const row = await this.d.store.account(req.account);
    if (!row) return { [PROJECT_DOMAIN_SYSMETA]: own ? (id.projectDomainId ?? "") : "_unknown" };
    const cur = parseMeta(row.meta)[PROJECT_DOMAIN_SYSMETA];
    if (own && ((cur === undefined && id.projectDomainId === "default") || cur === "_unknown")) return { [PROJECT_DOMAIN_SYSMETA]: id.projectDomainId ?? "" };
    return {};
  }

  private accountMetaUpdate(req: SwiftRequest): Meta {
    const out: Meta = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith("x-account-meta-")) {
        if ((k === "x-account-meta-temp-url-key" || k === "x-account-meta-temp-url-key-2") && !req.swiftOwner) continue;
        out[k] = v;
      } else if (k.startsWith("x-remove-account-meta-")) {
        out[`x-account-meta-${k.slice("x-remove-account-meta-".length)}`] = "";
      } else if (k.startsWith("x-account-sysmeta-")) {
        out[k] = v;
      }
    }
    if (req.swiftOwner) {
      const acl = req.header("x-account-access-control");
      if (acl !== undefined) out[ACCOUNT_ACL_SYSMETA] = cleanAccountAcl(acl);
      if (req.header("x-remove-account-access-control") !== undefined) out[ACCOUNT_ACL_SYSMETA] = "";
    }
    return out;
  }

  // ------------------------------------------------------------------ containers
  private async container(req: SwiftRequest): Promise<SwiftResponse> {
    const name = req.container!;
    switch (req.method) {
      case "HEAD":
      case "GET": {
        const fmt = listingFormat(req);
        const row = await this.d.store.container(req.account, name);
        await this.authorize(req, row);
        if (!row) return respond(404);
        const meta = parseMeta(row.meta);
        const headers: Record<string, string> = {
          "x-container-object-count": String(num(row.object_count)),
          "x-container-bytes-used": String(num(row.bytes_used)),
          "x-timestamp": row.created_at,
          "x-put-timestamp": row.put_timestamp,
          "x-storage-policy": this.d.policy,
          "last-modified": httpDate(row.put_timestamp),
          "accept-ranges": "bytes",
          ...metaHeaders(meta, req.swiftOwner),
        };
        // listing_formats: the format decides HEAD's Content-Type too; Vary: Accept unless ?format= chose it.
        if (!req.query.has("format")) headers["vary"] = "Accept";
        if (req.method === "HEAD") return { status: 204, headers: { ...headers, "content-type": `${fmt}; charset=utf-8`, "content-length": "0" } };
        const o = listOptions(req, LIMITS.container_listing_limit);
        const now = this.d.time.nowSeconds();
        const load = async (): Promise<Listed<ObjectRow>[]> => {
          const items = await this.d.store.listObjects(req.account, name, { ...o, lean: true });
          return items.filter((i) => !("row" in i) || i.row.delete_at === null || num(i.row.delete_at) > now);
        };
        if (fmt === "application/json") {
          // The common big case, written straight to text (the same bytes pyJson makes of
          // objectEntry), and kept until the next write: listing an unchanged container again
          // costs no query.
          const key = `${req.account}\0${name}\0${o.prefix ?? ""}\0${o.marker ?? ""}\0${o.endMarker ?? ""}\0${o.limit}\0${o.reverse}\0${o.delimiter ?? ""}`;
          const body = await this.d.store.listingBody(key, now, async () => {
            const live = await load();
            let until = Number.POSITIVE_INFINITY;
            const parts: string[] = new Array<string>(live.length);
            for (let i = 0; i < live.length; i++) {
              const it = live[i]!;
              if ("row" in it && it.row.delete_at !== null) until = Math.min(until, num(it.row.delete_at));
              parts[i] = objectEntryJson(it);
            }
            return { body: `[${parts.join(", ")}]`, until };
          });
          return { status: 200, headers: { ...headers, "content-type": "application/json; charset=utf-8" }, body };
        }
        const live = await load();
        return formatListing(fmt, "container", name, live, headers, objectEntry);
      }
      case "PUT": {
        await this.authorize(req, undefined, false);
        if (Buffer.byteLength(name) > LIMITS.max_container_name_length) fail(400, `Container name length of ${Buffer.byteLength(name)} longer than ${LIMITS.max_container_name_length}`);
        checkMetadata(req, "container");
        const policy = req.header("x-storage-policy");
        if (policy !== undefined && policy.toLowerCase() !== this.d.policy.toLowerCase()) fail(400, `Invalid X-Storage-Policy '${policy}'`);
        const existing = await this.d.store.container(req.account, name);
        if (existing && policy !== undefined && policy.toLowerCase() !== this.d.policy.toLowerCase()) return respond(409);
        const meta = this.containerMetaUpdate(req);
        const ts = this.d.time.next();
        await this.d.store.ensureAccount(req.account, ts, await this.domainUpdate(req));
        const created = await this.d.store.putContainer(req.account, name, ts, meta);
        return created ? respond(201, { body: "", contentType: "text/html; charset=UTF-8" }) : respond(202);
      }
      case "POST": {
        const row = await this.d.store.container(req.account, name);
        await this.authorize(req, row, false);
        // Swift checks the ACLs and metadata before it looks for the container.
        checkMetadata(req, "container");
        const meta = this.containerMetaUpdate(req);
        if (!row) return respond(404);
        if (!(await this.d.store.updateContainerMeta(req.account, name, meta))) return respond(404);
        return respond(204, { body: "", contentType: "text/html; charset=UTF-8" });
      }
      case "DELETE": {
        const row = await this.d.store.container(req.account, name);
        await this.authorize(req, row, false);
        if (!row) return respond(404);
        const r = await this.d.store.deleteContainer(req.account, name);
        if (r === "gone") return respond(404);
        if (r === "not-empty") return respond(409);
        return respond(204, { body: "", contentType: "text/html; charset=UTF-8" });
      }
      default:
        return respond(405, { headers: { allow: "HEAD, GET, PUT, POST, DELETE" } });
    }
  }

  private containerMetaUpdate(req: SwiftRequest): Meta {
    const out: Meta = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith("x-container-meta-")) {
        if ((k === "x-container-meta-temp-url-key" || k === "x-container-meta-temp-url-key-2") && !req.swiftOwner) continue;
        out[k] = v;
      } else if (k.startsWith("x-remove-container-meta-")) {
        out[`x-container-meta-${k.slice("x-remove-container-meta-".length)}`] = "";
      } else if (k.startsWith("x-container-sysmeta-")) {
        out[k] = v;
      } else if (CONTAINER_HEADERS.includes(k)) {
        if (OWNER_HEADERS.includes(k) && !req.swiftOwner) continue;
        out[k] = k === "x-container-read" || k === "x-container-write" ? cleanAcl(k, v) : v;
      } else if (k.startsWith("x-remove-") && CONTAINER_HEADERS.includes(`x-${k.slice("x-remove-".length)}`)) {
        const target = `x-${k.slice("x-remove-".length)}`;
        if (OWNER_HEADERS.includes(target) && !req.swiftOwner) continue;
        out[target] = "";
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ objects
  /** The container row an object request needs (ACLs, existence); 404 when it is gone. */
  async containerFor(req: SwiftRequest): Promise<ContainerRow | undefined> {
    const cached = req.env["containerRow"] as ContainerRow | undefined;
    if (cached && cached.account === req.account && cached.name === req.container) return cached;
    const row = await this.d.store.container(req.account, req.container!);
    if (row) req.env["containerRow"] = row;
    return row;
  }

  private async object(req: SwiftRequest): Promise<SwiftResponse> {
    if (req.method === "GET" || req.method === "HEAD") {
      // The hot path: container and object in one query (or none: the store's read cache).
      const both = await this.d.store.containerAndObject(req.account, req.container!, req.object!);
      if (both.container) req.env["containerRow"] = both.container;
      req.env["objectRow"] = both.object ?? null;
    }
    const container = await this.containerFor(req);
    await this.authorize(req, container);
    switch (req.method) {
      case "HEAD":
      case "GET":
        if (!container) return respond(404);
        return this.getObject(req);
      case "PUT":
        if (!container) return respond(404);
        return this.putObject(req);
      case "POST":
        if (!container) return respond(404);
        return this.postObject(req);
      case "DELETE": {
        if (!container) return respond(404);
        const row = await this.d.store.deleteObject(req.account, req.container!, req.object!);
        if (!row || this.expired(row)) {
          if (row) await this.dropBlob(row);
          return respond(404);
        }
        await this.dropBlob(row);
        return respond(204, { body: "", contentType: "text/html; charset=UTF-8" });
      }
      default:
        return respond(405, { headers: { allow: "HEAD, GET, PUT, POST, DELETE, COPY, OPTIONS" } });
    }
  }

  private expired(row: ObjectRow): boolean {
    return row.delete_at !== null && num(row.delete_at) <= this.d.time.nowSeconds();
  }

  /** The live object row, or undefined (missing or past its X-Delete-At). */
  async liveObject(account: string, container: string, name: string): Promise<ObjectRow | undefined> {
    const row = await this.d.store.object(account, container, name);
    if (!row || this.expired(row)) return undefined;
    return row;
  }

  private async getObject(req: SwiftRequest): Promise<SwiftResponse> {
    const prefetched = req.env["objectRow"] as ObjectRow | null | undefined;
    req.env["objectRow"] = undefined;
    const row = prefetched === undefined ? await this.liveObject(req.account, req.container!, req.object!) : prefetched && !this.expired(prefetched) ? prefetched : undefined;
    if (!row) {
      // swob: If-Match "*" and nothing there is a 412, answered with no body.
      if (req.header("if-match")?.split(",").some((t) => t.trim() === "*")) return { status: 412, headers: { "content-type": "text/html; charset=UTF-8", "content-length": "0" }, body: "" };
      return respond(404);
    }
    const size = num(row.size);
    const headers = objectHeaders(row);
    const cond = conditionalStatus(req, row.etag, Number(row.timestamp));
    if (cond === 304) return { status: 304, headers: { ...headers, "content-length": "0" }, body: "" };
    if (cond === 412) return { status: 412, headers: { ...headers, "content-length": "0" }, body: "" };
    if (req.method === "HEAD") return { status: 200, headers: { ...headers, "content-length": String(size) } };
    const rangeHeader = req.header("range");
    const ranges = rangeHeader !== undefined && req.env["ignoreRange"] !== true ? parseRanges(rangeHeader, size) : undefined;
    if (ranges === "unsatisfiable") return respond(416, { headers: { "content-range": `bytes */${size}` } });
    if (ranges && ranges.length === 1) {
      const [r] = ranges as [{ start: number; end: number }];
      return {
        status: 206,
        headers: { ...headers, "content-length": String(r.end - r.start + 1), "content-range": `bytes ${r.start}-${r.end}/${size}` },
        body: await this.readRange(row, r),
      };
    }
    if (ranges && ranges.length > 1) {
      const data = await this.readAll(row);
      const { body, boundary } = multipartRanges(data, ranges, row.content_type, size);
      return { status: 206, headers: { ...headers, "content-type": `multipart/byteranges;boundary=${boundary}`, "content-length": String(body.length) }, body };
    }
    return { status: 200, headers: { ...headers, "content-length": String(size) }, body: await this.readBody(row) };
  }

  /** The object's bytes as a Buffer (small, cached) or a stream. */
  async readBody(row: ObjectRow): Promise<Buffer | Readable> {
    if (!row.blob) return Buffer.alloc(0);
    const size = num(row.size);
    const hit = this.d.cache.get(row.blob);
    if (hit) return hit;
    if (size <= CACHE_MAX_OBJECT) {
      const data = await this.readAll(row);
      this.d.cache.set(row.blob, data);
      return data;
    }
    const s = await this.d.blobs.get(row.blob);
    if (!s) throw new Error(`object data missing for ${row.account}/${row.container}/${row.name}`);
    return s;
  }

  async readAll(row: ObjectRow): Promise<Buffer> {
    if (!row.blob) return Buffer.alloc(0);
    const hit = this.d.cache.get(row.blob);
    if (hit) return hit;
    const s = await this.d.blobs.get(row.blob);
    if (!s) throw new Error(`object data missing for ${row.account}/${row.container}/${row.name}`);
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  private async readRange(row: ObjectRow, r: { start: number; end: number }): Promise<Buffer | Readable> {
    if (!row.blob) return Buffer.alloc(0);
    const hit = this.d.cache.get(row.blob);
    if (hit) return hit.subarray(r.start, r.end + 1);
    const s = await this.d.blobs.get(row.blob, r);
    if (!s) throw new Error(`object data missing for ${row.account}/${row.container}/${row.name}`);
    return s;
  }

  private async putObject(req: SwiftRequest): Promise<SwiftResponse> {
    const name = req.object!;
    // check_object_creation's order and words: length, size, then the name.
    const te = req.header("transfer-encoding");
    const cl = req.header("content-length");
    if (te !== undefined && te.includes(",")) fail(501, "Unsupported Transfer-Coding header value specified in Transfer-Encoding header");
    if (te !== undefined && te.trim().toLowerCase() !== "chunked") fail(400, "Invalid Transfer-Encoding header value");
    const expected = cl !== undefined && te === undefined ? Number(cl) : undefined;
    if (expected !== undefined && (!/^\s*\d+\s*$/.test(cl!) || !Number.isSafeInteger(expected))) fail(400, "Invalid Content-Length header value");
    if (expected !== undefined && expected > LIMITS.max_file_size) return respond(413, { body: "Your request is too large." });
    if (te === undefined && cl === undefined) return respond(411, { body: "Missing Content-Length header." });
    if (Buffer.byteLength(name) > LIMITS.max_object_name_length) fail(400, `Object name length of ${Buffer.byteLength(name)} longer than ${LIMITS.max_object_name_length}`);
    checkMetadata(req, "object");
    const now = this.d.time.nowSeconds();
    const at = deleteAt(req, now);
    const inm = req.header("if-none-match");
    if (inm !== undefined && inm.trim() !== "*") fail(400, "If-None-Match only supports *");
    if (inm !== undefined) {
      const cur = await this.liveObject(req.account, req.container!, name);
      if (cur) return respond(412);
    }
    let contentType = req.header("content-type");
    if (!contentType || ["true", "1", "yes", "on", "t", "y"].includes(req.header("x-detect-content-type")?.toLowerCase() ?? "")) {
      // The proxy's _update_content_type: Python's mimetypes guess from the name.
      contentType = guessType(name) ?? "application/octet-stream";
    }
    if (contentType.includes(";swift_bytes=") && !req.env["allowSwiftBytes"]) {
      contentType = contentType.replace(/;\s*swift_bytes=\d+/, "");
    }
    const meta: Meta = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k.startsWith("x-object-meta-") || k.startsWith("x-object-sysmeta-") || k.startsWith("x-object-transient-sysmeta-") || ALLOWED_OBJECT_HEADERS.includes(k)) {
        if (v !== "" || k.startsWith("x-object-meta-")) meta[k] = v;
      }
    }
    delete meta["x-delete-at"];
    const body = req.body ?? Readable.from([]);
    let key = blobKey();
    let size = 0;
    let etag: string;
    const keep: Buffer[] = [];
    let keepBytes = 0;
    const packed = expected !== undefined && expected <= CACHE_MAX_OBJECT;
    if (packed) {
      // A small object of known length: read it whole, then pack it with the others that
      // arrive at the same time (one fsync for all of them).
      const chunks: Buffer[] = [];
      let got = 0;
      for await (const c of body as AsyncIterable<Uint8Array>) {
        got += c.length;
        if (got > expected) return respond(400, { body: "Request body is larger than its Content-Length" });
        chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      }
      if (got !== expected) return respond(499);
      const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, got);
      size = got;
      etag = createHash("md5").update(data).digest("hex");
      const early = req.header("etag")?.replace(/^"(.*)"$/, "$1");
      if (early !== undefined && early.toLowerCase() !== etag) return respond(422);
      if (size > 0) key = await this.d.blobs.putSmall(data);
      keep.push(data);
      keepBytes = size;
    } else {
      const source = (async function* () {
        for await (const c of body as AsyncIterable<Uint8Array>) {
          if (keepBytes <= CACHE_MAX_OBJECT) {
            keep.push(Buffer.from(c));
            keepBytes += c.length;
          }
          yield c;
        }
      })();
      try {
        const info = await this.d.blobs.put(key, source, { hashes: ["md5"], maxBytes: LIMITS.max_file_size, unique: true, ...(expected !== undefined ? { expectedBytes: expected } : {}) });
        size = info.size;
        etag = info.hashes.md5!;
      } catch (e) {
        if (e instanceof BlobTooLarge) return respond(413, { body: "Your request is too large." });
        if ((e as Error).name === "BlobSizeMismatch") return respond(499);
        throw e;
      }
    }
    const reqEtag = req.header("etag")?.replace(/^"(.*)"$/, "$1");
    if (reqEtag !== undefined && reqEtag.toLowerCase() !== etag) {
      await this.d.blobs.delete(key);
      return respond(422);
    }
    const ts = (req.env["timestamp"] as string | undefined) ?? this.d.time.next();
    const row: ObjectRow = {
      account: req.account,
      container: req.container!,
      name,
      timestamp: ts,
      size,
      etag: (req.env["etagOverride"] as string | undefined) ?? etag,
      content_type: contentType,
      meta: JSON.stringify(meta),
      blob: size > 0 ? key : null,
      delete_at: at ?? null,
    };
    if (size === 0 && !packed) await this.d.blobs.delete(key); // the streamed path made an empty file
    const r = await this.d.store.putObject(row, inm !== undefined ? (old) => void (old && !this.expired(old) && fail(412)) : undefined).catch(async (e: unknown) => {
      await this.d.blobs.delete(key);
      throw e;
    });
    if (r === "no-container") {
      await this.d.blobs.delete(key);
      return respond(404);
    }
    if (size > 0 && keepBytes === size && size <= CACHE_MAX_OBJECT) this.d.cache.set(key, Buffer.concat(keep));
    // env.onReplaced (object versioning) may keep the replaced version's bytes: true = kept.
    const onReplaced = req.env["onReplaced"] as ((old: ObjectRow) => Promise<boolean>) | undefined;
    if (r.old && !(onReplaced && (await onReplaced(r.old)))) await this.dropBlob(r.old);
    return {
      status: 201,
      headers: { etag: row.etag, "last-modified": httpDate(ts), "content-type": "text/html; charset=UTF-8", "content-length": "0", "x-timestamp": ts },
      body: "",
    };
  }

  private async postObject(req: SwiftRequest): Promise<SwiftResponse> {
    checkMetadata(req, "object");
    const now = this.d.time.nowSeconds();
    const at = deleteAt(req, now);
    const cur = await this.liveObject(req.account, req.container!, req.object!);
    if (!cur) return respond(404);
    const ts = this.d.time.next();
    const updated = await this.d.store.updateObjectMeta(req.account, req.container!, req.object!, (row) => {
      const old = parseMeta(row.meta);
      // POST replaces the user metadata and the allowed headers; sysmeta stays.
      const meta: Meta = {};
      for (const [k, v] of Object.entries(old)) if (k.startsWith("x-object-sysmeta-") || k === "x-static-large-object" || k === "x-object-manifest") meta[k] = v;
      for (const [k, v] of Object.entries(req.headers)) {
        if (k.startsWith("x-object-meta-") || k.startsWith("x-object-transient-sysmeta-") || (ALLOWED_OBJECT_HEADERS.includes(k) && k !== "x-delete-at" && k !== "x-static-large-object")) {
          // The object server keeps user metadata even with an empty value (it is listed back as "").
          if (v !== "" || k.startsWith("x-object-meta-")) meta[k] = v;
          else delete meta[k];
        }
      }
      const patch: Partial<ObjectRow> = { meta: JSON.stringify(meta), timestamp: ts };
      const ct = req.header("content-type");
      if (ct) patch.content_type = ct;
      patch.delete_at = at ?? null;
      return patch;
    });
    if (!updated) return respond(404);
    return respond(202);
  }

  async dropBlob(row: ObjectRow): Promise<void> {
    if (!row.blob) return;
    this.d.cache.delete(row.blob);
    await this.d.blobs.delete(row.blob).catch(() => undefined);
  }
}

/** A refusal from req.authorize, carried up to the pipeline as is. */
export class SwiftErrorResponse extends SwiftError {
  constructor(resp: SwiftResponse) {
    super(resp.status);
    Object.assign(this.response, resp);
  }
}

function aclsOf(c: ContainerRow): { read: string | undefined; write: string | undefined } {
  const m = parseMeta(c.meta);
  return { read: m["x-container-read"], write: m["x-container-write"] };
}

/** Stored metadata as response headers; owner-only ones only for owners; sysmeta never. */
export function metaHeaders(meta: Meta, owner: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (k.includes("-sysmeta-")) continue;
    if (!owner && OWNER_HEADERS.includes(k)) continue;
    out[k] = v;
  }
  return out;
}

export function objectHeaders(row: ObjectRow): Record<string, string> {
  const meta = parseMeta(row.meta);
  const h: Record<string, string> = {
    "content-type": stripSwiftBytes(row.content_type).type,
    etag: row.etag,
    "last-modified": httpDate(row.timestamp),
    "x-timestamp": row.timestamp,
    "accept-ranges": "bytes",
  };
  for (const [k, v] of Object.entries(meta)) if (!k.includes("-sysmeta-")) h[k] = v;
  if (row.delete_at !== null) h["x-delete-at"] = String(num(row.delete_at));
  return h;
}

function listOptions(req: SwiftRequest, max: number): { prefix?: string; marker?: string; endMarker?: string; limit: number; reverse: boolean; delimiter?: string } {
  const q = req.query;
  const limitRaw = q.get("limit");
  let limit = max;
  // constrain_req_limit: a limit that is not all digits is ignored; above the maximum is a 412.
  if (limitRaw !== null && /^\d+$/.test(limitRaw)) {
    limit = Number(limitRaw);
    if (limit > max) fail(412, `Maximum limit is ${max}`);
  }
  const delimiter = q.get("delimiter") ?? undefined;
  const rev = (q.get("reverse") ?? "").toLowerCase();
  const o: ReturnType<typeof listOptions> = { limit, reverse: ["true", "1", "yes", "on", "t", "y"].includes(rev) };
  const prefix = q.get("prefix");
  if (prefix) o.prefix = prefix;
  const marker = q.get("marker");
  if (marker) o.marker = marker;
  const end = q.get("end_marker");
  if (end) o.endMarker = end;
  if (delimiter) o.delimiter = delimiter;
  for (const [k, v] of [["prefix", prefix], ["marker", marker], ["end_marker", end], ["delimiter", delimiter]] as const) {
    if (v && v.includes("\0")) fail(412, `${k} contains NULL`);
  }
  return o;
}

function containerEntry(i: Listed<ContainerRow>): Record<string, unknown> {
  if ("subdir" in i) return { subdir: i.subdir };
  const r = i.row;
  // The account server lists a container's put timestamp as its last_modified.
  return { name: r.name, count: num(r.object_count), bytes: num(r.bytes_used), last_modified: isoTimestamp(r.put_timestamp) };
}

/** A string as Python's json.dumps writes it: as is when it needs no escape, else through pyJson. */
function jsonStr(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : pyJson(s);
}
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** pyJson(objectEntry(i)) without the intermediate object (10,000 of them per listing page). */
export function objectEntryJson(i: Listed<ObjectRow>): string {
  if ("subdir" in i) return `{"subdir": ${jsonStr(i.subdir)}}`;
  const r = i.row;
  const { type, bytes } = stripSwiftBytes(r.content_type);
  let out = `{"bytes": ${bytes ?? num(r.size)}, "hash": ${jsonStr(r.etag)}, "name": ${jsonStr(r.name)}, "content_type": ${jsonStr(type)}, "last_modified": "${isoTimestamp(r.timestamp)}"`;
  if (r.meta.includes("x-object-sysmeta-slo-etag")) {
    const slo = parseMeta(r.meta)["x-object-sysmeta-slo-etag"];
    if (slo) out += `, "slo_etag": ${jsonStr(`"${slo}"`)}`;
  }
  return `${out}}`;
}

export function objectEntry(i: Listed<ObjectRow>): Record<string, unknown> {
  if ("subdir" in i) return { subdir: i.subdir };
  const r = i.row;
  const { type, bytes } = stripSwiftBytes(r.content_type);
  // Key order as the container server builds its records (the JSON listing shows it).
  const e: Record<string, unknown> = { bytes: bytes ?? num(r.size), hash: r.etag, name: r.name, content_type: type, last_modified: isoTimestamp(r.timestamp) };
  // slo's handle_container_listing: a manifest's listing entry also shows the large object's etag.
  if (r.meta.includes("x-object-sysmeta-slo-etag")) {
    const slo = parseMeta(r.meta)["x-object-sysmeta-slo-etag"];
    if (slo) e["slo_etag"] = `"${slo}"`;
  }
  return e;
}

/**
 * A stored content type may carry `;swift_bytes=N` (SLO manifests record their whole size
 * so): listings show N as the object's bytes, and no response shows the parameter.
 */
export function stripSwiftBytes(ct: string): { type: string; bytes: number | undefined } {
  if (!ct.includes("swift_bytes=")) return { type: ct, bytes: undefined };
  const m = /;\s*swift_bytes=(\d+)/.exec(ct);
  if (!m) return { type: ct, bytes: undefined };
  return { type: ct.replace(m[0], ""), bytes: Number(m[1]) };
}


/** Blob keys are new for every write (a reader of the old version keeps its bytes): object/<2 hex>/<uuid>. */
export function blobKey(): string {
  const id = randomUUID();
  return `object/${id.slice(0, 2)}/${id}`;
}

export { titleCase, SwiftError };
