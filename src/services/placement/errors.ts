import { CloudError } from "../../common/errors.js";
import type { Microversion } from "../../http/microversion.js";

/** Placement's error codes (placement/errors.py); shown in error bodies from microversion 1.23. */
export const Codes = {
  DEFAULT: "placement.undefined_code",
  INVENTORY_INUSE: "placement.inventory.inuse",
  CONCURRENT_UPDATE: "placement.concurrent_update",
  DUPLICATE_NAME: "placement.duplicate_name",
  PROVIDER_IN_USE: "placement.resource_provider.inuse",
  PROVIDER_CANNOT_DELETE_PARENT: "placement.resource_provider.cannot_delete_parent",
  RESOURCE_PROVIDER_NOT_FOUND: "placement.resource_provider.not_found",
  ILLEGAL_DUPLICATE_QUERYPARAM: "placement.query.duplicate_key",
  QUERYPARAM_BAD_VALUE: "placement.query.bad_value",
  QUERYPARAM_MISSING_VALUE: "placement.query.missing_value",
} as const;

/** A webob HTTP error as Placement raises it: a status, its detail, and an error code. */
export class PlacementError extends CloudError {
  constructor(
    status: number,
    message: string,
    readonly code: string = Codes.DEFAULT,
    headers: Record<string, string> = {},
  ) {
    super(status, message, headers);
  }
}

export const badRequest = (msg: string, code?: string): PlacementError => new PlacementError(400, msg, code);
export const notFound = (msg: string, code?: string): PlacementError => new PlacementError(404, msg, code);
export const conflict = (msg: string, code?: string): PlacementError => new PlacementError(409, msg, code);

/** The negotiated microversion rides on the error so the fault renderer knows whether to show `code`. */
const VERSION = Symbol("placementVersion");
export function tagVersion(err: unknown, v: Microversion | undefined): void {
  if (err && typeof err === "object" && v) (err as Record<symbol, unknown>)[VERSION] = v;
}
export function taggedVersion(err: unknown): Microversion | undefined {
  return err && typeof err === "object" ? ((err as Record<symbol, unknown>)[VERSION] as Microversion | undefined) : undefined;
}
