/**
 * The configuration against the machine it runs on: the instance type must hold Docker and Flocker,
 * and a Spark worker's cores and memory must fit one node (lib/instanceTypes.ts has the numbers).
 * Spark itself would start a worker that asks for more than the node has and let the kernel's OOM
 * killer or the scheduler find out later.
 */
import { sparkMemoryMiB } from "../formats";
import {
  instanceSize,
  isXenInstanceType,
  MIN_NODE_MEMORY_MIB,
  NODE_RESERVED_MEMORY_MIB,
  SMALLEST_NODE_TYPE,
} from "../../lib/instanceTypes";
import type { Platform } from "../../lib/platform";
import type { Report } from "./report";

export interface MachineDemand {
  /** A valid instance type (undefined when instanceType has its own problem). */
  readonly instanceType?: string;
  readonly workerCores?: number;
  readonly workerMemory?: string;
  /** @default book */
  readonly platform?: Platform;
}

function memory(mib: number): string {
  return mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB (${(mib / 1024).toFixed(2)} GiB)`;
}

/** Reports what does not fit; true when everything does. */
export function checkMachineLimits(demand: MachineDemand, report: Report): boolean {
  const { instanceType } = demand;
  const current = demand.platform === "current";
  // The current platform's list holds only types above the floor (checked in its own validator).
  if (instanceType === undefined || (!current && !isXenInstanceType(instanceType))) return true;
  const size = instanceSize(instanceType);
  if (current && size === undefined) return true;
  if (size === undefined) {
    report(
      "instanceType",
      instanceType,
      "is not a Xen instance type EC2 still launches (the table in lib/instanceTypes.ts has their vCPUs and memory): " +
        `use e.g. ${SMALLEST_NODE_TYPE}, t2.medium, m4.large or r4.large`,
    );
    return false;
  }
  if (size.memoryMiB < MIN_NODE_MEMORY_MIB) {
    report(
      "instanceType",
      instanceType,
      `is too small: it has ${memory(size.memoryMiB)} of memory, and Ubuntu, Docker, the Flocker agents and plugin and a Spark worker ` +
        `need at least ${memory(MIN_NODE_MEMORY_MIB)}; use ${SMALLEST_NODE_TYPE} or larger (the book's t2.medium has 4 GiB)`,
    );
    return false;
  }
  let fits = true;
  if (demand.workerCores !== undefined && demand.workerCores > size.vcpus) {
    report(
      "sparkWorkerCores",
      String(demand.workerCores),
      `is more than one node has: instanceType ${instanceType} has ${size.vcpus} vCPU${size.vcpus === 1 ? "" : "s"}; ` +
        `use at most ${size.vcpus}, or a larger instance type`,
    );
    fits = false;
  }
  const workerMiB = demand.workerMemory === undefined ? undefined : sparkMemoryMiB(demand.workerMemory);
  const available = size.memoryMiB - NODE_RESERVED_MEMORY_MIB;
  if (demand.workerMemory !== undefined && workerMiB !== undefined && workerMiB > available) {
    report(
      "sparkWorkerMemory",
      demand.workerMemory,
      `(${workerMiB} MiB) does not fit one node: instanceType ${instanceType} has ${size.memoryMiB} MiB, of which ` +
        `${NODE_RESERVED_MEMORY_MIB} MiB stay with Ubuntu, Docker${current ? "" : " and Flocker"}; use at most ${available}m, or a larger instance type`,
    );
    fits = false;
  }
  return fits;
}
