/**
 * Where the Flocker control service's state lives (docs/flocker.md, "The control service's state"):
 * an EBS volume of its own, whose life is the cluster's, mounted on whichever node is the control
 * node. The program, the node scripts (as their environment) and the snapshot and IAM policies
 * share these facts from here.
 */

/**
 * The tag that marks the control-state volume, with the Flocker cluster's UUID as its value. The
 * snapshot policy selects the volume by it; Flocker's IAM policy refuses to tag a volume carrying
 * it into the cluster. Never `flocker-cluster-id`: Flocker takes every volume carrying that tag for
 * one of its datasets.
 */
export const CONTROL_STATE_TAG = "swarm-flocker-control-state";

/**
 * The device name the volume is attached under. Flocker's EBS driver picks the first letter of
 * /dev/sd[f-z] whose sdX or xvdX the node's `lsblk` does not list (ClusterHQ/flocker
 * flocker/node/agents/ebs.py, `_select_free_device`), so it skips a letter already in use; z is the
 * last one it tries, so it would reach it only with 20 of its own volumes on the control node, and
 * our volume is attached with the instance, before any Flocker agent runs there.
 */
export const CONTROL_STATE_DEVICE = "/dev/sdz";

/** Where the volume's file system is mounted on the control node. */
export const CONTROL_STATE_MOUNT = "/var/lib/flocker-control";

/**
 * The control service's state directory on the volume (what the service sees as /var/lib/flocker).
 * A subdirectory, not the volume's root: it exists only while the volume is mounted, so a control
 * service that would start on an unmounted volume finds no directory instead of an empty one.
 */
export const CONTROL_STATE_DIR = `${CONTROL_STATE_MOUNT}/state`;
