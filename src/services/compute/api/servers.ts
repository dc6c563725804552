import { isIP } from "node:net";
import { BadRequest, Forbidden } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { CreateServerRequest, ListQuery, ServerManager } from "../manager/servers.js";
import { SORT_KEYS } from "../manager/servers.js";
import type { Instance } from "../store/servers.js";
import { serverBrief, serverView, statesFromStatus } from "../views/servers.js";
import type { Compute } from "./deps.js";
import { boolField, descriptionField, envelope, intField, invalidField, invalidQuery, nameField, noAdditional, parseBool, pyRepr, required } from "./fleet-validate.js";
import { collectionLinks, MAX_LIMIT, resourceLinks, strictQuery } from "./fleet-links.js";
import { checkPersonalityQuota, parsePersonality, serverCaller, serverTarget } from "./server-common.js";

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;
const TAG = /^[^,/]*$/;
const HOSTNAME = /^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$/;
const METADATA_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;

function str(field: string, v: unknown): string {
  if (typeof v !== "string") throw invalidField(field, v, `${pyRepr(v)} is not of type 'string'`);
  return v;
}

function isUuidLike(v: string): boolean {
  return UUID.test(v);
}

/** parameter_types.metadata: keys 1–255 of [a-zA-Z0-9-_:. ], string values up to 255. */
export function metadataField(field: string, v: unknown, allowNull = false): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalidField(field, v, `${pyRepr(v)} is not of type 'object'`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!METADATA_KEY.test(k)) throw invalidField(field, v, `Additional properties are not allowed ('${k}' was unexpected)`);
    if (val === null && allowNull) continue;
    if (typeof val !== "string") throw invalidField(`${field}/${k}`, val, `${pyRepr(val)} is not of type 'string'`);
    if (val.length > 255) throw invalidField(`${field}/${k}`, val, `${pyRepr(val)} is too long`);
    out[k] = val;
  }
  return out;
}

function ipField(field: string, v: unknown, family: 4 | 6): string {
  const s = str(field, v);
  if (isIP(s) !== family) throw invalidField(field, v, `${pyRepr(v)} is not a '${family === 4 ? "ipv4" : "ipv6"}'`);
  return family === 6 ? compactIpv6(s) : s;
}

/** Nova keeps access IPs as netaddr addresses: an IPv6 one comes back in its compact form. */
export function compactIpv6(addr: string): string {
  let a = addr.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head, tail] = a.includes("::") ? (a.split("::") as [string, string]) : [a, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  const nums = groups.map((g) => parseInt(g, 16).toString(16));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (nums[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && nums[j] === "0") j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) return nums.join(":");
  return `${nums.slice(0, best).join(":")}::${nums.slice(best + bestLen).join(":")}`;
}

function tagField(field: string, v: unknown): string {
  const s = str(field, v);
  if (s.length < 1) throw invalidField(field, v, `${pyRepr(v)} is too short`);
  if (s.length > 60) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (!TAG.test(s)) throw invalidField(field, v, `${pyRepr(v)} does not match '^[^,/]*$'`);
  return s;
}

