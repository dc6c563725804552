import { uuid } from "../../../common/ids.js";
import type { Network } from "../api/deps.js";
import type { Caller } from "../core.js";
import { notFound } from "../errors.js";
import type { Doc, DocSpec } from "../store/docs.js";
import { deleteDoc, findDocs, getDoc, insertDoc } from "../store/docs.js";

const LABEL: DocSpec<"net_metering_label"> = { table: "net_metering_label", columns: (d) => ({ project_id: String(d["project_id"]) }) };
const RULE: DocSpec<"net_metering_label_rule"> = {
  table: "net_metering_label_rule",
  columns: (d) => ({ project_id: String(d["project_id"]), metering_label_id: String(d["metering_label_id"]) }),
};

/**
 * L3 metering (neutron/db/metering/metering_db.py): labels and the rules that say which
 * traffic of a project's routers they count. The simulated backend counts nothing; the
 * API keeps the labels and rules exactly as Neutron does.
 */
export class MeteringManager {
  constructor(private readonly n: Network) {}

  async listLabels(caller: Caller): Promise<Doc[]> {
    return findDocs(this.n.core.db, "net_metering_label", caller.admin ? {} : { project_id: caller.projectId ?? "" });
  }

  getLabel(id: string): Promise<Doc | undefined> {
    return getDoc(this.n.core.db, "net_metering_label", id);
  }

  async createLabels(items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) {
        const doc: Doc = { ...item, id: uuid() };
        await insertDoc(trx, LABEL, doc);
        out.push(doc);
      }
      return out;
    });
  }

  async deleteLabel(id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      await trx.deleteFrom("net_metering_label_rule").where("metering_label_id", "=", id).execute();
      if (!(await deleteDoc(trx, "net_metering_label", id))) throw notFound("metering_label", id);
    });
  }

  async listRules(caller: Caller): Promise<Doc[]> {
    return findDocs(this.n.core.db, "net_metering_label_rule", caller.admin ? {} : { project_id: caller.projectId ?? "" });
  }

  getRule(id: string): Promise<Doc | undefined> {
    return getDoc(this.n.core.db, "net_metering_label_rule", id);
  }

  async createRules(items: Array<Record<string, unknown>>): Promise<Doc[]> {
    return this.n.core.write(async (trx) => {
      const out: Doc[] = [];
      for (const item of items) {
        const labelId = String(item["metering_label_id"]);
        if (!(await getDoc(trx, "net_metering_label", labelId))) throw notFound("metering_label", labelId);
        const doc: Doc = { source_ip_prefix: null, destination_ip_prefix: null, ...item, id: uuid() };
        await insertDoc(trx, RULE, doc);
        out.push(doc);
      }
      return out;
    });
  }

  async deleteRule(id: string): Promise<void> {
    await this.n.core.write(async (trx) => {
      if (!(await deleteDoc(trx, "net_metering_label_rule", id))) throw notFound("metering_label_rule", id);
    });
  }
}
