/**
 * Errors this library reports where Neutron raises a typed exception. `type` is the
 * exception class name (NeutronError.type on the wire), `status` the HTTP code
 * neutron_lib.api.faults.FAULT_MAP gives that class, and `message` the full text of
 * str(exception), e.g. "Invalid input for operation: ...". The API layer wraps it as is.
 */
export interface IpamError {
  readonly type: string;
  readonly status: 400 | 409 | 500;
  readonly message: string;
}

export const isIpamError = (v: unknown): v is IpamError =>
  typeof v === "object" && v !== null && "type" in v && "status" in v && "message" in v;

/** A BadRequest subclass: HTTP 400. */
export const badRequestError = (type: string, message: string): IpamError => ({ type, status: 400, message });

/** A Conflict or InUse subclass: HTTP 409. */
export const conflictError = (type: string, message: string): IpamError => ({ type, status: 409, message });

/** neutron_lib InvalidInput (BadRequest): "Invalid input for operation: %(error_message)s." */
export const invalidInputError = (reason: string): IpamError =>
  badRequestError("InvalidInput", `Invalid input for operation: ${reason}.`);

/** neutron_lib BadRequest: "Bad %(resource)s request: %(msg)s." */
export const badResourceRequestError = (resource: string, msg: string): IpamError =>
  badRequestError("BadRequest", `Bad ${resource} request: ${msg}.`);