function base64Field(field: string, v: unknown): string {
  const s = str(field, v);
  if (s.length > 65535) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  const clean = s.replace(/\s/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw invalidField(field, v, `${pyRepr(v)} is not a 'base64'`);
  return s;
}

/** POST /servers body → CreateServerRequest, per microversion (schemas/servers.py create_v2xx). */
function parseCreate(ctx: RequestContext): CreateServerRequest {
  const v = ctx.version!;
  const body = ctx.body;
  const s = envelope(body, "server", ["os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"]);
  const allowed = [
    "name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6",
    "availability_zone", "block_device_mapping", "block_device_mapping_v2", "config_drive", "key_name", "min_count", "max_count",
    "return_reservation_id", "security_groups", "user_data",
  ];
  if (!v.atLeast("2.57")) allowed.push("personality");
  if (v.atLeast("2.19")) allowed.push("description");
  if (v.atLeast("2.52")) allowed.push("tags");
  if (v.atLeast("2.63")) allowed.push("trusted_image_certificates");
  if (v.atLeast("2.74")) allowed.push("host", "hypervisor_hostname");
  if (v.atLeast("2.90")) allowed.push("hostname");
  const req = ["name", "flavorRef"];
  if (v.atLeast("2.37")) req.push("networks");
  required(s, req, "server");
  noAdditional(s, allowed, "server");

  const name = nameField("name", s["name"]);
  let imageRef = "";
  if (s["imageRef"] !== undefined) {
    imageRef = str("imageRef", s["imageRef"]);
    if (imageRef !== "" && !isUuidLike(imageRef)) throw invalidField("imageRef", imageRef, `${pyRepr(imageRef)} is not valid under any of the given schemas`);
  }
  const fr = s["flavorRef"];
  if (typeof fr !== "string" && typeof fr !== "number") throw invalidField("flavorRef", fr, `${pyRepr(fr)} is not of type 'string', 'integer'`);
  if (typeof fr === "string" && fr.length < 1) throw invalidField("flavorRef", fr, `${pyRepr(fr)} is too short`);
  // A flavorRef may be a URL; Nova takes the last path segment.
  const flavorRef = String(fr).split("/").pop()!;
  const adminPass = s["adminPass"] === undefined ? undefined : str("adminPass", s["adminPass"]);
  const metadata = s["metadata"] === undefined ? {} : metadataField("metadata", s["metadata"]);

  let networks: CreateServerRequest["networks"];
  const nw = s["networks"];
  if (nw !== undefined) {
    if (typeof nw === "string") {
      if (!v.atLeast("2.37") || (nw !== "auto" && nw !== "none")) throw invalidField("networks", nw, `${pyRepr(nw)} is not valid under any of the given schemas`);
      networks = nw;
    } else if (Array.isArray(nw)) {
      const list: Array<{ uuid?: string; port?: string; fixed_ip?: string; tag?: string }> = [];
      const ports: string[] = [];
      for (const item of nw) {
        if (typeof item !== "object" || item === null || Array.isArray(item)) throw invalidField("networks", nw, `${pyRepr(item)} is not of type 'object'`);
        const n = item as Record<string, unknown>;
        const keys = ["fixed_ip", "port", "uuid"];
        if (v.atLeast("2.32") && !(v.atLeast("2.37") && !v.atLeast("2.42"))) keys.push("tag");
        noAdditional(n, keys, "networks");
        const e: { uuid?: string; port?: string; fixed_ip?: string; tag?: string } = {};
        if (n["fixed_ip"] !== undefined) {
          const ip = str("fixed_ip", n["fixed_ip"]);
          if (isIP(ip) === 0) throw invalidField("fixed_ip", ip, `${pyRepr(ip)} is not valid under any of the given schemas`);
          e.fixed_ip = ip;
        }
        if (n["port"] !== undefined && n["port"] !== null) {
          const p = str("port", n["port"]);
          if (!isUuidLike(p)) throw invalidField("port", p, `${pyRepr(p)} is not valid under any of the given schemas`);
          if (ports.includes(p)) throw new BadRequest(`Port ID '${p}' was specified twice: you cannot attach a port multiple times.`);
          if (e.fixed_ip !== undefined) throw new BadRequest(`Specified Fixed IP '${e.fixed_ip}' cannot be used with port '${p}': the two cannot be specified together.`);
          ports.push(p);
          e.port = p;
        } else {
          if (n["uuid"] === undefined) throw new BadRequest("Bad network format: missing 'uuid'");
          const u = str("uuid", n["uuid"]);
          if (!isUuidLike(u)) {
            if (v.atLeast("2.37")) throw invalidField("uuid", u, `${pyRepr(u)} is not a 'uuid'`);
            throw new BadRequest(`Bad networks format: network uuid is not in proper format (${u})`);
          }
          e.uuid = u;
        }
        if (n["tag"] !== undefined) e.tag = tagField("tag", n["tag"]);
        list.push(e);
      }
      networks = list;
    } else {
      throw invalidField("networks", nw, `${pyRepr(nw)} is not of type 'array'`);
    }
  }

  let autoDiskConfig = false;
  if (s["OS-DCF:diskConfig"] !== undefined) {
    const d = s["OS-DCF:diskConfig"];
    if (d !== "AUTO" && d !== "MANUAL") throw invalidField("OS-DCF:diskConfig", d, `${pyRepr(d)} is not one of ['AUTO', 'MANUAL']`);
    autoDiskConfig = d === "AUTO";
  }
  const accessIPv4 = s["accessIPv4"] === undefined ? null : ipField("accessIPv4", s["accessIPv4"], 4);
  const accessIPv6 = s["accessIPv6"] === undefined ? null : ipField("accessIPv6", s["accessIPv6"], 6);
  parsePersonality(s["personality"]);

  let az: string | null = null;
  if (s["availability_zone"] !== undefined) az = nameField("availability_zone", s["availability_zone"]);

  if (s["block_device_mapping"] !== undefined && s["block_device_mapping_v2"] !== undefined) {
    throw new BadRequest("Using different block_device_mapping syntaxes is not allowed in the same request.");
  }
  const bdms: CreateServerRequest["bdms"] = [];
  const dotOf = (x: unknown): boolean => x === true || (typeof x === "string" && ["1", "t", "true", "on", "y", "yes"].includes(x.toLowerCase()));
  if (s["block_device_mapping"] !== undefined) {
    // The legacy format: volumes and snapshots by id; the device "vda" is the root.
    const l = s["block_device_mapping"];
    if (!Array.isArray(l)) throw invalidField("block_device_mapping", l, `${pyRepr(l)} is not of type 'array'`);
    for (const raw of l) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalidField("block_device_mapping", raw, `${pyRepr(raw)} is not of type 'object'`);
      const b = raw as Record<string, unknown>;
      const id = (b["volume_id"] ?? b["snapshot_id"] ?? null) as string | null;
      if (!id) continue;
      const dev = typeof b["device_name"] === "string" ? b["device_name"] : null;
      const letter = dev ? (/^(?:\/dev\/)?(?:x?[a-z]?d?)([a-z]+)[0-9]*$/.exec(dev)?.[1] ?? "") : "";
      bdms.push({
        source_type: b["volume_id"] ? "volume" : "snapshot",
        destination_type: "volume",
        boot_index: letter === "a" ? 0 : null,
        uuid: String(id),
        volume_size: b["volume_size"] === undefined || b["volume_size"] === null ? null : Number(b["volume_size"]),
        delete_on_termination: dotOf(b["delete_on_termination"]),
        tag: null,
        device_name: dev,
        volume_type: null,
      });
    }
  }
  if (s["block_device_mapping_v2"] !== undefined) {
    const l = s["block_device_mapping_v2"];
    if (!Array.isArray(l)) throw invalidField("block_device_mapping_v2", l, `${pyRepr(l)} is not of type 'array'`);
    for (const raw of l) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalidField("block_device_mapping_v2", raw, `${pyRepr(raw)} is not of type 'object'`);
      const b = raw as Record<string, unknown>;
      const src = b["source_type"];
      const dst = b["destination_type"] ?? (src === "image" && b["boot_index"] !== undefined ? "local" : "volume");
      if (src !== undefined && !["volume", "image", "snapshot", "blank"].includes(String(src))) {
        throw invalidField("source_type", src, `${pyRepr(src)} is not one of ['volume', 'image', 'snapshot', 'blank']`);
      }
      if (!["local", "volume"].includes(String(dst))) throw invalidField("destination_type", dst, `${pyRepr(dst)} is not one of ['local', 'volume']`);
      const idRaw = b["uuid"] ?? b["volume_id"] ?? b["snapshot_id"] ?? b["image_id"] ?? null;
      if (idRaw !== null && typeof idRaw !== "string") throw invalidField("uuid", idRaw, `${pyRepr(idRaw)} is not of type 'string'`);
      if (typeof idRaw === "string" && (idRaw.length > 255 || !/^[a-zA-Z0-9._-]*$/.test(idRaw))) throw invalidField("uuid", idRaw, `${pyRepr(idRaw)} does not match '^[a-zA-Z0-9._-]*$'`);
      const id = idRaw as string | null;
      // BlockDeviceDict.from_api
      const source = String(src ?? "blank");
      if (source === "blank" && id) throw new BadRequest("Block Device Mapping is Invalid: Invalid device UUID.");
      if (source !== "blank" && !id) throw new BadRequest("Block Device Mapping is Invalid: Missing device UUID.");
      let volumeType: string | null = null;
      if (b["volume_type"] !== undefined && b["volume_type"] !== null) {
        if (!v.atLeast("2.67")) throw invalidField("block_device_mapping_v2", raw, "Additional properties are not allowed ('volume_type' was unexpected)");
        volumeType = str("volume_type", b["volume_type"]);
        if (dst === "local") throw new BadRequest("Block Device Mapping is Invalid: Specifying a volume_type with destination_type=local is not supported.");
        if (source === "volume") throw new BadRequest("Block Device Mapping is Invalid: Specifying volume type to existing volume is not supported.");
      }
      const bi = b["boot_index"];
      const bootIndex = bi === undefined || bi === null ? null : Number(bi);
      if (bootIndex !== null && !Number.isInteger(bootIndex)) throw invalidField("boot_index", bi, `${pyRepr(bi)} does not match '^-?[0-9]+$'`);
      const vs = b["volume_size"];
      let volumeSize: number | null = null;
      if (vs !== undefined && vs !== null) {
        if ((typeof vs !== "number" && typeof vs !== "string") || !/^[0-9]+$/.test(String(vs))) throw invalidField("volume_size", vs, `${pyRepr(vs)} is not of type 'integer', 'string', 'null'`);
        volumeSize = Number(vs);
        if (volumeSize < 1) throw invalidField("volume_size", vs, `${pyRepr(vs)} is less than the minimum of 1`);
      }
      bdms.push({
        source_type: source,
        destination_type: String(dst),
        boot_index: bootIndex,
        uuid: id,
        volume_size: volumeSize,
        delete_on_termination: dotOf(b["delete_on_termination"]),
        tag: typeof b["tag"] === "string" ? b["tag"] : null,
        device_name: typeof b["device_name"] === "string" ? b["device_name"] : null,
        volume_type: volumeType,
      });
    }
  }
  if (bdms.length > 0) {
    // _validate_bdm: boot indexes (ignoring negatives and none) count up from 0; an imageRef boots index 0 itself.
    const idx = bdms.map((b) => b.boot_index).filter((i): i is number => i !== null && i >= 0).sort((a, b) => a - b);
    const withImage = imageRef && !idx.includes(0) ? [0, ...idx.map((i) => i)] : idx;
    if (withImage.length === 0 || withImage.some((x, i) => x !== i)) {
      throw new BadRequest("Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.");
    }
  }

  const configDrive = s["config_drive"] === undefined ? false : boolField("config_drive", s["config_drive"]);
  const keyName = s["key_name"] === undefined ? null : nameField("key_name", s["key_name"]);
  const minCount = s["min_count"] === undefined ? 1 : intField("min_count", s["min_count"], 1, 0x7fffffff, "^[0-9]*$");
  const maxCount = s["max_count"] === undefined ? minCount : intField("max_count", s["max_count"], 1, 0x7fffffff, "^[0-9]*$");
  if (minCount > maxCount) throw new BadRequest("min_count must be <= max_count");
  if (s["return_reservation_id"] !== undefined) boolField("return_reservation_id", s["return_reservation_id"]);

  let securityGroups: string[] | undefined;
  if (s["security_groups"] !== undefined) {
    const l = s["security_groups"];
    if (!Array.isArray(l)) throw invalidField("security_groups", l, `${pyRepr(l)} is not of type 'array'`);
    const names: string[] = [];
    for (const g of l) {
      if (typeof g !== "object" || g === null || Array.isArray(g)) throw invalidField("security_groups", g, `${pyRepr(g)} is not of type 'object'`);
      noAdditional(g as Record<string, unknown>, ["name"], "security_groups");
      const n = (g as Record<string, unknown>)["name"];
      if (n !== undefined) {
        const nm = nameField("name", n);
        if (!names.includes(nm)) names.push(nm);
      }
    }
    securityGroups = names;
  }
  const userData = s["user_data"] === undefined ? null : base64Field("user_data", s["user_data"]);
  const description = v.atLeast("2.19") ? (s["description"] === undefined ? null : descriptionField("description", s["description"], 255)) : name;

  let tags: string[] = [];
  if (s["tags"] !== undefined) {
    const l = s["tags"];
    if (!Array.isArray(l)) throw invalidField("tags", l, `${pyRepr(l)} is not of type 'array'`);
    if (l.length > 50) throw invalidField("tags", l, `${pyRepr(l)} is too long`);
    tags = [...new Set(l.map((t) => tagField("tags", t)))];
  }
  let trustedCerts: string[] | null = null;
  if (s["trusted_image_certificates"] !== undefined && s["trusted_image_certificates"] !== null) {
    const l = s["trusted_image_certificates"];
    if (!Array.isArray(l)) throw invalidField("trusted_image_certificates", l, `${pyRepr(l)} is not of type 'array', 'null'`);
    if (l.length < 1) throw invalidField("trusted_image_certificates", l, `${pyRepr(l)} is too short`);
    if (l.length > 50) throw invalidField("trusted_image_certificates", l, `${pyRepr(l)} is too long`);
    for (const c of l) if (typeof c !== "string" || c.length < 1) throw invalidField("trusted_image_certificates", c, `${pyRepr(c)} is not of type 'string'`);
    if (new Set(l).size !== l.length) throw invalidField("trusted_image_certificates", l, `${pyRepr(l)} has non-unique elements`);
    trustedCerts = l as string[];
  }
  let requestedHost: string | null = null;
  if (s["host"] !== undefined) requestedHost = fqdn("host", s["host"]);
  if (s["hypervisor_hostname"] !== undefined) requestedHost ??= fqdn("hypervisor_hostname", s["hypervisor_hostname"]);
  let hostname: string | null = null;
  if (s["hostname"] !== undefined) {
    const h = str("hostname", s["hostname"]);
    if (h.length < 2) throw invalidField("hostname", h, `${pyRepr(h)} is too short`);
    if (h.length > 63) throw invalidField("hostname", h, `${pyRepr(h)} is too long`);
    if (!HOSTNAME.test(h)) throw invalidField("hostname", h, `${pyRepr(h)} does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'`);
    hostname = h;
  }

  const body2 = body as Record<string, unknown>;
  const hintsRaw = body2["os:scheduler_hints"] ?? body2["OS-SCH-HNT:scheduler_hints"] ?? {};
  if (typeof hintsRaw !== "object" || hintsRaw === null || Array.isArray(hintsRaw)) throw invalidField("os:scheduler_hints", hintsRaw, `${pyRepr(hintsRaw)} is not of type 'object'`);
  const hints = hintsRaw as Record<string, unknown>;
  if (hints["group"] !== undefined && (typeof hints["group"] !== "string" || !isUuidLike(hints["group"]))) {
    throw invalidField("group", hints["group"], `${pyRepr(hints["group"])} is not a 'uuid'`);
  }
  for (const k of ["same_host", "different_host"]) {
    const x = hints[k];
    if (x === undefined) continue;
    const l = Array.isArray(x) ? x : [x];
    for (const u of l) if (typeof u !== "string" || !isUuidLike(u)) throw invalidField(k, x, `${pyRepr(u)} is not a 'uuid'`);
  }

  return {
    name,
    description,
    hostname,
    imageRef,
    flavorRef,
    networks,
    securityGroups,
    keyName,
    userData,
    metadata,
    availabilityZone: az,
    forcedHost: null,
    requestedHost,
    hints,
    minCount,
    maxCount,
    tags,
    configDrive,
    accessIPv4,
    accessIPv6,
    adminPass,
    autoDiskConfig,
    trustedCerts,
    bdms,
    supportsMultiattach: v.atLeast("2.60"),
  };
}

