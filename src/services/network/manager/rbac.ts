import { uuid } from "../../../common/ids.js";
import { isUniqueViolation } from "../../../db/database.js";
import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { NeutronError, conflict, invalidInput } from "../errors.js";
import type { Doc } from "../store/docs.js";
import { getDoc, updateDoc } from "../store/docs.js";
import { rbacGrants } from "../store/rbac.js";
import type { NetworkTrx, Q } from "../store/tables.js";
import { NETWORK_SPEC } from "./networks.js";

export const ACCESS_SHARED = "access_as_shared";
export const ACCESS_EXTERNAL = "access_as_external";

/** The object types Neutron's RBAC models define (neutron/db/rbac_db_models.py). */
export const RBAC_OBJECT_TYPES = ["network", "qos_policy", "security_group", "address_scope", "subnetpool", "address_group"] as const;

/** The Python class whose validate_rbac_policy_change callback guards each type. */
const OBJECT_CALLBACK: Record<string, string> = {
  network: "neutron.objects.network.Network",
  qos_policy: "neutron.objects.qos.policy.QosPolicy",
  security_group: "neutron.objects.securitygroup.SecurityGroup",
  address_scope: "neutron.objects.address_scope.AddressScope",
  subnetpool: "neutron.objects.subnetpool.SubnetPool",
  address_group: "neutron.objects.address_group.AddressGroup",
};
const ML2 = "neutron.plugins.ml2.plugin.Ml2Plugin";

/**
 * What the RBAC API needs from the area that owns an object type. Networks are built in;
 * another area enables its type (security groups, subnet pools, address scopes…) with
 * RbacManager.registerType once its own visibility honours the entries.
 */
export interface RbacObjectType {
  /** Actions the type's model accepts (InvalidActionForType otherwise). */
  actions: readonly string[];
  /** The stored object, no visibility rules. */
  load(q: Q, id: string): Promise<Doc | undefined>;
  /**
   * Projects whose use of the object depends on its being shared with them (Neutron's
   * get_bound_project_ids): removing their access is refused with RbacPolicyInUse.
   */
  boundProjects?(q: Q, objectId: string): Promise<Set<string>>;
  /** Bump the object's revision when its entries change (the model's revises_on_change). */
  touch?(trx: NetworkTrx, objectId: string): Promise<void>;
  /** The type's own validate_rbac_policy_create: the reason a new entry is refused, if any. */
  validateCreate?(q: Q, caller: Caller, obj: Doc, target: string): Promise<string | undefined>;
}

interface Row {
  id: string;
  project_id: string;
  object_type: string;
  object_id: string;
  action: string;
  target_project: string;
}

/** A callback that refused an RBAC change, as neutron_lib's NotificationError prints it. */
interface CallbackError {
  callback: string;
  message: string;
}

const failure = (errors: CallbackError[]): string => errors.map((e) => `Callback ${e.callback} failed with "${e.message}"`).join(",");

const inUse = (objectId: string, details: string): NeutronError =>
  conflict("RbacPolicyInUse", `RBAC policy on object ${objectId} cannot be removed because other objects depend on it.\nDetails: ${details}`);

/** RBAC policy of type unknown: Neutron finds the type by counting the caller's rows in each table. */
export const rbacNotFound = (id: string): NeutronError => new NeutronError(404, "RbacPolicyNotFound", `RBAC policy of type unknown with ID ${id} not found`);

const pyTuple = (values: readonly string[]): string =>
  values.length === 1 ? `('${values[0]}',)` : `(${values.map((v) => `'${v}'`).join(", ")})`;

const COLUMNS = ["id", "project_id", "object_type", "object_id", "action", "target_project"] as const;

/**
 * RBAC policies (neutron/db/rbac_db_mixin.py and the callbacks that guard them:
 * neutron/objects/rbac_db.py, db_base_plugin_v2.validate_network_rbac_policy_change,
 * external_net_db). Entries live in net_rbac_policy, the same rows NetworkManager writes for
 * `shared` and `router:external` networks, so those wildcard entries are listed and deleting
 * them unshares the network. A caller sees the entries its project owns (admin: all); the
 * target project does not see entries that name it.
 */
export class RbacManager {
  private readonly types = new Map<string, RbacObjectType>();

