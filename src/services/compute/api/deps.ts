import type { Logger } from "pino";
import type { Clock } from "../../../common/clock.js";
import type { ComputeConfig } from "../../../config/config.js";
import type { Database } from "../../../db/database.js";
import type { HypervisorDriver } from "../../../drivers/compute/driver.js";
import type { ImageClient } from "../../../clients/image.js";
import type { NetworkClient } from "../../../clients/network.js";
import type { PlacementClient } from "../../../clients/placement.js";
import type { TaskRunner } from "../../../tasks/runner.js";

/**
 * The compute service's shared parts and managers. Managers reach their siblings through
 * this bag; index.ts builds it. Other services are reached only through the clients
 * (in-process HTTP with a service token), never by importing their folders.
 */
export interface Compute {
  database: Database;
  config: ComputeConfig;
  clock: Clock;
  log: Logger;
  tasks: TaskRunner;
  driver: HypervisorDriver;
  placement: PlacementClient;
  network: NetworkClient;
  image: ImageClient;
}
