import { createHash } from "node:crypto";
import { isUniqueViolation } from "../../db/database.js";
import type { Volume } from "./api/deps.js";

/** A stable uuid-shaped id from a name, so concurrent first starts agree on it. */
function stableUuid(name: string): string {
  const h = createHash("sha256").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The cinder-scheduler and cinder-backup services on the host, one cinder-volume per
 * configured backend (`host@backend`), and the default volume type (Cinder's migration
 * creates __DEFAULT__). Idempotent: a restart adds what a changed configuration needs and
 * keeps operators' enable/disable state.
 */
export async function bootstrapVolumeService(v: Volume): Promise<void> {
  const now = v.core.now();
  const zone = v.config.defaultAvailabilityZone;
  const wanted = [
    { host: v.config.host, binary: "cinder-scheduler", availability_zone: zone },
    { host: v.config.host, binary: "cinder-backup", availability_zone: zone },
    ...v.driver.backends().map((b) => ({ host: b.host, binary: "cinder-volume", availability_zone: b.availabilityZone })),
  ];
  for (const s of wanted) {
    try {
      await v.core.db
        .insertInto("vol_service")
        .values({ ...s, disabled: 0, disabled_reason: null, frozen: 0, created_at: now, updated_at: now })
        .execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      await v.core.db.updateTable("vol_service").set({ availability_zone: s.availability_zone, updated_at: now }).where("host", "=", s.host).where("binary", "=", s.binary).execute();
    }
  }
  const name = v.config.defaultVolumeType;
  const have = await v.core.db.selectFrom("vol_type").select("id").where("name", "=", name).executeTakeFirst();
  if (!have) {
    try {
      await v.core.db
        .insertInto("vol_type")
        .values({ id: stableUuid(`volume-type:${name}`), name, description: "Default Volume Type", is_public: 1, qos_specs_id: null, created_at: now, updated_at: null })
        .execute();
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
  }
}