function fqdn(field: string, v: unknown): string {
  const s = str(field, v);
  if (s.length < 1) throw invalidField(field, v, `${pyRepr(v)} is too short`);
  if (s.length > 255) throw invalidField(field, v, `${pyRepr(v)} is too long`);
  if (!/^[a-zA-Z0-9-._]*$/.test(s)) throw invalidField(field, v, `${pyRepr(v)} does not match '^[a-zA-Z0-9-._]*$'`);
  return s;
}

/** nova compute API parse_availability_zone: "az", "az:host", "az:host:node", ":host". */
function parseAz(az: string | null): { az: string | null; host: string | null; node: string | null } {
  if (az === null || !az.includes(":")) return { az, host: null, node: null };
  const parts = az.split(":");
  if (parts.length > 3) throw new BadRequest(`Unable to parse availability_zone`);
  return { az: parts[0] || null, host: parts[1] || null, node: parts[2] || null };
}

/** What the show/detail views need besides the instance rows: policy answers and decorations. */
export async function renderServers(ctx: RequestContext, mgr: ServerManager, instances: Instance[], opts: { refresh?: boolean; baseOnly?: boolean; rebuild?: boolean } = {}): Promise<Array<Record<string, unknown>>> {
  const v = ctx.version!;
  const admin = ctx.allowed("context_is_admin", {});
  const extended = !opts.baseOnly && ctx.allowed("os_compute_api:os-extended-server-attributes", { project_id: instances[0]?.project_id ?? ctx.caller.projectId });
  const showSpecs = v.atLeast("2.47") && ctx.allowed("os_compute_api:servers:show:flavor-extra-specs", { project_id: instances[0]?.project_id ?? ctx.caller.projectId });
  const hostStatusAllowed = !opts.baseOnly && v.atLeast("2.16") && ctx.allowed("os_compute_api:servers:show:host_status", { project_id: instances[0]?.project_id ?? ctx.caller.projectId });
  if (opts.refresh) instances = await Promise.all(instances.map((i) => mgr.refreshNetworkInfo(i)));
  else instances = await mgr.withFloatingIps(instances);
  const deco = await mgr.decorations(instances, !opts.baseOnly);
  const out: Array<Record<string, unknown>> = [];
  for (const inst of instances) {
    let hostStatus: string | undefined;
    if (hostStatusAllowed) hostStatus = await mgr.hostStatus(inst);
    out.push(
      serverView(ctx, inst, {
        extendedAttrs: extended,
        showExtraSpecs: showSpecs,
        hostStatus,
        admin,
        tags: deco.tags.get(inst.uuid) ?? [],
        fault: deco.faults.get(inst.uuid),
        securityGroups: deco.groups.get(inst.uuid),
        volumes: deco.volumes.get(inst.uuid) ?? [],
        baseOnly: opts.baseOnly ?? false,
        hideUserData: opts.rebuild ?? false,
        serverGroups: v.atLeast("2.71") && (opts.refresh || opts.baseOnly !== undefined) ? await mgr.serverGroupsOf(inst.uuid) : undefined,
      }),
    );
  }
  return out;
}

