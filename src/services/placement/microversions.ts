import type { MicroversionSpec } from "../../http/microversion.js";

/** Placement's canonical microversion list (placement/microversion.py), one line per version. */
export const placementMicroversions: MicroversionSpec = {
  serviceType: "placement",
  versions: ["1.0"],
};
