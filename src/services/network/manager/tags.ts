import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { NeutronError } from "../errors.js";
import type { Doc, DocTable } from "../store/docs.js";
import { getDoc } from "../store/docs.js";
import type { NetworkTrx } from "../store/tables.js";

/** tagging.MAX_TAGS_COUNT: tags one resource may carry. */
export const MAX_TAGS_COUNT = 50;

export interface TaggedCollection {
  /** The URL collection (security-groups keeps its dash). */
  path: string;
  /** The collection name Neutron's tag plugin knows it by (TagResourceNotFound prints it). */
  resource: string;
  /** The member name: policies are `<action>_<member>:tags`. */
  member: string;
  table: DocTable;
}

/** Resources with standard attributes that accept tags, and where they are stored. */
export const TAGGED: readonly TaggedCollection[] = [
  { path: "networks", resource: "networks", member: "network", table: "net_network" },
  { path: "subnets", resource: "subnets", member: "subnet", table: "net_subnet" },
  { path: "ports", resource: "ports", member: "port", table: "net_port" },
  { path: "routers", resource: "routers", member: "router", table: "net_router" },
  { path: "subnetpools", resource: "subnetpools", member: "subnetpool", table: "net_subnetpool" },
  { path: "security-groups", resource: "security_groups", member: "security_group", table: "net_security_group" },
  { path: "floatingips", resource: "floatingips", member: "floatingip", table: "net_floatingip" },
];

/** Tag order as the tag table's primary key returns it. */
const ordered = (tags: Iterable<string>): string[] => [...new Set(tags)].sort();

/**
 * Tags on resources with standard attributes (neutron/services/tag/tag_plugin.py, the
 * tagging extension's controller): they live in each resource's document, and every change
 * to the set bumps the resource's revision (Tag revises_on_change standard_attr).
 */
export class TagManager {
  constructor(private readonly n: Network) {}

  /** The resource as a policy target for `<action>_<member>:tags` (404 TagResourceNotFound when missing). */
  async target(caller: Caller, c: TaggedCollection, id: string): Promise<Doc> {
    const db = this.n.core.db;
    const doc = await getDoc(db, c.table, id);
    if (!doc) throw tagResourceNotFound(c, id);
    if (c.table === "net_network") return (await this.n.networks.present(db, caller, [doc]))[0] ?? doc;
    const networkId = doc["network_id"];
    if ((c.table === "net_subnet" || c.table === "net_port") && typeof networkId === "string") {
      const net = await getDoc(db, "net_network", networkId);
      if (net) {
        const [shown] = await this.n.networks.present(db, caller, [net]);
        return {
          ...doc,
          "network:project_id": net["project_id"],
          "network:tenant_id": net["project_id"],
          ...(c.table === "net_subnet" ? { shared: shown?.["shared"] === true, "router:external": net["router:external"] === true } : {}),
        };
      }
    }
    return doc;
  }

  async get(c: TaggedCollection, id: string): Promise<string[]> {
    const doc = await getDoc(this.n.core.db, c.table, id);
    if (!doc) throw tagResourceNotFound(c, id);
    return tagsOf(doc);
  }

  /** Whether a tag is set (GET .../tags/{tag}): TagNotFound otherwise. */
  async check(c: TaggedCollection, id: string, tag: string): Promise<void> {
    if (!(await this.get(c, id)).includes(tag)) throw tagNotFound(tag);
  }

  /** PUT .../tags: the set becomes exactly `tags`. */
  async replace(c: TaggedCollection, id: string, tags: readonly string[]): Promise<void> {
    limit(c, tags);
    await this.change(c, id, () => ordered(tags));
  }

  /** POST .../tags (tag-creation): add the tags not set yet. */
  async add(c: TaggedCollection, id: string, tags: readonly string[]): Promise<void> {
    limit(c, tags);
    await this.change(c, id, (old) => ordered([...old, ...tags]));
  }

  /** PUT .../tags/{tag}: add one (nothing to do when set). */
  async addOne(c: TaggedCollection, id: string, tag: string): Promise<void> {
    await this.change(c, id, (old) => {
      const next = ordered([...old, tag]);
      limit(c, next);
      return next;
    });
  }

  /** DELETE .../tags/{tag}: TagNotFound when it is not set. */
  async removeOne(c: TaggedCollection, id: string, tag: string): Promise<void> {
    await this.change(c, id, (old) => {
      if (!old.includes(tag)) throw tagNotFound(tag);
      return old.filter((t) => t !== tag);
    });
  }

  /** DELETE .../tags */
  async clear(c: TaggedCollection, id: string): Promise<void> {
    await this.change(c, id, () => []);
  }

  /** Read-modify-write of the document's tags; touched only when the set changes. */
  private async change(c: TaggedCollection, id: string, next: (old: string[]) => string[]): Promise<void> {
    await this.n.core.write(async (trx) => {
      const doc = await getDoc(trx, c.table, id, this.n.core.rowLocks);
      if (!doc) throw tagResourceNotFound(c, id);
      const old = tagsOf(doc);
      const tags = next(old);
      if (tags.length === old.length && tags.every((t) => old.includes(t))) return;
      doc["tags"] = tags;
      await writeDoc(trx, c.table, this.n.core.touch(doc));
    });
  }
}

function tagsOf(doc: Doc): string[] {
  return Array.isArray(doc["tags"]) ? (doc["tags"] as unknown[]).map(String) : [];
}

/** validate_tags_limit */
function limit(c: TaggedCollection, tags: readonly string[]): void {
  if (new Set(tags).size > MAX_TAGS_COUNT) {
    throw new NeutronError(400, "BadRequest", `Bad ${c.resource} request: The number of tags exceed the per-resource limit of ${MAX_TAGS_COUNT}.`);
  }
}

export const tagNotFound = (tag: string): NeutronError => new NeutronError(404, "TagNotFound", `Tag ${tag} could not be found.`);

export const tagResourceNotFound = (c: TaggedCollection, id: string): NeutronError =>
  new NeutronError(404, "TagResourceNotFound", `Resource ${c.resource} ${id} could not be found.`);

/** Only the document changes (tags are not mirrored in any column). */
async function writeDoc(trx: NetworkTrx, table: DocTable, doc: Doc): Promise<void> {
  // The table is chosen at run time from TAGGED; each has id and doc columns.
  await trx
    .updateTable(table as "net_network")
    .set({ doc: JSON.stringify(doc) })
    .where("id", "=", doc.id)
    .execute();
}
