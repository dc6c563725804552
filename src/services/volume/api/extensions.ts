import type { Route } from "../../../http/context.js";
import type { Volume } from "./deps.js";

interface Ext {
  name: string;
  alias: string;
  updated: string;
  description: string;
  /** Served when this returns true (the area that implements it registered its actions). */
  served(v: Volume): boolean;
}

const always = () => true;
const volumeArea = (v: Volume) => v.actions.has("volumes", "os-extend");

/**
 * cinder/api/contrib's ExtensionDescriptors (name, alias, updated, docstring) that Stackbox
 * really serves. Not listed: consistencygroups/cgsnapshots (deprecated, not built), volume
 * encryption metadata (no key manager), manage/unmanage (no manageable
 * storage on simulated backends). Transfers come with the snapshots/backups area.
 */
const EXTENSIONS: Ext[] = [
  { name: "AdminActions", alias: "os-admin-actions", updated: "2012-08-25T00:00:00+00:00", description: "Enable admin actions.", served: (v) => v.actions.has("volumes", "os-reset_status") },
  { name: "AvailabilityZones", alias: "os-availability-zone", updated: "2013-06-27T00:00:00+00:00", description: "Describe Availability Zones.", served: always },
  { name: "Backups", alias: "backups", updated: "2012-12-12T00:00:00+00:00", description: "Backups support.", served: (v) => v.actions.has("backups", "os-reset_status") },
  { name: "Capabilities", alias: "capabilities", updated: "2015-08-31T00:00:00+00:00", description: "Capabilities support.", served: always },
  { name: "ExtendedServices", alias: "os-extended-services", updated: "2014-01-10T00:00:00-00:00", description: "Extended services support.", served: always },
  { name: "ExtendedSnapshotAttributes", alias: "os-extended-snapshot-attributes", updated: "2012-06-19T00:00:00+00:00", description: "Extended SnapshotAttributes support.", served: (v) => v.actions.has("snapshots", "os-reset_status") },
  { name: "Hosts", alias: "os-hosts", updated: "2011-06-29T00:00:00+00:00", description: "Admin-only host administration.", served: always },
  { name: "Qos_specs_manage", alias: "qos-specs", updated: "2013-08-02T00:00:00+00:00", description: "QoS specs support.", served: always },
  { name: "QuotaClasses", alias: "os-quota-class-sets", updated: "2012-03-12T00:00:00+00:00", description: "Quota classes management support.", served: always },
  { name: "Quotas", alias: "os-quota-sets", updated: "2011-08-08T00:00:00+00:00", description: "Quota management support.", served: always },
  { name: "SchedulerHints", alias: "OS-SCH-HNT", updated: "2013-04-18T00:00:00+00:00", description: "Pass arbitrary key/value pairs to the scheduler.", served: volumeArea },
  { name: "Scheduler_stats", alias: "scheduler-stats", updated: "2014-09-07T00:00:00+00:00", description: "Scheduler stats support.", served: always },
  { name: "Services", alias: "os-services", updated: "2012-10-28T00:00:00-00:00", description: "Services support.", served: always },
  { name: "SnapshotActions", alias: "os-snapshot-actions", updated: "2013-07-16T00:00:00+00:00", description: "Enable snapshot manager actions.", served: (v) => v.actions.has("snapshots", "os-update_snapshot_status") },
  { name: "TypesExtraSpecs", alias: "os-types-extra-specs", updated: "2011-08-24T00:00:00+00:00", description: "Type extra specs support.", served: always },
  { name: "TypesManage", alias: "os-types-manage", updated: "2011-08-24T00:00:00+00:00", description: "Types manage support.", served: always },
  { name: "UsedLimits", alias: "os-used-limits", updated: "2013-10-03T00:00:00+00:00", description: "Provide data on limited resources that are being used.", served: always },
  { name: "VolumeActions", alias: "os-volume-actions", updated: "2012-05-31T00:00:00+00:00", description: "Enable volume actions.", served: volumeArea },
  { name: "VolumeHostAttribute", alias: "os-vol-host-attr", updated: "2011-11-03T00:00:00+00:00", description: "Expose host as an attribute of a volume.", served: volumeArea },
  { name: "VolumeImageMetadata", alias: "os-vol-image-meta", updated: "2012-12-07T00:00:00+00:00", description: "Show image metadata associated with the volume.", served: volumeArea },
  { name: "VolumeMigStatusAttribute", alias: "os-vol-mig-status-attr", updated: "2013-08-08T00:00:00+00:00", description: "Expose migration_status as an attribute of a volume.", served: volumeArea },
  { name: "VolumeTenantAttribute", alias: "os-vol-tenant-attr", updated: "2011-11-03T00:00:00+00:00", description: "Expose the internal project_id as an attribute of a volume.", served: volumeArea },
  { name: "VolumeTypeEncryption", alias: "encryption", updated: "2013-07-01T00:00:00+00:00", description: "Encryption support for volume types.", served: always },
  { name: "VolumeTransfer", alias: "os-volume-transfer", updated: "2013-05-29T00:00:00+00:00", description: "Volume transfer management support.", served: (v) => v.actions.has("backups", "os-reset_status") },
  { name: "VolumeTypeAccess", alias: "os-volume-type-access", updated: "2014-06-26T00:00:00Z", description: "Volume type access support.", served: always },
];

/** cinder/api/extensions.py ExtensionsResource.index: GET /extensions. */
export function extensionsRoutes(v: Volume): Route[] {
  return [
    {
      method: "GET",
      path: "/extensions",
      operation: "listExtensions",
      handler: async () => ({
        body: {
          extensions: EXTENSIONS.filter((e) => e.served(v)).map((e) => ({ name: e.name, alias: e.alias, description: e.description, updated: e.updated, links: [] })),
        },
      }),
    },
  ];
}
