/**
 * Stackbox IPAM: pure IP address management for the Neutron API, with no HTTP and no
 * database. This module re-exports the whole library:
 * - ip.ts: addresses, CIDRs and ranges as bigints, strict parsing, canonical printing
 * - netaddr.ts: netaddr's lenient parsing, which Neutron's validator messages depend on
 * - validators.ts: neutron_lib API validators (they return a message string)
 * - mac.ts: MAC validation and normalisation, base_mac random MACs, EUI-64 (SLAAC)
 * - pools.ts: allocation pools, default pools and gateway, fixed IP checks
 * - allocate.ts: picking free addresses
 * - subnet.ts: the plugin-level subnet checks (they return an IpamError)
 * - subnetpool.ts: subnet pool prefixes, bounds, quota and subnet allocation
 */
export * from "./ip.js";
export * from "./errors.js";
export * from "./netaddr.js";
export * from "./validators.js";
export * from "./mac.js";
export * from "./pools.js";
export * from "./allocate.js";
export * from "./subnet.js";
export * from "./subnetpool.js";
export { pyRepr, pyStr } from "./py.js";
