/**
 * The hypervisor fleet as compute sees it. The simulated driver (simulated/) is the executable
 * spec: hosts from configuration, operations that take configurable time on the Clock and
 * fail when a test injects a failure. A real driver (libvirt) would implement the same.
 */
export interface HostSpec {
  /** Hypervisor hostname, also the compute service's host and the resource provider's name. */
  name: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  /** The zone the host is placed in at first start (an aggregate with availability_zone). */
  availabilityZone: string;
  /** Placement traits the host reports (COMPUTE_*, HW_CPU_*). */
  traits: string[];
  hypervisorType: string;
  hypervisorVersion: number;
  hostIp: string;
}

/** What the driver is asked to do to an instance on a host. */
export type DriverOperation =
  | "spawn"
  | "destroy"
  | "reboot"
  | "power_off"
  | "power_on"
  | "pause"
  | "unpause"
  | "suspend"
  | "resume"
  | "rescue"
  | "unrescue"
  | "snapshot"
  | "migrate"
  | "live_migrate"
  | "resize"
  | "rebuild"
  | "shelve_offload"
  | "attach_interface"
  | "detach_interface"
  | "crash_dump";

export interface HypervisorDriver {
  /** The hosts this driver manages (stable names across restarts). */
  hosts(): HostSpec[];
  /** Simulated time an operation takes, in ms on the Clock (0 = next tick). */
  latency(op: DriverOperation): number;
  /**
   * Perform an operation on a host. Throws DriverFailure when it fails (an injected failure
   * or the host is down); the caller records the fault and moves the instance as Nova does.
   */
  perform(op: DriverOperation, host: string, instanceId: string): Promise<void>;
  /** Console log lines of an instance (the simulated boot log). */
  consoleOutput(host: string, instanceId: string, name: string): string[];
  /** Whether the host answers (a host "going down" is how evacuation is tested). */
  isUp(host: string): boolean;
}

export class DriverFailure extends Error {
  constructor(
    readonly op: DriverOperation,
    readonly host: string,
    message: string,
  ) {
    super(message);
  }
}
