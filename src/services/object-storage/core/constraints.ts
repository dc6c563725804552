import { SwiftError } from "./errors.js";
import type { SwiftRequest } from "./types.js";

/** swift.common.constraints defaults (also what /info's "swift" section says). */
export const LIMITS = {
  max_file_size: 5368709122,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10000,
  account_listing_limit: 10000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  extra_header_count: 0,
} as const;

/** check_metadata: the X-<type>-Meta-* headers of one request. */
export function checkMetadata(req: SwiftRequest, type: "account" | "container" | "object"): void {
  const prefix = `x-${type}-meta-`;
  let count = 0;
  let size = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value.length > LIMITS.max_header_size) throw new SwiftError(400, `Header value too long: ${titleCase(name).slice(0, LIMITS.max_meta_name_length)}`);
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    if (!key) throw new SwiftError(400, "Metadata name cannot be empty");
    count++;
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
    if (Buffer.byteLength(key) > LIMITS.max_meta_name_length) throw new SwiftError(400, `Metadata name too long: ${prefix}${key}`);
    if (Buffer.byteLength(value) > LIMITS.max_meta_value_length) throw new SwiftError(400, `Metadata value longer than ${LIMITS.max_meta_value_length}: ${prefix}${key}`);
    if (count > LIMITS.max_meta_count) throw new SwiftError(400, `Too many metadata items; max ${LIMITS.max_meta_count}`);
    if (size > LIMITS.max_meta_overall_size) throw new SwiftError(400, `Total metadata too large; max ${LIMITS.max_meta_overall_size}`);
  }
}

/** Header names as Swift (WSGI) sends them: X-Object-Meta-Color. */
export function titleCase(name: string): string {
  let t = titled.get(name);
  if (t === undefined) {
    t = name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
    if (titled.size < 10_000) titled.set(name, t);
  }
  return t;
}
const titled = new Map<string, string>();

/** check_delete_headers: X-Delete-After becomes X-Delete-At; the absolute unix second or undefined. */
export function deleteAt(req: SwiftRequest, nowSeconds: number): number | undefined {
  const after = req.header("x-delete-after");
  if (after !== undefined) {
    if (!/^\s*[-+]?\d+\s*$/.test(after)) throw new SwiftError(400, "Non-integer X-Delete-After");
    const at = Math.floor(nowSeconds + Number(after));
    if (at <= nowSeconds) throw new SwiftError(400, "X-Delete-After in past");
    req.headers["x-delete-at"] = String(at);
    delete req.headers["x-delete-after"];
  }
  const at = req.header("x-delete-at");
  if (at === undefined) return undefined;
  if (!/^\s*[-+]?\d+\s*$/.test(at)) throw new SwiftError(400, "Non-integer X-Delete-At");
  const n = Number(at);
  if (n <= nowSeconds) throw new SwiftError(400, "X-Delete-At in past");
  req.headers["x-delete-at"] = String(n);
  return n;
}