  constructor(private readonly n: Network) {
    this.types.set("network", {
      actions: [ACCESS_SHARED, ACCESS_EXTERNAL],
      load: (q, id) => getDoc(q, "net_network", id),
      boundProjects: async () => new Set<string>(),
      touch: (trx, id) => this.touchNetwork(trx, id),
    });
    // Subnet pools and address scopes already honour access_as_shared entries (their managers
    // list and show what an entry grants), so entries may name them.
    this.types.set("subnetpool", {
      actions: [ACCESS_SHARED],
      load: (q, id) => getDoc(q, "net_subnetpool", id),
      boundProjects: async (q, id) =>
        new Set((await q.selectFrom("net_subnet").select("project_id").where("subnetpool_id", "=", id).execute()).map((r) => r.project_id)),
      validateCreate: async (q, caller, pool, target) => {
        const scope = pool["address_scope_id"];
        if (typeof scope !== "string" || !scope) return undefined;
        // The target project must reach the pool's address scope (an entry the caller can see).
        let query = q
          .selectFrom("net_rbac_policy")
          .select("id")
          .where("object_type", "=", "address_scope")
          .where("object_id", "=", scope)
          .where("target_project", "in", ["*", target]);
        if (!caller.admin) query = query.where("project_id", "=", caller.projectId ?? "");
        if (await query.executeTakeFirst()) return undefined;
        return `Failed to create RBAC policy on object ${pool.id} because target project doesn't have access to associated address scope.`;
      },
    });
    this.types.set("address_scope", {
      actions: [ACCESS_SHARED],
      load: (q, id) => getDoc(q, "net_address_scope", id),
      boundProjects: async (q, id) =>
        new Set((await q.selectFrom("net_subnetpool").select("project_id").where("address_scope_id", "=", id).execute()).map((r) => r.project_id)),
    });
  }

  /** Enable RBAC entries on another object type (its area calls this once it honours them). */
  registerType(objectType: string, type: RbacObjectType): void {
    this.types.set(objectType, type);
  }

  /** Whether an object type is served (convert_valid_object_type). */
  hasType(objectType: string): boolean {
    return this.types.has(objectType);
  }

  static view(row: Row): Doc {
    return {
      id: row.id,
      project_id: row.project_id,
      tenant_id: row.project_id,
      object_type: row.object_type,
      object_id: row.object_id,
      action: row.action,
      target_tenant: row.target_project,
    };
  }

  /** Candidates for a list: the caller's project's entries (admin: every entry), narrowed by column filters. */
  async list(caller: Caller, filters: Record<string, string[]>): Promise<Doc[]> {
    let q = this.n.core.db.selectFrom("net_rbac_policy").select([...COLUMNS]);
    if (!caller.admin) q = q.where("project_id", "=", caller.projectId ?? "");
    const column: Record<string, (typeof COLUMNS)[number]> = {
      id: "id",
      object_type: "object_type",
      object_id: "object_id",
      action: "action",
      target_tenant: "target_project",
      project_id: "project_id",
      tenant_id: "project_id",
    };
    for (const [key, values] of Object.entries(filters)) {
      const col = column[key];
      if (!col || values.length === 0) continue;
      q = q.where(col, "in", values);
    }
    return (await q.execute()).map(RbacManager.view);
  }

  /** One entry the caller may see; RbacPolicyNotFound (type unknown) otherwise. */
  async get(caller: Caller, id: string): Promise<Doc> {
    return RbacManager.view(await this.row(this.n.core.db, caller, id));
  }

