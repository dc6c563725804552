import type { MicroversionSpec } from "../../http/microversion.js";

/**
 * Nova's microversions this cloud serves (nova/api/openstack/api_version_request.py lists what
 * each one changed). The maximum is only as high as the behaviour really implemented.
 */
export const computeMicroversions: MicroversionSpec = {
  serviceType: "compute",
  versions: ["2.1"],
  legacyHeaders: ["x-openstack-nova-api-version"],
};
