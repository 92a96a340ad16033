/**
 * The kernel modules a Swarm node needs before Docker starts (install-docker.sh loads, checks and
 * persists them). From moby's contrib/check-config.sh: the overlay storage driver, bridged traffic
 * through iptables (br_netfilter), the overlay network driver's VXLAN, and IPVS with its
 * round-robin scheduler and iptables match, which service VIPs and the routing mesh are made of
 * (without ip_vs tasks run, but VIPs and published ports time out).
 */
const SWARM_KERNEL_MODULES: readonly string[] = ["overlay", "br_netfilter", "vxlan", "ip_vs", "ip_vs_rr", "xt_ipvs"];

/**
 * An encrypted overlay marks its VXLAN traffic with the u32 match: an engine that finds no xt_u32
 * fell back to plaintext before 20.10.24 (CVE-2023-28841), and refuses the network since.
 */
const ENCRYPTED_OVERLAY_MODULES: readonly string[] = ["xt_u32"];

export function swarmKernelModules(overlayEncrypted: boolean): readonly string[] {
  return overlayEncrypted ? [...SWARM_KERNEL_MODULES, ...ENCRYPTED_OVERLAY_MODULES] : SWARM_KERNEL_MODULES;
}

/** Where the list is persisted, so that the modules load at every boot before Docker. */
export const MODULES_LOAD_FILE = "/etc/modules-load.d/swarm-flocker.conf";
