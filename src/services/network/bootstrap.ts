import type { Network } from "./api/deps.js";
import { NeutronError } from "./errors.js";
import { formatIp, parseCidr } from "./ipam/index.js";
import type { SubnetManager } from "./manager/subnets.js";

/**
 * First start: DevStack's "public" external network, owned by the admin project, so
 * routers have a gateway and floating IPs a pool, with its subnets as DevStack makes them:
 * `public-subnet` (IPv4, gateway the first host) and `ipv6-public-subnet` (gateway network+2,
 * DevStack's IPV6_PUBLIC_NETWORK_GATEWAY, leaving ::1 for the router), both without DHCP.
 * Idempotent (several processes may start at once on one PostgreSQL: the named network is
 * created only when no external one exists, and a subnet only when its network lacks it; a
 * concurrent twin is refused by the overlap check and ignored here).
 */
export async function bootstrapNetwork(n: Network, adminProjectId: string): Promise<void> {
  // The backend's agents report in when the cloud starts (as real agents do when they start).
  await n.agents.list();
  const cfg = n.core.config;
  const name = cfg.publicNetworkName;
  if (!name) return;
  const admin = { projectId: adminProjectId, admin: true };
  const existing = await n.networks.list(admin);
  const externals = existing.filter((d) => d["router:external"] === true);
  if (externals.length > 0 && !externals.some((d) => d["name"] === name)) return;
  let net = externals.find((d) => d["name"] === name);
  if (!net) {
    try {
      [net] = await n.networks.create(admin, [
        {
          name,
          project_id: adminProjectId,
          tenant_id: adminProjectId,
          admin_state_up: true,
          shared: false,
          "router:external": true,
          "provider:network_type": "flat",
          "provider:physical_network": "public",
          port_security_enabled: true,
          availability_zone_hints: [],
          description: "",
          mtu: null,
        },
      ]);
    } catch (e) {
      // Another process starting on the same PostgreSQL created it first (the flat segment on
      // physnet public is unique): use that one.
      if (!(e instanceof NeutronError && e.status === 409)) throw e;
      net = (await n.networks.list(admin)).find((d) => d["router:external"] === true && d["name"] === name);
    }
  }
  if (!net) return;
  const subnets = n.subnets as SubnetManager;
  const have = await subnets.ofNetwork(n.core.db, net.id);
  const wanted: Array<{ name: string; cidr: string; version: 4 | 6; gatewayOffset: bigint }> = [];
  if (cfg.publicSubnetCidr) wanted.push({ name: "public-subnet", cidr: cfg.publicSubnetCidr, version: 4, gatewayOffset: 1n });
  if (cfg.publicSubnetV6Cidr) wanted.push({ name: "ipv6-public-subnet", cidr: cfg.publicSubnetV6Cidr, version: 6, gatewayOffset: 2n });
  for (const w of wanted) {
    if (have.some((s) => s["name"] === w.name || s["ip_version"] === w.version)) continue;
    const parsed = parseCidr(w.cidr);
    if (!parsed || parsed.cidr.version !== w.version) throw new Error(`network config: bad public subnet cidr ${w.cidr}`);
    const c = parsed.cidr;
    try {
      await subnets.create(admin, [
        {
          name: w.name,
          project_id: adminProjectId,
          tenant_id: adminProjectId,
          network_id: net.id,
          ip_version: w.version,
          cidr: `${formatIp({ version: c.version, value: c.network })}/${c.prefixLen}`,
          gateway_ip: formatIp({ version: c.version, value: c.network + w.gatewayOffset }),
          enable_dhcp: false,
          description: "",
          service_types: [],
          segment_id: null,
          use_default_subnetpool: false,
        },
      ]);
    } catch (e) {
      if (!(e instanceof NeutronError && e.status === 400)) throw e;
    }
  }
}
