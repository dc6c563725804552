import { BadRequest, NotFound } from "../../../common/errors.js";
import type { RequestContext, Route } from "../../../http/context.js";
import type { FleetSnapshot, HostManager, NodeRow } from "../manager/hosts.js";
import type { Compute } from "./deps.js";
import { invalidQuery, limitParam, parseBool, pyRepr } from "./fleet-validate.js";
import { collectionLinks, MAX_LIMIT } from "./fleet-links.js";

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

type Usage = Map<string, { vcpus: number; memory_mb: number; disk_gb: number }>;

/** os-hypervisors (hypervisors.py): compute nodes with their service's state. */
export function hypervisorRoutes(c: Compute, hosts: HostManager): Route[] {
  const uuids = (ctx: RequestContext) => ctx.version!.atLeast("2.53");

  const serversOn = async (names: string[]) => (c.servers ? await c.servers.onHosts(names) : new Map<string, Array<{ uuid: string; name: string }>>());
  const usageOf = async (names: string[]): Promise<Usage> => {
    return c.servers?.hostUsage ? await c.servers.hostUsage(names) : new Map();
  };

  const view = (
    ctx: RequestContext,
    snap: FleetSnapshot,
    n: NodeRow,
    detail: boolean,
    extra: { servers?: Array<{ uuid: string; name: string }> | undefined; withServers?: boolean; usage?: Usage; running?: number },
  ): Record<string, unknown> | undefined => {
    const svc = snap.serviceByHost.get(n.host);
    if (!svc) return undefined;
    const v = ctx.version!;
    const out: Record<string, unknown> = {
      id: uuids(ctx) ? n.uuid : Number(n.id),
      hypervisor_hostname: n.hypervisor_hostname,
      state: hosts.serviceUp(svc) ? "up" : "down",
      status: Number(svc.disabled) === 1 ? "disabled" : "enabled",
    };
    if (detail) {
      out["hypervisor_type"] = n.hypervisor_type;
      out["hypervisor_version"] = Number(n.hypervisor_version);
      out["host_ip"] = n.host_ip;
      out["service"] = { id: uuids(ctx) ? svc.uuid : Number(svc.id), host: n.host, disabled_reason: svc.disabled_reason };
    }
    if (detail && v.atMost("2.87")) {
      const u = extra.usage?.get(n.host) ?? { vcpus: 0, memory_mb: 0, disk_gb: 0 };
      const vcpus = Number(n.vcpus);
      const mem = Number(n.memory_mb);
      const disk = Number(n.local_gb);
      Object.assign(out, {
        vcpus,
        memory_mb: mem,
        local_gb: disk,
        vcpus_used: u.vcpus,
        memory_mb_used: u.memory_mb + 512,
        local_gb_used: u.disk_gb,
        free_ram_mb: mem - u.memory_mb - 512,
        free_disk_gb: disk - u.disk_gb,
        current_workload: 0,
        running_vms: extra.running ?? 0,
        disk_available_least: disk - u.disk_gb,
      });
      out["cpu_info"] = v.atMost("2.27") ? n.cpu_info : JSON.parse(n.cpu_info || "{}");
    }
    if (detail && v.atLeast("2.88")) out["uptime"] = null;
    if (extra.servers && extra.servers.length > 0) out["servers"] = extra.servers.map((s) => ({ name: s.name, uuid: s.uuid }));
    else if (extra.withServers && v.atLeast("2.75")) out["servers"] = [];
    return out;
  };

  const matching = (snap: FleetSnapshot, pattern: string): NodeRow[] => {
    // compute_node_search_by_hypervisor: SQL LIKE '%pattern%'.
    const nodes = snap.nodes.filter((n) => n.hypervisor_hostname.includes(pattern));
    if (nodes.length === 0) throw new NotFound(`No hypervisor matching '${pattern}' could be found.`);
    return nodes;
  };

  const list = async (ctx: RequestContext, detail: boolean) => {
    const v = ctx.version!;
    ctx.enforce(detail ? "os_compute_api:os-hypervisors:list-detail" : "os_compute_api:os-hypervisors:list", {});
    let pattern: string | undefined;
    let withServers = false;
    if (uuids(ctx)) {
      const allowed = ["limit", "marker", "hypervisor_hostname_pattern", "with_servers"];
      const extra = Object.keys(ctx.query).filter((k) => !allowed.includes(k));
      if (extra.length > 0) throw new BadRequest(`Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
      pattern = ctx.q("hypervisor_hostname_pattern");
      const ws = ctx.q("with_servers");
      if (ws !== undefined) {
        const b = parseBool(ws);
        if (b === undefined) throw invalidQuery("with_servers", ws, `${pyRepr(ws)} is not one of ['True', 'true', '1', 'False', 'false', '0'...]`);
        withServers = b;
      }
    }
    const snap = await hosts.snapshot();
    let nodes: NodeRow[];
    let limitRaw: number | undefined;
    const paged = v.atLeast("2.33");
    if (pattern !== undefined) {
      if (ctx.q("limit") !== undefined || ctx.q("marker") !== undefined) throw new BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.");
      nodes = matching(snap, pattern);
    } else {
      nodes = snap.nodes;
      if (paged) {
        limitRaw = limitParam(ctx.q("limit"));
        const marker = ctx.q("marker");
        if (marker !== undefined) {
          const i = nodes.findIndex((n) => (uuids(ctx) ? n.uuid === marker : String(n.id) === marker));
          if (i < 0) throw new BadRequest(`marker [${marker}] not found`);
          nodes = nodes.slice(i + 1);
        }
        nodes = nodes.slice(0, Math.min(MAX_LIMIT, limitRaw ?? MAX_LIMIT));
      }
    }
    const names = nodes.map((n) => n.host);
    const servers = withServers || (detail && v.atMost("2.87")) ? await serversOn(names) : new Map<string, Array<{ uuid: string; name: string }>>();
    const usage = detail && v.atMost("2.87") ? await usageOf(names) : new Map();
    const items: Array<Record<string, unknown>> = [];
    for (const n of nodes) {
      const running = servers.get(n.host)?.length ?? 0;
      const h = view(ctx, snap, n, detail, { servers: withServers ? servers.get(n.host) : undefined, withServers, usage, running });
      if (h) items.push(h);
    }
    const body: Record<string, unknown> = { hypervisors: items };
    if (paged && pattern === undefined) {
      const last = nodes[nodes.length - 1];
      const links = collectionLinks(ctx, detail ? "os-hypervisors/detail" : "os-hypervisors", nodes.length, limitRaw, last ? (uuids(ctx) ? last.uuid : Number(last.id)) : undefined);
      if (links.length > 0) body["hypervisors_links"] = links;
    }
    return { body };
  };

  const find = async (ctx: RequestContext, id: string): Promise<{ snap: FleetSnapshot; node: NodeRow }> => {
    if (uuids(ctx)) {
      if (!UUID_RE.test(id)) throw new BadRequest(`Invalid uuid ${id}`);
    } else if (!/^-?\d+$/.test(id)) throw new NotFound(`Hypervisor with ID '${id}' could not be found.`);
    const snap = await hosts.snapshot();
    const node = snap.nodes.find((n) => (uuids(ctx) ? n.uuid === id.toLowerCase() : String(n.id) === String(Number(id))));
    if (!node || !snap.serviceByHost.has(node.host)) throw new NotFound(`Hypervisor with ID '${id}' could not be found.`);
    return { snap, node };
  };

  return [
    { method: "GET", path: "/v2.1/os-hypervisors", operation: "listHypervisors", policy: "os_compute_api:os-hypervisors:list", handler: (ctx) => list(ctx, false) },
    { method: "GET", path: "/v2.1/os-hypervisors/detail", operation: "listHypervisorsDetails", policy: "os_compute_api:os-hypervisors:list-detail", handler: (ctx) => list(ctx, true) },
    {
      method: "GET",
      path: "/v2.1/os-hypervisors/statistics",
      operation: "showHypervisorStatistics",
      policy: "os_compute_api:os-hypervisors:statistics",
      maxVersion: "2.87",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hypervisors:statistics", {});
        const snap = await hosts.snapshot();
        const nodes = snap.nodes.filter((n) => snap.serviceByHost.has(n.host));
        const names = nodes.map((n) => n.host);
        const usage = await usageOf(names);
        const servers = await serversOn(names);
        const st = { count: 0, vcpus: 0, memory_mb: 0, local_gb: 0, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, free_ram_mb: 0, free_disk_gb: 0, current_workload: 0, running_vms: 0, disk_available_least: 0 };
        for (const n of nodes) {
          const u = usage.get(n.host) ?? { vcpus: 0, memory_mb: 0, disk_gb: 0 };
          st.count++;
          st.vcpus += Number(n.vcpus);
          st.memory_mb += Number(n.memory_mb);
          st.local_gb += Number(n.local_gb);
          st.vcpus_used += u.vcpus;
          st.memory_mb_used += u.memory_mb + 512;
          st.local_gb_used += u.disk_gb;
          st.free_ram_mb += Number(n.memory_mb) - u.memory_mb - 512;
          st.free_disk_gb += Number(n.local_gb) - u.disk_gb;
          st.running_vms += servers.get(n.host)?.length ?? 0;
          st.disk_available_least += Number(n.local_gb) - u.disk_gb;
        }
        return { body: { hypervisor_statistics: st } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-hypervisors/:hypervisor_id",
      operation: "showHypervisorDetails",
      policy: "os_compute_api:os-hypervisors:show",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hypervisors:show", {});
        let withServers = false;
        if (uuids(ctx)) {
          const extra = Object.keys(ctx.query).filter((k) => k !== "with_servers");
          if (extra.length > 0) throw new BadRequest(`Additional properties are not allowed (${extra.map((e) => `'${e}'`).join(", ")} ${extra.length === 1 ? "was" : "were"} unexpected)`);
          const ws = ctx.q("with_servers");
          if (ws !== undefined) {
            const b = parseBool(ws);
            if (b === undefined) throw invalidQuery("with_servers", ws, `${pyRepr(ws)} is not a valid boolean`);
            withServers = b;
          }
        }
        const { snap, node } = await find(ctx, ctx.params["hypervisor_id"]!);
        const servers = await serversOn([node.host]);
        const usage = await usageOf([node.host]);
        const h = view(ctx, snap, node, true, { servers: withServers ? servers.get(node.host) : undefined, withServers, usage, running: servers.get(node.host)?.length ?? 0 });
        return { body: { hypervisor: h } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-hypervisors/:hypervisor_id/uptime",
      operation: "showHypervisorUptime",
      policy: "os_compute_api:os-hypervisors:uptime",
      maxVersion: "2.87",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hypervisors:uptime", {});
        const { snap, node } = await find(ctx, ctx.params["hypervisor_id"]!);
        const h = view(ctx, snap, node, false, {})!;
        const up = Math.floor(process.uptime());
        const t = new Date().toISOString().slice(11, 19);
        h["uptime"] = ` ${t} up ${Math.floor(up / 86400)} days, ${Math.floor((up % 86400) / 3600)}:${String(Math.floor((up % 3600) / 60)).padStart(2, "0")},  0 users,  load average: 0.00, 0.00, 0.00`;
        return { body: { hypervisor: h } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-hypervisors/:hostname_pattern/search",
      operation: "searchHypervisor",
      policy: "os_compute_api:os-hypervisors:search",
      maxVersion: "2.52",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hypervisors:search", {});
        const snap = await hosts.snapshot();
        const items = matching(snap, ctx.params["hostname_pattern"]!)
          .map((n) => view(ctx, snap, n, false, {}))
          .filter((x): x is Record<string, unknown> => x !== undefined);
        return { body: { hypervisors: items } };
      },
    },
    {
      method: "GET",
      path: "/v2.1/os-hypervisors/:hostname_pattern/servers",
      operation: "listHypervisorServers",
      policy: "os_compute_api:os-hypervisors:servers",
      maxVersion: "2.52",
      handler: async (ctx) => {
        ctx.enforce("os_compute_api:os-hypervisors:servers", {});
        const snap = await hosts.snapshot();
        const nodes = matching(snap, ctx.params["hostname_pattern"]!);
        const servers = await serversOn(nodes.map((n) => n.host));
        const items = nodes.map((n) => view(ctx, snap, n, false, { servers: servers.get(n.host) })).filter((x): x is Record<string, unknown> => x !== undefined);
        return { body: { hypervisors: items } };
      },
    },
  ];
}