/** Query parameters a non-admin may filter by (servers.py _get_server_search_options). */
function userOptions(ctx: RequestContext): string[] {
  const v = ctx.version!;
  const opts = ["reservation_id", "name", "status", "image", "flavor", "ip", "changes-since", "all_tenants"];
  if (v.atLeast("2.5")) opts.push("ip6");
  if (v.atLeast("2.26")) opts.push("tags", "tags-any", "not-tags", "not-tags-any");
  if (v.atLeast("2.66")) opts.push("changes-before");
  if (v.atLeast("2.73")) opts.push("locked");
  if (v.atLeast("2.83")) opts.push("availability_zone", "config_drive", "key_name", "created_at", "launched_at", "terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id");
  if (v.atLeast("2.90")) opts.push("hostname");
  return opts;
}

const QUERY_V21 = [
  "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id", "hostname", "key_name", "power_state",
  "vm_state", "task_state", "host", "node", "flavor", "reservation_id", "launched_at", "terminated_at", "availability_zone", "name",
  "display_name", "description", "display_description", "locked_by", "uuid", "root_device_name", "config_drive", "access_ip_v4",
  "access_ip_v6", "auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
  "changes-since", "ip", "ip6", "created_at", "block_device_mapping", "services", "metadata", "system_metadata", "info_cache",
  "security_groups", "pci_devices", "limit", "marker",
];
const JOINED = ["block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups", "pci_devices"];

