import { Conflict } from "../../../common/errors.js";
import type { Route } from "../../../http/context.js";
import type { Instance } from "../store/servers.js";
import type { Compute } from "./deps.js";
import { serverCaller } from "./server-common.js";

/**
 * GET /servers/{id}/diagnostics (admin), as server_diagnostics.py with the libvirt driver:
 * only a running guest answers (409 "… while it is in power state shutdown" otherwise), the
 * free-form libvirt keys before 2.48 and the standard view from 2.48. The simulated
 * hypervisor reports the guest's configuration and zero I/O counters.
 */

/** nova/compute/power_state.py STATE_MAP */
const POWER_NAMES: Record<number, string> = { 0: "pending", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed", 7: "suspended" };

function uptime(inst: Instance, now: Date): number {
  return inst.launched_at ? Math.max(0, Math.floor((now.getTime() - new Date(inst.launched_at).getTime()) / 1000)) : 0;
}

export function diagnosticsRoutes(c: Compute): Route[] {
  return [
    {
      method: "GET",
      path: "/v2.1/servers/:server_id/diagnostics",
      operation: "showServerDiagnostics",
      policy: "os_compute_api:os-server-diagnostics",
      handler: async (ctx) => {
        const inst = await c.instances.get(serverCaller(ctx), ctx.params["server_id"]!);
        ctx.enforce("os_compute_api:os-server-diagnostics", { project_id: inst.project_id });
        if (!inst.host) throw new Conflict(`Instance ${inst.uuid} is not ready`);
        if (inst.power_state !== 1) {
          throw new Conflict(`Cannot 'get_diagnostics' instance ${inst.uuid} while it is in power state ${POWER_NAMES[inst.power_state] ?? "pending"}`);
        }
        const memKb = inst.memory_mb * 1024;
        const vcpus = inst.flavor.cur.vcpus;
        if (!ctx.version!.atLeast("2.48")) {
          const body: Record<string, unknown> = {};
          for (let i = 0; i < vcpus; i++) body[`cpu${i}_time`] = 0;
          body["memory"] = memKb;
          body["memory-actual"] = memKb;
          body["memory-rss"] = 0;
          for (const d of ["vda"]) {
            body[`${d}_read`] = 0;
            body[`${d}_read_req`] = 0;
            body[`${d}_write`] = 0;
            body[`${d}_write_req`] = 0;
            body[`${d}_errors`] = -1;
          }
          for (const v of inst.network_info) {
            const tap = `tap${v.port_id.slice(0, 11)}`;
            for (const k of ["rx", "rx_drop", "rx_errors", "rx_packets", "tx", "tx_drop", "tx_errors", "tx_packets"]) body[`${tap}_${k}`] = 0;
          }
          return { body };
        }
        return {
          body: {
            state: "running",
            driver: "libvirt",
            hypervisor: "qemu",
            hypervisor_os: "linux",
            uptime: uptime(inst, c.clock.now()),
            config_drive: inst.config_drive !== "",
            num_cpus: vcpus,
            num_disks: 1,
            num_nics: inst.network_info.length,
            memory_details: { maximum: inst.memory_mb, used: 0 },
            cpu_details: Array.from({ length: vcpus }, (_, id) => ({ id, time: 0, utilisation: null })),
            nic_details: inst.network_info.map((v) => ({
              mac_address: v.mac,
              rx_octets: 0,
              rx_errors: 0,
              rx_drop: 0,
              rx_packets: 0,
              rx_rate: null,
              tx_octets: 0,
              tx_errors: 0,
              tx_drop: 0,
              tx_packets: 0,
              tx_rate: null,
            })),
            disk_details: [{ read_bytes: 0, read_requests: 0, write_bytes: 0, write_requests: 0, errors_count: -1 }],
          },
        };
      },
    },
  ];
}
