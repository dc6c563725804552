import type { Clock } from "../../../common/clock.js";
import type { ComputeConfig } from "../../../config/config.js";
import type { DriverOperation, HostSpec, HypervisorDriver } from "../driver.js";
import { DriverFailure } from "../driver.js";

/** Traits every simulated host reports, as a libvirt/KVM host on x86_64 does. */
const HOST_TRAITS = [
  "COMPUTE_NET_ATTACH_INTERFACE",
  "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
  "COMPUTE_VOLUME_ATTACH_WITH_TAG",
  "COMPUTE_VOLUME_EXTEND",
  "COMPUTE_VOLUME_MULTI_ATTACH",
  "COMPUTE_TRUSTED_CERTS",
  "COMPUTE_IMAGE_TYPE_QCOW2",
  "COMPUTE_IMAGE_TYPE_RAW",
  "COMPUTE_IMAGE_TYPE_AMI",
  "COMPUTE_IMAGE_TYPE_ARI",
  "COMPUTE_IMAGE_TYPE_AKI",
  "COMPUTE_IMAGE_TYPE_ISO",
  "COMPUTE_DEVICE_TAGGING",
  "COMPUTE_NODE",
  "HW_CPU_X86_SSE",
  "HW_CPU_X86_SSE2",
  "HW_CPU_X86_AVX",
  "HW_CPU_X86_AVX2",
];

/**
 * Simulated hypervisors: N hosts named from configuration, spread round-robin over the
 * configured availability zones; every operation succeeds after `latencyMs[op]` on the Clock
 * unless a test injected a failure (failNext / setHostDown).
 */
export class SimulatedHypervisorDriver implements HypervisorDriver {
  private readonly specs: HostSpec[];
  private readonly down = new Set<string>();
  /** Injected failures: op → hosts (or "*") whose next op fails. */
  private readonly failures: Array<{ op: DriverOperation; host: string; message: string; remaining: number }> = [];

  constructor(
    private readonly config: ComputeConfig,
    readonly clock: Clock,
  ) {
    const zones = config.availabilityZones.length > 0 ? config.availabilityZones : [config.defaultAvailabilityZone];
    this.specs = [];
    for (let i = 1; i <= config.hosts; i++) {
      this.specs.push({
        name: `${config.hostPrefix}${String(i).padStart(5, "0")}`,
        vcpus: config.hostVcpus,
        memoryMb: config.hostMemoryMb,
        diskGb: config.hostDiskGb,
        cpuAllocationRatio: config.cpuAllocationRatio,
        ramAllocationRatio: config.ramAllocationRatio,
        diskAllocationRatio: config.diskAllocationRatio,
        availabilityZone: zones[(i - 1) % zones.length]!,
        traits: HOST_TRAITS,
        hypervisorType: "QEMU",
        hypervisorVersion: 8002002,
        hostIp: `10.${Math.floor(i / 65536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`,
      });
    }
  }

  hosts(): HostSpec[] {
    return this.specs;
  }

  latency(op: DriverOperation): number {
    return this.config.latencyMs[op] ?? 0;
  }

  /** Make the next `count` `op`s on `host` ("*" = any host) fail with `message`. */
  failNext(op: DriverOperation, host = "*", message = `Simulated ${op} failure`, count = 1): void {
    this.failures.push({ op, host, message, remaining: count });
  }

  /** A host that does not answer: its operations fail and its service reports down. */
  setHostDown(host: string, down = true): void {
    if (down) this.down.add(host);
    else this.down.delete(host);
  }

  isUp(host: string): boolean {
    return !this.down.has(host);
  }

  async perform(op: DriverOperation, host: string, instanceId: string): Promise<void> {
    if (this.down.has(host)) throw new DriverFailure(op, host, `Compute host ${host} is not responding`);
    const i = this.failures.findIndex((f) => f.op === op && (f.host === "*" || f.host === host));
    if (i >= 0) {
      const f = this.failures[i]!;
      if (--f.remaining <= 0) this.failures.splice(i, 1);
      throw new DriverFailure(op, host, f.message);
    }
    void instanceId;
  }

  consoleOutput(host: string, instanceId: string, name: string): string[] {
    return [
      `[    0.000000] Linux version 6.1.0-stackbox (simulated) on ${host}`,
      `[    0.120000] Booting instance ${instanceId}`,
      `cloud-init: ${name} is up`,
      `${name} login:`,
    ];
  }
}