function all(ctx: RequestContext, name: string): string[] {
  const v = ctx.query[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function regex(name: string, v: string): RegExp {
  try {
    return new RegExp(v);
  } catch {
    throw invalidQuery(name, v, `'${v}' is not a 'regex'`);
  }
}

function isoParam(name: string, v: string): string {
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) throw invalidQuery(name, v, `'${v}' is not a 'date-time'`);
  return d.toISOString();
}

/** servers.py _get_servers: query → ListQuery (policy for all_tenants included). */
function parseList(ctx: RequestContext, detail: boolean): ListQuery | "empty" {
  const v = ctx.version!;
  const admin = ctx.allowed("os_compute_api:servers:allow_all_filters", {});
  if (v.atLeast("2.75")) {
    const allowed = [...QUERY_V21, "tags", "tags-any", "not-tags", "not-tags-any", "changes-before", "locked"];
    const bad = strictQuery(ctx, allowed);
    if (bad) throw new BadRequest(`Invalid input for query parameters ${bad}`);
  }
  const present = new Set(Object.keys(ctx.query));
  for (const k of present) if (JOINED.includes(k) || k.startsWith("_")) throw new BadRequest(`Invalid filter field: ${k}.`);
  const allowedOpts = admin ? null : userOptions(ctx);
  const has = (k: string): boolean => present.has(k) && (allowedOpts === null || allowedOpts.includes(k));
  const one = (k: string): string => ctx.q(k) ?? "";

  const q: ListQuery = { includeDeleted: false, onlyDeleted: false, sortKeys: [], sortDirs: [], limit: MAX_LIMIT };
  // Sorting (validated at every version by the schema's enum).
  const sortKeys = all(ctx, "sort_key").map((s) => s.trim());
  const valid = v.atLeast("2.73") ? [...SORT_KEYS] : SORT_KEYS.filter((k) => k !== "locked");
  const ignored = ["architecture", "cell_name", "cleaned", "default_ephemeral_device", "default_swap_device", "deleted", "deleted_at", "disable_terminate", "ephemeral_gb", "ephemeral_key_uuid", "id", "key_data", "launched_on", "memory_mb", "os_type", "reservation_id", "root_gb", "shutdown_terminate", "user_data", "vcpus", "vm_mode", "kernel_id", "ramdisk_id"];
  if (!v.atLeast("2.73")) ignored.push("locked");
  const sortDirs = all(ctx, "sort_dir").map((s) => s.trim());
  for (const k of sortKeys) {
    if (!valid.includes(k) && !(ignored.includes(k) && !v.atLeast("2.75"))) throw invalidQuery("sort_key", k, `'${k}' is not one of ${pyRepr(valid)}`);
  }
  for (const d of sortDirs) if (d !== "asc" && d !== "desc") throw new BadRequest("Unknown sort direction, must be 'asc' or 'desc'");
  const keys: string[] = [];
  const dirs: Array<"asc" | "desc"> = [];
  sortKeys.forEach((k, i) => {
    if (ignored.includes(k)) return;
    if ((k === "host" || k === "node") && !ctx.allowed("context_is_admin", {})) throw new Forbidden(`Only administrators can sort servers by ${k}`);
    keys.push(k);
    dirs.push((sortDirs[i] ?? sortDirs[0] ?? "desc") as "asc" | "desc");
  });
  if (keys.length === 0) {
    keys.push("created_at");
    dirs.push((sortDirs[0] ?? "desc") as "asc" | "desc");
  }
  q.sortKeys = keys;
  q.sortDirs = dirs;

  const lim = ctx.q("limit");
  if (lim !== undefined) {
    if (!/^[0-9]+$/.test(lim)) throw invalidQuery("limit", lim, `'${lim}' does not match '^[0-9]*$'`);
    // Nova passes limit=0 down to the database: an empty page.
    q.limit = Math.min(Number(lim), MAX_LIMIT);
  }
  if (ctx.q("marker") !== undefined) q.marker = ctx.q("marker");

  if (present.has("status")) {
    const st = statesFromStatus(all(ctx, "status"));
    if (st.vmStates.length === 0) {
      if (v.atLeast("2.38")) throw new BadRequest("Invalid status value");
      return "empty";
    }
    q.vmStates = st.vmStates;
    if (!st.taskStates.includes("default")) q.taskStates = st.taskStates;
  }
  if (has("changes-since")) q.changesSince = isoParam("changes-since", one("changes-since"));
  if (v.atLeast("2.66") && has("changes-before")) {
    q.changesBefore = isoParam("changes-before", one("changes-before"));
    if (q.changesSince && q.changesBefore < q.changesSince) throw new BadRequest("The value of changes-since must be less than or equal to changes-before.");
  }
  if (present.has("deleted") && admin) {
    const d = parseBool(one("deleted")) ?? false;
    q.onlyDeleted = d;
  } else if (q.changesSince !== undefined || q.changesBefore !== undefined) {
    q.includeDeleted = true;
  }
  if (has("vm_state")) {
    const vs = all(ctx, "vm_state");
    if (vs.length === 1 && vs[0] === "deleted") {
      if (!ctx.allowed("context_is_admin", {})) throw new Forbidden("Only administrators may list deleted instances");
      q.onlyDeleted = true;
    }
    q.vmStates = vs;
  }
  if (has("task_state")) q.taskStates = all(ctx, "task_state");
  if (v.atLeast("2.26")) {
    const split = (k: string): string[] | undefined => (has(k) ? one(k).split(",") : undefined);
    q.tags = split("tags");
    q.tagsAny = split("tags-any");
    q.notTags = split("not-tags");
    q.notTagsAny = split("not-tags-any");
  }
  // all_tenants (common.is_all_tenants): an empty value means true.
  let allTenants = false;
  if (present.has("all_tenants")) {
    const raw = one("all_tenants");
    if (raw === "") allTenants = true;
    else {
      const b = parseBool(raw);
      if (b === undefined) throw new BadRequest(`Unrecognized value '${raw}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
      allTenants = b;
    }
  }
  if (allTenants) {
    ctx.enforce(detail ? "os_compute_api:servers:detail:get_all_tenants" : "os_compute_api:servers:index:get_all_tenants", {});
    const p = has("project_id") ? one("project_id") : has("tenant_id") ? one("tenant_id") : undefined;
    if (p !== undefined) q.projectId = p;
  } else {
    q.projectId = ctx.caller.projectId ?? "";
  }
  if (v.atLeast("2.73") && has("locked")) {
    const b = parseBool(one("locked"));
    if (b === undefined) throw new BadRequest(`Unrecognized value '${one("locked")}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`);
    q.locked = b;
  }
  if (has("user_id")) q.userId = one("user_id");
  if (has("name")) q.name = regex("name", one("name"));
  else if (has("display_name")) q.name = regex("display_name", one("display_name"));
  if (has("hostname")) q.hostname = regex("hostname", one("hostname"));
  if (has("image")) q.image = one("image").split("/").pop()!;
  else if (has("image_ref")) q.image = one("image_ref").split("/").pop()!;
  if (has("flavor")) q.flavor = one("flavor").split("/").pop()!;
  if (has("host")) q.host = one("host");
  if (has("node")) q.node = one("node");
  if (has("uuid")) q.uuid = one("uuid");
  if (has("reservation_id")) q.reservationId = one("reservation_id");
  if (has("ip")) q.ip = regex("ip", one("ip"));
  if (has("ip6")) q.ip6 = regex("ip6", one("ip6"));
  if (has("availability_zone")) q.availabilityZone = regex("availability_zone", one("availability_zone"));
  if (has("key_name")) q.keyName = regex("key_name", one("key_name"));
  if (has("config_drive")) q.configDrive = one("config_drive");
  if (has("power_state") && /^[0-9]+$/.test(one("power_state"))) q.powerState = Number(one("power_state"));
  return q;
}

export function serverRoutes(c: Compute, mgr: ServerManager): Route[] {
  const list = async (ctx: RequestContext, detail: boolean) => {
    ctx.enforce(detail ? "os_compute_api:servers:detail" : "os_compute_api:servers:index", { project_id: ctx.caller.projectId });
    const q = parseList(ctx, detail);
    if (q === "empty") return { body: { servers: [] } };
    const page = await mgr.list(q);
    const servers = detail ? await renderServers(ctx, mgr, page) : page.map((i) => serverBrief(ctx, i));
    const body: Record<string, unknown> = { servers };
    const links = collectionLinks(ctx, detail ? "servers/detail" : "servers", page.length, ctx.q("limit") !== undefined ? q.limit : undefined, page[page.length - 1]?.uuid);
    if (links.length > 0) body["servers_links"] = links;
    return { body };
  };
  return [
    {
      method: "GET",
      path: "/v2.1/servers",
      operation: "listServers",
      policy: "os_compute_api:servers:index",
      handler: (ctx) => list(ctx, false),
    },
    {
      method: "GET",
      path: "/v2.1/servers/detail",
      operation: "listServersDetailed",
      policy: "os_compute_api:servers:detail",
      handler: (ctx) => list(ctx, true),
    },
    {
      method: "GET",
      path: "/v2.1/servers/:server_id",
      operation: "showServer",
      policy: "os_compute_api:servers:show",
      handler: async (ctx) => {
        const caller = serverCaller(ctx);
        const inst = await c.instances.get(caller, ctx.params["server_id"]!, { includeDeleted: false });
        ctx.enforce("os_compute_api:servers:show", { project_id: inst.project_id });
        const [server] = await renderServers(ctx, mgr, [inst], { refresh: true });
        return { body: { server } };
      },
    },
    {
      method: "POST",
      path: "/v2.1/servers",
      operation: "createServer",
      policy: "os_compute_api:servers:create",
      handler: async (ctx) => {
        const caller = serverCaller(ctx);
        const req = parseCreate(ctx);
        // Personality files (≤ 2.56; parseCreate refuses the key above): checked against quota.
        const files = parsePersonality((ctx.body as { server: Record<string, unknown> }).server["personality"]);
        const target = { project_id: caller.projectId, user_id: caller.userId, availability_zone: req.availabilityZone };
        ctx.enforce("os_compute_api:servers:create", target);
        if (req.trustedCerts) ctx.enforce("os_compute_api:servers:create:trusted_certs", target);
        const az = parseAz(req.availabilityZone);
        req.availabilityZone = az.az;
        if (az.host || az.node) {
          ctx.enforce("os_compute_api:servers:create:forced_host", target);
          req.forcedHost = az.host ?? az.node;
        }
        if (req.requestedHost) {
          ctx.enforce("compute:servers:create:requested_destination", target);
          if (az.host || az.node) throw new BadRequest("One mechanism with host and/or hypervisor_hostname and another mechanism with zone:host:node are mutually exclusive.");
        }
        if (req.bdms.length > 0) ctx.enforce("os_compute_api:servers:create:attach_volume", target);
        if (req.networks !== undefined && req.networks !== "none" && (req.networks === "auto" || req.networks.length > 0)) {
          ctx.enforce("os_compute_api:servers:create:attach_network", target);
        }
        await checkPersonalityQuota(c, caller.projectId, caller.userId, files);
        const created = await mgr.create(caller, req, ctx.allowed("context_is_admin", {}));
        const s = ctx.body as { server: Record<string, unknown> };
        if (s.server["return_reservation_id"] !== undefined && boolField("return_reservation_id", s.server["return_reservation_id"])) {
          return { status: 202, body: { reservation_id: created.reservationId } };
        }
        const first = created.instances[0]!;
        const links = resourceLinks(ctx, "servers", first.uuid);
        const server: Record<string, unknown> = {
          id: first.uuid,
          links,
          "OS-DCF:diskConfig": first.auto_disk_config ? "AUTO" : "MANUAL",
          security_groups: created.securityGroupNames.map((name) => ({ name })),
          adminPass: created.adminPass,
        };
        return { status: 202, body: { server }, headers: { location: links[0]!.href } };
      },
    },
    {
      method: "PUT",
      path: "/v2.1/servers/:server_id",
      operation: "updateServer",
      policy: "os_compute_api:servers:update",
      handler: async (ctx) => {
        const v = ctx.version!;
        const caller = serverCaller(ctx);
        const s = envelope(ctx.body, "server");
        const allowed = ["name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"];
        if (v.atLeast("2.19")) allowed.push("description");
        if (v.atLeast("2.90")) allowed.push("hostname");
        noAdditional(s, allowed, "server");
        const patch: Parameters<ServerManager["update"]>[1] = {};
        if (s["name"] !== undefined) patch.name = nameField("name", s["name"]);
        if (s["description"] !== undefined) patch.description = descriptionField("description", s["description"], 255);
        if (s["accessIPv4"] !== undefined) patch.accessIPv4 = ipField("accessIPv4", s["accessIPv4"], 4);
        if (s["accessIPv6"] !== undefined) patch.accessIPv6 = ipField("accessIPv6", s["accessIPv6"], 6);
        if (s["OS-DCF:diskConfig"] !== undefined) {
          const d = s["OS-DCF:diskConfig"];
          if (d !== "AUTO" && d !== "MANUAL") throw invalidField("OS-DCF:diskConfig", d, `${pyRepr(d)} is not one of ['AUTO', 'MANUAL']`);
          patch.autoDiskConfig = d === "AUTO";
        }
        if (s["hostname"] !== undefined) {
          const h = str("hostname", s["hostname"]);
          if (h.length < 2 || h.length > 63 || !HOSTNAME.test(h)) throw invalidField("hostname", h, `${pyRepr(h)} does not match '^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$'`);
          patch.hostname = h;
        }
        const inst = await c.instances.get(caller, ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:update", serverTarget(inst));
        const updated = await mgr.update(inst, patch);
        const [server] = await renderServers(ctx, mgr, [updated], { baseOnly: !v.atLeast("2.75") });
        return { body: { server } };
      },
    },
    {
      method: "DELETE",
      path: "/v2.1/servers/:server_id",
      operation: "deleteServer",
      policy: "os_compute_api:servers:delete",
      handler: async (ctx) => {
        const caller = serverCaller(ctx);
        const inst = await c.instances.get(caller, ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:servers:delete", serverTarget(inst));
        await mgr.delete(caller, inst);
        return { status: 204 };
      },
    },
  ];
}
