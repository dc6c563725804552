import type { Network } from "./api/deps.js";

/**
 * First start: DevStack's "public" external network, owned by the admin project, so
 * routers have a gateway and floating IPs a pool. Idempotent (several processes may start
 * at once on one PostgreSQL: the named network is created only when no external one exists).
 */
export async function bootstrapNetwork(n: Network, adminProjectId: string): Promise<void> {
  const name = n.core.config.publicNetworkName;
  if (!name) return;
  const admin = { projectId: adminProjectId, admin: true };
  const existing = await n.networks.list(admin);
  if (existing.some((d) => d["router:external"] === true)) return;
  await n.networks.create(admin, [
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
}