  private async row(q: Q, caller: Caller, id: string, lock = false): Promise<Row> {
    let query = q.selectFrom("net_rbac_policy").select([...COLUMNS]).where("id", "=", id);
    if (lock && this.n.core.rowLocks) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row || (!caller.admin && row.project_id !== caller.projectId)) throw rbacNotFound(id);
    return row;
  }

  async create(caller: Caller, items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) out.push(await this.createOne(trx, caller, item));
      return out;
    });
  }

  private typeOf(objectType: unknown): RbacObjectType {
    const t = typeof objectType === "string" ? this.types.get(objectType) : undefined;
    if (!t) throw invalidInput(`'${objectType === null || objectType === undefined ? "None" : String(objectType)}' is not a valid RBAC object type`);
    return t;
  }

  private async createOne(trx: NetworkTrx, caller: Caller, item: Record<string, unknown>): Promise<Doc> {
    const objectType = item["object_type"] as string | null;
    const type = this.typeOf(objectType);
    const objectId = String(item["object_id"]);
    const action = String(item["action"]);
    const target = String(item["target_tenant"]);
    const projectId = String(item["project_id"]);
    // The API layer reserves quota before the plugin runs its callbacks.
    await this.n.quotas.check(trx, projectId, "rbac_policy");

    const obj = await type.load(trx, objectId);
    const errors: CallbackError[] = [];
    const objectCallback = `${OBJECT_CALLBACK[objectType ?? ""] ?? "neutron.objects.base.NeutronDbObject"}.validate_rbac_policy_change`;
    if (!caller.admin) {
      if (!obj) errors.push({ callback: objectCallback, message: "'NoneType' object is not subscriptable" });
      else if (obj["project_id"] !== caller.projectId) {
        errors.push({ callback: objectCallback, message: "Invalid input for operation: Only admins can manipulate policies on objects they do not own." });
      }
    }
    let makeExternal = false;
    if (objectType === "network" && (action === ACCESS_SHARED || action === ACCESS_EXTERNAL)) {
      const callback = action === ACCESS_SHARED ? `${ML2}.validate_network_rbac_policy_change` : `${ML2}._process_ext_policy_create`;
      // Both look the network up as the caller: a network it cannot see is not found.
      const seen = (await this.visibleNetwork(trx, caller, obj)) ? obj : undefined;
      if (!seen) errors.push({ callback, message: `Network ${objectId} could not be found.` });
      else if (!caller.admin && seen["project_id"] !== caller.projectId) {
        errors.push({ callback, message: "Invalid input for operation: Only admins can manipulate policies on networks they do not own." });
      } else if (action === ACCESS_EXTERNAL && seen["router:external"] !== true) {
        // external_net_db converts the network into an external one (without a wildcard entry).
        makeExternal = true;
      }
    }
    if (errors.length === 0 && obj && type.validateCreate) {
      const reason = await type.validateCreate(trx, caller, obj, target);
      if (reason) errors.push({ callback: objectCallback, message: reason });
    }
    if (errors.length) throw invalidInput(failure(errors));
    if (!type.actions.includes(action)) {
      throw new NeutronError(
        400,
        "InvalidActionForType",
        `Invalid action '${action}' for object type '${objectType}'. Valid actions: ${pyTuple(type.actions)}`,
      );
    }
    if (!obj) throw new NeutronError(404, "HTTPNotFound", `Object ${objectId} of type ${objectType} could not be found.`);

    const row: Row = { id: uuid(), project_id: projectId, object_type: objectType ?? "", object_id: objectId, action, target_project: target };
    const doc = RbacManager.view(row);
    try {
      await trx
        .insertInto("net_rbac_policy")
        .values({ ...row, doc: JSON.stringify(doc) })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict("DuplicateRbacPolicy", "An RBAC policy already exists with those values.");
      throw e;
    }
    if (makeExternal) await this.setExternal(trx, objectId, true);
    await type.touch?.(trx, objectId);
    return doc;
  }

  /** PUT: only target_tenant changes; the callbacks refuse taking access away that is in use. */
  async update(caller: Caller, id: string, changes: Record<string, unknown>): Promise<Doc> {
    return this.n.core.write(async (trx) => {
      const row = await this.row(trx, caller, id, true);
      const newTarget = changes["target_tenant"] === undefined ? row.target_project : String(changes["target_tenant"]);
      const type = this.typeOf(row.object_type);
      const obj = await type.load(trx, row.object_id);
      const errors: CallbackError[] = [];
      const objectCallback = `${OBJECT_CALLBACK[row.object_type] ?? "neutron.objects.base.NeutronDbObject"}.validate_rbac_policy_change`;
      if (!caller.admin && (!obj || obj["project_id"] !== caller.projectId)) {
        errors.push({
          callback: objectCallback,
          message: obj ? "Invalid input for operation: Only admins can manipulate policies on objects they do not own." : "'NoneType' object is not subscriptable",
        });
      } else if (newTarget !== row.target_project && newTarget !== "*") {
        const e = await this.boundCheck(trx, type, row, obj);
        if (e) errors.push({ callback: objectCallback, message: e });
      }
      if (row.object_type === "network") errors.push(...(await this.networkChecks(trx, caller, row, obj, newTarget)));
      if (errors.length) throw inUse(row.object_id, failure(errors));
      if (newTarget !== row.target_project) {
        const next: Row = { ...row, target_project: newTarget };
        try {
          await trx
            .updateTable("net_rbac_policy")
            .set({ target_project: newTarget, doc: JSON.stringify(RbacManager.view(next)) })
            .where("id", "=", id)
            .execute();
        } catch (e) {
          if (isUniqueViolation(e)) {
            throw conflict(
              "NeutronDbObjectDuplicateEntry",
              `Failed to create a duplicate ${rbacClass(row.object_type)}: for attribute(s) ['target_project', 'object_id', 'action'] with value(s) ${newTarget}-${row.object_id}-${row.action}`,
            );
          }
          throw e;
        }
        await type.touch?.(trx, row.object_id);
        return RbacManager.view(next);
      }
      return RbacManager.view(row);
    });
  }

  async delete(caller: Caller, id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      const row = await this.row(trx, caller, id, true);
      const type = this.typeOf(row.object_type);
      const obj = await type.load(trx, row.object_id);
      const errors: CallbackError[] = [];
      const objectCallback = `${OBJECT_CALLBACK[row.object_type] ?? "neutron.objects.base.NeutronDbObject"}.validate_rbac_policy_change`;
      if (row.action === ACCESS_SHARED && obj && obj["project_id"] !== row.target_project) {
        const e = await this.boundCheck(trx, type, row, obj);
        if (e) errors.push({ callback: objectCallback, message: e });
      }
      if (row.object_type === "network") errors.push(...(await this.networkChecks(trx, caller, row, obj, undefined)));
      if (errors.length) throw inUse(row.object_id, failure(errors));
      await trx.deleteFrom("net_rbac_policy").where("id", "=", id).execute();
      if (row.object_type === "network" && row.action === ACCESS_EXTERNAL) await this.afterExternalDelete(trx, row.object_id);
      await type.touch?.(trx, row.object_id);
    });
  }

  /** RbacNeutronDbObjectMixin._validate_rbac_policy_delete: projects bound to the object keep their access. */
  private async boundCheck(q: Q, type: RbacObjectType, row: Row, obj: Doc | undefined): Promise<string | undefined> {
    if (!obj || !type.boundProjects || row.action !== ACCESS_SHARED) return undefined;
    if (obj["project_id"] === row.target_project) return undefined;
    const bound = await type.boundProjects(q, row.object_id);
    if (bound.size === 0) return undefined;
    const shares = await q
      .selectFrom("net_rbac_policy")
      .select("target_project")
      .where("object_type", "=", row.object_type)
      .where("object_id", "=", row.object_id)
      .where("action", "=", ACCESS_SHARED)
      .execute();
    const message = `RBAC policy on object ${row.object_id} cannot be removed because other objects depend on it.\nDetails: project_id=${row.target_project}`;
    if (row.target_project !== "*") {
      if (shares.some((s) => s.target_project === "*")) return undefined;
      return bound.has(row.target_project) ? message : undefined;
    }
    const others = new Set(shares.filter((s) => s.target_project !== "*").map((s) => s.target_project));
    return [...bound].every((p) => others.has(p)) ? undefined : message;
  }

  /**
   * The ML2 plugin's checks for network entries being changed (target) or deleted
   * (newTarget undefined): a project losing shared access may not have ports on the network,
   * one losing external access may not have routers with a gateway on it.
   */
  private async networkChecks(q: Q, caller: Caller, row: Row, net: Doc | undefined, newTarget: string | undefined): Promise<CallbackError[]> {
    const errors: CallbackError[] = [];
    if (row.action === ACCESS_SHARED) {
      const callback = `${ML2}.validate_network_rbac_policy_change`;
      const seen = (await this.visibleNetwork(q, caller, net)) ? net : undefined;
      if (!seen) return [{ callback, message: `Network ${row.object_id} could not be found.` }];
      if (newTarget !== undefined && !caller.admin && seen["project_id"] !== caller.projectId) {
        return [{ callback, message: "Invalid input for operation: Only admins can manipulate policies on networks they do not own." }];
      }
      const selfSharing = row.target_project === seen["project_id"];
      const losing = newTarget === undefined || newTarget !== row.target_project;
      if (!selfSharing && losing && (await this.projectPortsOnNetwork(q, seen, row.target_project))) {
        errors.push({ callback, message: `Unable to reconfigure sharing settings for network ${row.object_id}. Multiple tenants are using it.` });
      }
    } else if (row.action === ACCESS_EXTERNAL && net) {
      if (newTarget !== undefined && newTarget === row.target_project) return errors;
      const message = await this.externalInUse(q, row, net, newTarget);
      if (message) errors.push({ callback: `${ML2}._validate_ext_not_in_use_by_project`, message });
    }
    return errors;
  }

  /** Whether the caller's own query would find the network: admin, owner, or any entry granting it access. */
  private async visibleNetwork(q: Q, caller: Caller, net: Doc | undefined): Promise<boolean> {
    if (!net) return false;
    if (caller.admin || net["project_id"] === caller.projectId) return true;
    return (await rbacGrants(q, "network", caller.projectId, [net.id])).length > 0;
  }

  /**
   * ensure_no_project_ports_on_network: whether a project ("*": every project no other entry
   * still grants) has ports on the network, so withdrawing its shared access would strand them.
   */
  async projectPortsOnNetwork(q: Q, net: Doc, project: string): Promise<boolean> {
    const owner = String(net["project_id"]);
    let query = q.selectFrom("net_port").select("id").where("network_id", "=", net.id);
    if (project === "*") {
      const others = await q
        .selectFrom("net_rbac_policy")
        .select("target_project")
        .where("object_type", "=", "network")
        .where("object_id", "=", net.id)
        .where("action", "=", ACCESS_SHARED)
        .where("target_project", "!=", "*")
        .execute();
      const allowed = [...others.map((o) => o.target_project), owner, ""];
      query = query.where("project_id", "not in", allowed);
    } else {
      const wildcard = await q
        .selectFrom("net_rbac_policy")
        .select("id")
        .where("object_type", "=", "network")
        .where("object_id", "=", net.id)
        .where("action", "=", ACCESS_SHARED)
        .where("target_project", "=", "*")
        .executeTakeFirst();
      if (wildcard) return false;
      query = query.where("project_id", "=", project);
    }
    return (await query.limit(1).executeTakeFirst()) !== undefined;
  }

  /** external_net_db._validate_ext_not_in_use_by_project. */
  private async externalInUse(q: Q, row: Row, net: Doc, newTarget: string | undefined): Promise<string | undefined> {
    const routers = await q.selectFrom("net_router").select("project_id").where("gw_network_id", "=", row.object_id).execute();
    const entries = await q
      .selectFrom("net_rbac_policy")
      .select("target_project")
      .where("object_type", "=", "network")
      .where("object_id", "=", row.object_id)
      .where("action", "=", ACCESS_EXTERNAL)
      .execute();
    const prefix = `RBAC policy on object ${row.object_id} cannot be removed because other objects depend on it.\nDetails: `;
    let exists: boolean;
    if (row.target_project !== "*") {
      if (entries.some((e) => e.target_project === "*")) return undefined;
      exists = routers.some((r) => r.project_id === row.target_project);
    } else {
      if (net["is_default"] === true) return `${prefix}Default external networks must be shared to everyone.`;
      const projects = entries.filter((e) => e.target_project !== "*").map((e) => e.target_project);
      if (newTarget !== undefined) projects.push(newTarget);
      exists = routers.some((r) => !projects.includes(r.project_id));
    }
    return exists ? `${prefix}There are routers attached to this network that depend on this policy for access.` : undefined;
  }

  /**
   * The last access_as_external entry gone: the network is no longer external — unless
   * router gateways still use it (Neutron logs ExternalNetworkInUse and leaves it external).
   */
  private async afterExternalDelete(trx: NetworkTrx, networkId: string): Promise<void> {
    const left = await trx
      .selectFrom("net_rbac_policy")
      .select("id")
      .where("object_type", "=", "network")
      .where("object_id", "=", networkId)
      .where("action", "=", ACCESS_EXTERNAL)
      .executeTakeFirst();
    if (left) return;
    const gw = await trx
      .selectFrom("net_port")
      .select("id")
      .where("network_id", "=", networkId)
      .where("device_owner", "=", "network:router_gateway")
      .executeTakeFirst();
    if (gw) return;
    await this.setExternal(trx, networkId, false);
  }

  private async setExternal(trx: NetworkTrx, networkId: string, external: boolean): Promise<void> {
    const doc = await getDoc(trx, "net_network", networkId, this.n.core.rowLocks);
    if (!doc || doc["router:external"] === external) return;
    doc["router:external"] = external;
    await updateDoc(trx, NETWORK_SPEC, doc);
  }

  /** NetworkRBAC revises_on_change = ('network',): every entry change bumps the network's revision. */
  private async touchNetwork(trx: NetworkTrx, networkId: string): Promise<void> {
    const doc = await getDoc(trx, "net_network", networkId, this.n.core.rowLocks);
    if (!doc) return;
    await updateDoc(trx, NETWORK_SPEC, this.n.core.touch(doc));
  }
}

function rbacClass(objectType: string): string {
  const names: Record<string, string> = {
    network: "NetworkRBAC",
    qos_policy: "QosPolicyRBAC",
    security_group: "SecurityGroupRBAC",
    address_scope: "AddressScopeRBAC",
    subnetpool: "SubnetPoolRBAC",
    address_group: "AddressGroupRBAC",
  };
  return names[objectType] ?? "RBAC";
}
