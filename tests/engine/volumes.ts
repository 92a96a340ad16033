/**
 * EBS volumes the program attaches to a node (aws:ec2/volumeAttachment, e.g. the Flocker control
 * service's state volume as /dev/sdz, which Xen shows as /dev/xvdz): on an engine node, a loop
 * device over a file of its own, visible as that device name in that node only.
 *
 * The nodes share the host's /dev (a bind of it), where a new name would show on every node and on
 * the host. So the node gets a /dev of its own first: a tmpfs holding copies of the host's device
 * nodes and binds of its directories (pts, shm, mqueue…), mounted over its /dev; the volume's block
 * device node is made there alone. Loop devices are named by their backing file
 * (/tmp/sfe-engine/<tag>/volumes/…), so a crashed run's are found and detached again.
 */
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import type { EngineCluster } from "./nodes";

const VOLUMES = (tag: string) => path.join(process.env.SFE_BASE ?? "/tmp/sfe-engine", tag, "volumes");

/** The node's own /dev, then the device: idempotent per node (a second volume reuses the /dev). */
const PRIVATE_DEV = `
set -euo pipefail
if [[ ! -e /dev/.sfe-private ]]; then
  old=$(mktemp -d /run/sfe-host-dev.XXXXXX)
  mount --rbind /dev "$old"
  # A bind of a shared mount is its peer: unmounting it later would take the new /dev with it.
  mount --make-rprivate "$old"
  mount -t tmpfs -o mode=755,size=1m sfe-dev /dev
  for entry in "$old"/* "$old"/.[!.]*; do
    [[ -e "$entry" || -L "$entry" ]] || continue
    name=\${entry#"$old"/}
    if [[ -d "$entry" && ! -L "$entry" ]]; then
      mkdir -p "/dev/$name"
      if mountpoint -q "$entry"; then mount --rbind "$entry" "/dev/$name"; else cp -a "$entry/." "/dev/$name/"; fi
    else
      cp -a "$entry" "/dev/$name"
    fi
  done
  touch /dev/.sfe-private
  umount --recursive --lazy "$old"
  rmdir "$old" 2>/dev/null || true # a lazy unmount may hold it a moment; /run is the node's own
fi
# Never make a device node in the host's /dev.
[[ "$(findmnt --noheadings --output SOURCE --mountpoint /dev | tail -n 1)" == sfe-dev ]] || { echo "the node's /dev is not its own" >&2; exit 1; }
`;

/** Attaches a fresh sparse file of `sizeMiB` as `device` (e.g. /dev/xvdz) on `node`. */
export async function attachVolume(
  cluster: EngineCluster,
  tag: string,
  node: string,
  device: string,
  sizeMiB = 1024,
): Promise<void> {
  const dir = VOLUMES(tag);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${node}-${path.basename(device)}.img`);
  fs.rmSync(file, { force: true });
  execFileSync("truncate", ["-s", `${sizeMiB}M`, file]);
  const loop = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  const [major, minor] = execFileSync("stat", ["-c", "%t %T", loop], { encoding: "utf8" })
    .trim()
    .split(" ")
    .map((hex) => parseInt(hex, 16));
  const result = await cluster.exec(node, `${PRIVATE_DEV}\nrm -f ${device}\nmknod -m 660 ${device} b ${major} ${minor}`);
  if (result.status !== 0) throw new Error(`attaching ${device} to ${node} failed: ${result.stderr}`);
}

/** Detaches every loop device whose file is under this tag's volumes (a crashed run's included). */
export function detachVolumes(tag: string): void {
  const dir = VOLUMES(tag);
  const listing = execFileSync("losetup", ["--list", "--noheadings", "--output", "NAME,BACK-FILE"], { encoding: "utf8" });
  for (const line of listing.split("\n")) {
    const [name, backing] = line.trim().split(/\s+/);
    if (name && backing?.startsWith(`${dir}/`)) execFileSync("losetup", ["--detach", name]);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * An EBS volume as a Nitro instance shows it: an NVMe namespace (/dev/nvme1n1 here) and udev's
 * stable name for it, /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_<volume id without its
 * dash> (the volume id is the NVMe serial). Backed by a loop device over a file of its own, so the
 * same "volume" can be withdrawn from one node and presented to another with its data.
 */
export interface NvmeVolume {
  readonly volumeId: string;
  readonly major: number;
  readonly minor: number;
}

export const nvmeByIdPath = (volumeId: string) => `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;

/** A fresh sparse file of `sizeMiB` behind a loop device: the volume, attached to no node yet. */
export function createNvmeVolume(tag: string, volumeId: string, sizeMiB = 64): NvmeVolume {
  const dir = VOLUMES(tag);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${volumeId}.img`);
  fs.rmSync(file, { force: true });
  execFileSync("truncate", ["-s", `${sizeMiB}M`, file]);
  const loop = execFileSync("losetup", ["--find", "--show", file], { encoding: "utf8" }).trim();
  const [major, minor] = execFileSync("stat", ["-c", "%t %T", loop], { encoding: "utf8" })
    .trim()
    .split(" ")
    .map((hex) => parseInt(hex, 16));
  return { volumeId, major, minor };
}

/** The attachment: the device node and its by-id link appear on `node` (in its own /dev). */
export async function presentNvmeVolume(
  cluster: EngineCluster,
  node: string,
  volume: NvmeVolume,
  name = "nvme1n1",
): Promise<void> {
  const link = nvmeByIdPath(volume.volumeId);
  const result = await cluster.exec(
    node,
    `${PRIVATE_DEV}\nrm -f /dev/${name}\nmknod -m 660 /dev/${name} b ${volume.major} ${volume.minor}\nmkdir -p /dev/disk/by-id\nln -sfn ../../${name} ${link}`,
  );
  if (result.status !== 0) throw new Error(`presenting ${volume.volumeId} to ${node} failed: ${result.stderr}`);
}

/** The detachment: the device node and its link leave `node`, as the kernel drops a detached namespace. */
export async function withdrawNvmeVolume(
  cluster: EngineCluster,
  node: string,
  volume: NvmeVolume,
  name = "nvme1n1",
): Promise<void> {
  const result = await cluster.exec(node, `rm -f ${nvmeByIdPath(volume.volumeId)} /dev/${name}`);
  if (result.status !== 0) throw new Error(`withdrawing ${volume.volumeId} from ${node} failed: ${result.stderr}`);
}
