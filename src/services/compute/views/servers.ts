import { createHash } from "node:crypto";
import type { RequestContext } from "../../../http/context.js";
import { resourceLinks } from "../api/fleet-links.js";
import type { Fault, Instance, Vif } from "../store/servers.js";

/** nova/api/openstack/common.py _STATE_MAP: (vm_state, task_state) → API status. */
const STATE_MAP: Record<string, Record<string, string>> = {
  active: {
    default: "ACTIVE",
    rebooting: "REBOOT",
    reboot_pending: "REBOOT",
    reboot_started: "REBOOT",
    rebooting_hard: "HARD_REBOOT",
    reboot_pending_hard: "HARD_REBOOT",
    reboot_started_hard: "HARD_REBOOT",
    updating_password: "PASSWORD",
    rebuilding: "REBUILD",
    rebuild_block_device_mapping: "REBUILD",
    rebuild_spawning: "REBUILD",
    migrating: "MIGRATING",
    resize_prep: "RESIZE",
    resize_migrating: "RESIZE",
    resize_migrated: "RESIZE",
    resize_finish: "RESIZE",
  },
  building: { default: "BUILD" },
  stopped: {
    default: "SHUTOFF",
    resize_prep: "RESIZE",
    resize_migrating: "RESIZE",
    resize_migrated: "RESIZE",
    resize_finish: "RESIZE",
    rebuilding: "REBUILD",
    rebuild_block_device_mapping: "REBUILD",
    rebuild_spawning: "REBUILD",
  },
  resized: { default: "VERIFY_RESIZE", resize_reverting: "REVERT_RESIZE" },
  paused: { default: "PAUSED", migrating: "MIGRATING" },
  suspended: { default: "SUSPENDED" },
  rescued: { default: "RESCUE" },
  error: { default: "ERROR", rebuilding: "REBUILD", rebuild_block_device_mapping: "REBUILD", rebuild_spawning: "REBUILD" },
  deleted: { default: "DELETED" },
  "soft-delete": { default: "SOFT_DELETED" },
  shelved: { default: "SHELVED" },
  shelved_offloaded: { default: "SHELVED_OFFLOADED" },
};

export function statusOf(inst: Pick<Instance, "deleted" | "vm_state" | "task_state">): string {
  if (inst.deleted) return "DELETED";
  const m = STATE_MAP[inst.vm_state];
  if (!m) return "UNKNOWN";
  return (inst.task_state !== null ? m[inst.task_state] : undefined) ?? m["default"]!;
}

/** common.task_and_vm_state_from_status: the vm_states (and task states) a status list names. */
export function statesFromStatus(statuses: string[]): { vmStates: string[]; taskStates: string[] } {
  const lower = statuses.map((s) => s.toLowerCase());
  const vm = new Set<string>();
  const task = new Set<string>();
  for (const [state, map] of Object.entries(STATE_MAP)) {
    for (const [ts, status] of Object.entries(map)) {
      if (lower.includes(status.toLowerCase())) {
        vm.add(state);
        task.add(ts);
      }
    }
  }
  return { vmStates: [...vm].sort(), taskStates: [...task].sort() };
}

const PROGRESS_STATUSES = ["ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"];

/** utils.generate_hostid: sha224(project + host), "" without a host. */
export function hostIdOf(host: string | null, projectId: string): string {
  if (!host) return "";
  return createHash("sha224").update(projectId + host).digest("hex");
}

/** utils.isotime: seconds, Z. */
export function isoZ(ts: string): string {
  return ts.replace(/\.\d+Z$/, "Z");
}

/** oslo to_primitive of a naive datetime: microseconds, no zone (OS-SRV-USG:launched_at). */
export function isoMicroNaive(ts: string | null): string | null {
  if (!ts) return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  if (!m) return ts;
  return `${m[1]}.${(m[2] ?? "").padEnd(6, "0").slice(0, 6)}`;
}

/** The "addresses" of a server: per network label, fixed then floating IPs (views/addresses.py). */
export function addressesOf(vifs: Vif[], extended: boolean): Record<string, unknown[]> {
  const out: Record<string, { fixed: unknown[]; floating: unknown[] }> = {};
  for (const v of vifs) {
    const slot = (out[v.network_label] ??= { fixed: [], floating: [] });
    for (const ip of v.fixed_ips) {
      slot.fixed.push(extended ? { version: ip.version, addr: ip.address, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": v.mac } : { version: ip.version, addr: ip.address });
      for (const f of ip.floating_ips) {
        slot.floating.push(extended ? { version: 4, addr: f, "OS-EXT-IPS:type": "floating", "OS-EXT-IPS-MAC:mac_addr": v.mac } : { version: 4, addr: f });
      }
    }
  }
  const res: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(out)) res[k] = [...v.fixed, ...v.floating];
  return res;
}

/** What the show view may include besides the base (policy answers computed once per request). */
export interface ShowOptions {
  extendedAttrs: boolean;
  showExtraSpecs: boolean;
  /** 2.16: the host status, undefined when policy hides it. */
  hostStatus?: string | undefined;
  /** Admins see fault details of 500 faults. */
  admin: boolean;
  tags?: string[];
  fault?: Fault | undefined;
  securityGroups?: Array<{ name: string }> | undefined;
  volumes?: Array<{ id: string; delete_on_termination: boolean }>;
  serverGroups?: string[] | undefined;
  /** PUT before 2.75 shows only the base attributes. */
  baseOnly?: boolean;
  /** Rebuild's response: no OS-EXT-SRV-ATTR:user_data (2.57 puts user_data there itself). */
  hideUserData?: boolean;
}

/** GET /servers/{id} body's "server" (views/servers.py ViewBuilder.show) for the request's microversion. */
export function serverView(ctx: RequestContext, inst: Instance, o: ShowOptions): Record<string, unknown> {
  const v = ctx.version!;
  const status = statusOf(inst);
  const flavor = inst.flavor.cur;
  const s: Record<string, unknown> = {
    id: inst.uuid,
    name: inst.display_name,
    status,
    tenant_id: inst.project_id,
    user_id: inst.user_id,
    metadata: inst.metadata,
    hostId: hostIdOf(inst.host, inst.project_id),
    image: inst.image_ref ? { id: inst.image_ref, links: [{ rel: "bookmark", href: `${ctx.serviceUrl}/images/${inst.image_ref}` }] } : "",
    flavor: v.atLeast("2.47")
      ? {
          vcpus: flavor.vcpus,
          ram: flavor.ram,
          disk: flavor.disk,
          ephemeral: flavor.ephemeral,
          swap: flavor.swap,
          original_name: flavor.name,
          ...(o.showExtraSpecs ? { extra_specs: flavor.extra_specs } : {}),
        }
      : { id: flavor.id, links: [{ rel: "bookmark", href: `${ctx.serviceUrl}/flavors/${flavor.id}` }] },
    created: isoZ(inst.created_at),
    updated: isoZ(inst.updated_at),
    addresses: inst.vm_state === "building" ? {} : addressesOf(inst.network_info, !o.baseOnly),
    accessIPv4: inst.access_ip_v4 ?? "",
    accessIPv6: inst.access_ip_v6 ?? "",
    links: resourceLinks(ctx, "servers", inst.uuid),
    "OS-DCF:diskConfig": inst.auto_disk_config ? "AUTO" : "MANUAL",
  };
  if ((status === "ERROR" || status === "DELETED") && o.fault) {
    const f: Record<string, unknown> = { code: o.fault.code, created: isoZ(o.fault.created_at), message: o.fault.message };
    if (o.fault.details && (o.admin || o.fault.code !== 500)) f["details"] = o.fault.details;
    s["fault"] = f;
  }
  if (PROGRESS_STATUSES.includes(status)) s["progress"] = inst.progress;
  if (!o.baseOnly) {
    s["OS-EXT-AZ:availability_zone"] = inst.availability_zone ?? "";
    s["config_drive"] = inst.config_drive;
    s["key_name"] = inst.key_name;
    s["OS-SRV-USG:launched_at"] = isoMicroNaive(inst.launched_at);
    s["OS-SRV-USG:terminated_at"] = isoMicroNaive(inst.terminated_at);
    if (o.securityGroups && o.securityGroups.length > 0) s["security_groups"] = o.securityGroups;
  }
  if (o.extendedAttrs) {
    s["OS-EXT-SRV-ATTR:host"] = inst.host;
    s["OS-EXT-SRV-ATTR:instance_name"] = `instance-${inst.id.toString(16).padStart(8, "0")}`;
    s["OS-EXT-SRV-ATTR:hypervisor_hostname"] = inst.node;
    if (v.atLeast("2.3")) {
      s["OS-EXT-SRV-ATTR:reservation_id"] = inst.reservation_id;
      s["OS-EXT-SRV-ATTR:launch_index"] = inst.launch_index;
      s["OS-EXT-SRV-ATTR:hostname"] = inst.hostname;
      s["OS-EXT-SRV-ATTR:kernel_id"] = inst.system_metadata["image_kernel_id"] ?? "";
      s["OS-EXT-SRV-ATTR:ramdisk_id"] = inst.system_metadata["image_ramdisk_id"] ?? "";
      s["OS-EXT-SRV-ATTR:root_device_name"] = inst.root_device_name;
      if (!o.hideUserData) s["OS-EXT-SRV-ATTR:user_data"] = inst.user_data;
    }
  }
  if (!o.baseOnly) {
    s["OS-EXT-STS:task_state"] = inst.task_state;
    s["OS-EXT-STS:vm_state"] = inst.vm_state;
    s["OS-EXT-STS:power_state"] = inst.power_state;
    s["os-extended-volumes:volumes_attached"] = (o.volumes ?? []).map((x) => (v.atLeast("2.3") ? { id: x.id, delete_on_termination: x.delete_on_termination } : { id: x.id }));
  }
  if (v.atLeast("2.16") && o.hostStatus !== undefined) s["host_status"] = o.hostStatus;
  if (v.atLeast("2.9")) s["locked"] = inst.locked;
  if (v.atLeast("2.73")) s["locked_reason"] = inst.locked_reason;
  if (v.atLeast("2.19")) s["description"] = inst.display_description;
  if (v.atLeast("2.26")) s["tags"] = o.tags ?? [];
  if (v.atLeast("2.63")) s["trusted_image_certificates"] = inst.trusted_certs;
  if (v.atLeast("2.90") && !o.extendedAttrs) s["OS-EXT-SRV-ATTR:hostname"] = inst.hostname;
  if (o.serverGroups !== undefined && v.atLeast("2.71")) s["server_groups"] = o.serverGroups;
  return s;
}

/** GET /servers item: id, name, links. */
export function serverBrief(ctx: RequestContext, inst: Pick<Instance, "uuid" | "display_name">): Record<string, unknown> {
  return { id: inst.uuid, name: inst.display_name, links: resourceLinks(ctx, "servers", inst.uuid) };
}
