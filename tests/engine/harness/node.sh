#!/usr/bin/env bash
# node.sh: the engine tier's nodes (tests/engine/nodes.ts drives it; docs/testing.md, "Engine
# tier"). Each node is an EC2 instance as far as the stack's scripts can tell: its own network,
# mount and UTS namespace, a root of its own (the host's /usr read-only, the host's /etc, /var,
# /home, /root, /opt under a per-node overlay, a fresh /run, /tmp, /usr/local, Docker data root),
# a real dockerd and a real sshd. Nodes are joined by a bridge in a "hub" namespace of their own;
# the root namespace gets no address or route towards them, so test traffic stays between the
# namespaces made here.
#
# Everything made here is named with the prefix sfe-<TAG>- (network namespaces, cgroups) or lives
# under $SFE_BASE/<TAG>, so that `cleanup TAG` finds it again after a crashed run.
#
#   node.sh hub-up TAG HUB_IP PREFIX_LEN
#   node.sh node-up TAG NAME IP PREFIX_LEN HUB_IP LOGIN_USER AUTHORIZED_KEY_FILE [REGISTRY_ADDR]
#   node.sh node-down TAG NAME            kill everything of the node, drop its namespaces and files
#   node.sh exec TAG NAME COMMAND         run bash -c COMMAND as root inside the node
#   node.sh run TAG NAME ARGV…            run ARGV as root inside the node
#   node.sh signal TAG NAME SIGNAL COMM…  send SIGNAL to the node's processes named COMM…
#   node.sh cleanup TAG                   every node and the hub of TAG, whatever state they are in
#   node.sh cleanup-all                   the same for every tag (leftovers of crashed runs)
set -euo pipefail

SFE_BASE=${SFE_BASE:-/tmp/sfe-engine}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# Seconds a daemon may take to answer after it starts.
START_TIMEOUT=${START_TIMEOUT:-60}

log() { printf '[engine-node] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

valid_name() { [[ "$1" =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "'$1' is not a valid name (lower-case letters, digits, '-')"; }

tag_dir() { printf '%s/%s\n' "$SFE_BASE" "$1"; }
node_dir() { printf '%s/nodes/%s\n' "$(tag_dir "$1")" "$2"; }
netns_of() { printf 'sfe-%s-%s\n' "$1" "$2"; }
hub_netns() { printf 'sfe-%s-hub\n' "$1"; }
cgroup_of() { printf 'sfe-%s-%s\n' "$1" "$2"; }
mnt_file() { printf '%s/ns/%s.mnt\n' "$(tag_dir "$1")" "$2"; }
uts_file() { printf '%s/ns/%s.uts\n' "$(tag_dir "$1")" "$2"; }
# The pids controller is the one whose tree this script reads to find a node's processes.
PIDS_CG=/sys/fs/cgroup/pids

# ---------------------------------------------------------------------------------------------
# The hub: a namespace with one bridge that every node's veth joins; the operator side (ssh,
# sftp, the registry) runs here.

hub_up() {
  local tag=$1 hub_ip=$2 plen=$3 ns
  ns=$(hub_netns "$tag")
  mkdir -p "$(tag_dir "$tag")/ns" "$(tag_dir "$tag")/nodes"
  ip netns list | grep -qx "$ns\( .*\)\?" && die "$ns exists already: run cleanup first"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add sfe-br type bridge
  ip -n "$ns" addr add "$hub_ip/$plen" dev sfe-br
  ip -n "$ns" link set sfe-br up
  # The mount namespaces of the nodes are kept alive by bind mounts of their ns files; the
  # directory holding them must be a private mount (else the bind would propagate back into it).
  local nsdir
  nsdir="$(tag_dir "$tag")/ns"
  if ! mountpoint -q "$nsdir"; then
    mount --bind "$nsdir" "$nsdir"
    mount --make-private "$nsdir"
  fi
  log "hub $ns up at $hub_ip/$plen"
}

# ---------------------------------------------------------------------------------------------
# A node.

# veth_name NAME: the hub side of the node's veth (15 characters at most, as Linux allows).
veth_name() {
  local n="sfe-$1"
  printf '%s\n' "${n:0:15}"
}

# build_root TAG NAME: runs inside the node's new mount namespace (unshare below): assembles the
# node's root under $dir/root and pivots into it.
build_root() {
  local tag=$1 name=$2 dir r d
  dir=$(node_dir "$tag" "$name")
  r=$dir/root
  mount -t tmpfs -o mode=0755 "sfe-$name-root" "$r"
  # The host's merged-/usr symlinks (bin -> usr/bin …) and /usr itself, read-only.
  for d in bin sbin lib lib32 lib64 libx32; do
    if [[ -L "/$d" ]]; then
      ln -s "$(readlink "/$d")" "$r/$d"
    elif [[ -d "/$d" ]]; then
      mkdir "$r/$d"
      mount --rbind "/$d" "$r/$d"
      mount -o remount,bind,ro "$r/$d"
    fi
  done
  mkdir "$r/usr"
  mount --rbind /usr "$r/usr"
  mount -o remount,bind,ro "$r/usr"
  # /usr/local is the node's own: the stand-ins (systemctl, cloud-init …) and nothing of the
  # host's (its /usr/local/bin/docker is a newer client than the node's engine).
  mount --bind "$dir/usrlocal" "$r/usr/local"
  # What the node scripts write: the host's files below a per-node upper layer.
  for d in etc var home root opt srv mnt media; do
    [[ -d "/$d" ]] || continue
    mkdir -p "$dir/upper/$d" "$dir/work/$d" "$r/$d"
    mount -t overlay "sfe-$name-$d" -o "lowerdir=/$d,upperdir=$dir/upper/$d,workdir=$dir/work/$d" "$r/$d"
  done
  # Docker's data root cannot be an overlay upper (overlay2 on overlayfs): a plain directory.
  mkdir -p "$r/var/lib/docker"
  mount --bind "$dir/docker" "$r/var/lib/docker"
  mkdir -p "$r/run" "$r/tmp" "$r/flocker" "$r/dev" "$r/proc" "$r/sys"
  mount --bind "$dir/run" "$r/run"
  mount --bind "$dir/tmp" "$r/tmp"
  # The "EBS" of the tier: one directory every node sees at /flocker, so a dataset outlives the
  # node that mounted it (as an EBS volume outlives its instance).
  mount --bind "$(tag_dir "$tag")/ebs" "$r/flocker"
  mount --rbind /dev "$r/dev"
  mount -t proc proc "$r/proc"
  # sysfs mounted from the node's network namespace shows the node's interfaces.
  mount -t sysfs sysfs "$r/sys"
  mount --rbind /sys/fs/cgroup "$r/sys/fs/cgroup"
  mkdir "$r/.old-root"
  cd "$r"
  pivot_root . .old-root
  umount -l /.old-root
  rmdir /.old-root
  # As systemd does on Ubuntu: every mount shared, so `-v /flocker:/flocker:shared` works.
  mount --make-rshared /
}

# write_node_files DIR NAME IP USER KEYFILE HUB_IP REGISTRY: the files the node's upper layers
# start with (before the node's root exists: written straight into the upper directories).
write_node_files() {
  local dir=$1 name=$2 ip=$3 user=$4 keyfile=$5 registry=$6 tag=$7
  local ul=$dir/usrlocal
  mkdir -p "$ul/sbin" "$ul/bin" "$ul/lib/sfe" "$dir/upper/etc/sfe" "$dir/upper/etc/ssh/sshd_config.d" \
    "$dir/upper/etc/sudoers.d" "$dir/upper/etc/cloud/cloud.cfg.d"
  local f
  for f in "$HERE"/node-bin/*; do
    install -m 0755 "$f" "$ul/sbin/$(basename "$f")"
  done
  # What the systemctl stand-in starts as docker.service.
  {
    printf 'SFE_CGROUP_PARENT=%q\n' "/$(cgroup_of "$tag" "$name")"
    printf 'SFE_REGISTRY=%q\n' "$registry"
  } >"$dir/upper/etc/sfe/dockerd.env"
  printf '%s\n' "$name" >"$dir/upper/etc/hostname"
  # Ubuntu's resolver is systemd-resolved's stub on 127.0.0.53, which always knows the host's own
  # name. Nothing listens there on a node of the tier, so a lookup fails at once instead of
  # waiting out a nameserver no node can reach (sudo looks its host name up on every call).
  printf 'nameserver 127.0.0.53\noptions edns0\n' >"$dir/upper/etc/resolv.conf"
  # sshd: the node's own host key, listening on the node's address only; Debian's sshd_config
  # (AcceptEnv LANG LC_*, UsePAM) is otherwise what Ubuntu ships.
  ssh-keygen -q -t ed25519 -N '' -C "$name" -f "$dir/upper/etc/ssh/ssh_host_ed25519_key"
  cat >"$dir/upper/etc/ssh/sshd_config.d/00-sfe-engine-node.conf" <<EOF
# Written by the engine tier's harness (tests/engine/harness/node.sh).
ListenAddress $ip
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PidFile /run/sshd.pid
EOF
  # As cloud-init does for the image's default user.
  printf '%s ALL=(ALL) NOPASSWD:ALL\n' "$user" >"$dir/upper/etc/sudoers.d/90-cloud-init-users"
  chmod 0440 "$dir/upper/etc/sudoers.d/90-cloud-init-users"
  # docker.service is installed and enabled, as the docker.io package leaves it.
  mkdir -p "$dir/upper/var/lib/sfe-systemd/enabled"
  touch "$dir/upper/var/lib/sfe-systemd/enabled/docker.service"
}

# in_node TAG NAME CMD…: CMD inside the node's namespaces, as root, in the node's cgroup.
in_node() {
  local tag=$1 name=$2 dir
  shift 2
  dir=$(node_dir "$tag" "$name")
  mountpoint -q "$(mnt_file "$tag" "$name")" || die "node $name of $tag is not up"
  nsenter --net="/run/netns/$(netns_of "$tag" "$name")" --mount="$(mnt_file "$tag" "$name")" --uts="$(uts_file "$tag" "$name")" \
    -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C "$@"
}

# join_cgroup TAG NAME: this shell (and what it starts) joins the node's cgroup in every v1
# hierarchy that has one, so that the node's processes can be found and killed together.
join_cgroup() {
  local cg c
  cg=$(cgroup_of "$1" "$2")
  for c in /sys/fs/cgroup/*/; do
    [[ -d "$c$cg" && -w "$c$cg/cgroup.procs" ]] || continue
    echo "$BASHPID" >"$c$cg/cgroup.procs"
  done
}

make_cgroups() {
  local cg c
  cg=$(cgroup_of "$1" "$2")
  for c in /sys/fs/cgroup/*/; do
    [[ -f "$c/cgroup.procs" ]] || continue
    mkdir -p "$c$cg" 2>/dev/null || true
  done
  # cpuset's children start empty: give the node the host's.
  local cs=/sys/fs/cgroup/cpuset
  if [[ -d "$cs/$cg" ]]; then
    cat "$cs/cpuset.cpus" >"$cs/$cg/cpuset.cpus"
    cat "$cs/cpuset.mems" >"$cs/$cg/cpuset.mems"
  fi
}

node_up() {
  local tag=$1 name=$2 ip=$3 plen=$4 hub_ip=$5 user=$6 keyfile=$7 registry=${8:-}
  local dir ns hub veth
  valid_name "$name"
  dir=$(node_dir "$tag" "$name")
  ns=$(netns_of "$tag" "$name")
  hub=$(hub_netns "$tag")
  veth=$(veth_name "$name")
  [[ -e "/run/netns/$hub" ]] || die "the hub $hub is not up"
  [[ ! -e "$dir" ]] || die "$dir exists already: take the node down first"
  mkdir -p "$dir/root" "$dir/docker" "$dir/run" "$dir/usrlocal" "$(tag_dir "$tag")/ebs"
  mkdir -m 1777 "$dir/tmp"
  write_node_files "$dir" "$name" "$ip" "$user" "$keyfile" "$registry" "$tag"

  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$hub" link add "$veth" type veth peer name eth0 netns "$ns"
  ip -n "$hub" link set "$veth" master sfe-br up
  ip -n "$ns" addr add "$ip/$plen" dev eth0
  ip -n "$ns" link set eth0 up
  # A default route to the hub, which forwards nothing: Docker wants one; nothing leaves.
  ip -n "$ns" route add default via "$hub_ip"
  # A replaced node comes back with a new MAC address: forget the old one everywhere (the VPC
  # does that for a replaced instance), or the hub and the other nodes keep sending to it.
  local other
  for other in $(ip netns list | awk '{print $1}' | grep "^sfe-$tag-" || true); do
    [[ "$other" == "$ns" ]] || ip -n "$other" neigh flush to "$ip" 2>/dev/null || true
  done
  make_cgroups "$tag" "$name"

  # The mount and UTS namespaces outlive this command through bind mounts of their ns files
  # (unshare --mount=FILE) in the tag's private ns directory.
  touch "$(mnt_file "$tag" "$name")" "$(uts_file "$tag" "$name")"
  nsenter --net="/run/netns/$ns" unshare --mount="$(mnt_file "$tag" "$name")" --uts="$(uts_file "$tag" "$name")" \
    --propagation private bash "$HERE/node.sh" _build-root "$tag" "$name"
  in_node "$tag" "$name" hostname "$name"
  cp "$keyfile" "$dir/tmp/.sfe-authorized-key"
  in_node "$tag" "$name" bash -c "$(declare -f add_login_user); add_login_user $(printf '%q' "$user")"
  rm -f "$dir/tmp/.sfe-authorized-key"
  start_daemons "$tag" "$name"
  log "node $name up at $ip"
}

# add_login_user USER: the image's default user with the authorised key (runs in the node).
add_login_user() {
  local user=$1 home
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  # A locked password ("!") is how cloud images ship it; "*" keeps sshd's key login open
  # whatever UsePAM says.
  usermod -p '*' "$user"
  home=$(getent passwd "$user" | cut -d: -f6)
  install -d -m 0700 -o "$user" -g "$user" "$home/.ssh"
  install -m 0600 -o "$user" -g "$user" /tmp/.sfe-authorized-key "$home/.ssh/authorized_keys"
}

start_daemons() {
  local tag=$1 name=$2 dir
  dir=$(node_dir "$tag" "$name")
  mkdir -p "$dir/run/sshd" "$dir/run/docker/plugins"
  chmod 0755 "$dir/run/sshd"
  # Started through the node's own systemctl, as systemd would at boot.
  (
    join_cgroup "$tag" "$name"
    in_node "$tag" "$name" setsid /usr/sbin/sshd </dev/null >/dev/null 2>&1
    in_node "$tag" "$name" systemctl start docker
  )
}

# node_pids TAG NAME: every process of the node (its cgroup and the cgroups below it).
node_pids() {
  local d
  d="$PIDS_CG/$(cgroup_of "$1" "$2")"
  [[ -d "$d" ]] || return 0
  find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

kill_node_processes() {
  local tag=$1 name=$2 i pids
  for ((i = 0; i < 50; i++)); do
    pids=$(node_pids "$tag" "$name")
    [[ -n "$pids" ]] || return 0
    # shellcheck disable=SC2086 # one pid per word
    kill -CONT $pids 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  die "processes of $name still alive after 10 s: $(node_pids "$tag" "$name" | tr '\n' ' ')"
}

remove_cgroups() {
  local cg c
  cg=$(cgroup_of "$1" "$2")
  for c in /sys/fs/cgroup/*/; do
    [[ -d "$c$cg" ]] || continue
    # Deepest first: a cgroup with children cannot be removed.
    find "$c$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
}

node_down() {
  local tag=$1 name=$2 dir ns hub
  dir=$(node_dir "$tag" "$name")
  ns=$(netns_of "$tag" "$name")
  hub=$(hub_netns "$tag")
  kill_node_processes "$tag" "$name"
  # Processes in the node's network namespace that escaped its cgroup (none expected).
  if [[ -e "/run/netns/$ns" ]]; then
    local stray
    stray=$(ip netns pids "$ns" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -z "$stray" ]] || kill -KILL $stray 2>/dev/null || true
  fi
  remove_cgroups "$tag" "$name"
  local f
  for f in "$(mnt_file "$tag" "$name")" "$(uts_file "$tag" "$name")"; do
    while mountpoint -q "$f" 2>/dev/null; do umount -l "$f" || break; done
    rm -f "$f"
  done
  [[ ! -e "/run/netns/$hub" ]] || ip -n "$hub" link del "$(veth_name "$name")" 2>/dev/null || true
  [[ ! -e "/run/netns/$ns" ]] || ip netns del "$ns"
  # Mounts of the node seen from here (none once its namespace is gone), then its files.
  umount_below "$dir"
  rm -rf --one-file-system "$dir"
  log "node $name down"
}

# umount_below DIR: lazily unmount anything the root namespace has mounted under DIR.
umount_below() {
  local m
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}

cleanup_tag() {
  local tag=$1 dir n
  dir=$(tag_dir "$tag")
  # Nodes: by their namespaces, their directories and their cgroups, whichever is left.
  local -A names=()
  for n in $(ip netns list | awk '{print $1}' | sed -n "s/^sfe-$tag-//p"); do names[$n]=1; done
  if [[ -d "$dir/nodes" ]]; then
    for n in "$dir"/nodes/*; do [[ -e "$n" ]] && names[${n##*/}]=1; done
  fi
  for n in "$PIDS_CG"/sfe-"$tag"-*; do [[ -e "$n" ]] && names[${n##*/sfe-"$tag"-}]=1; done
  unset 'names[hub]'
  for n in "${!names[@]}"; do
    node_down "$tag" "$n"
  done
  local hub
  hub=$(hub_netns "$tag")
  if [[ -e "/run/netns/$hub" ]]; then
    local pids
    pids=$(ip netns pids "$hub" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
    ip netns del "$hub"
  fi
  sweep_tag_processes "$tag"
  umount_below "$dir"
  while mountpoint -q "$dir/ns" 2>/dev/null; do umount -l "$dir/ns" || break; done
  rm -rf --one-file-system "$dir"
}

# sweep_tag_processes TAG: any process still in a cgroup of the tag, in any hierarchy and at any
# depth (a container's shim can outlive its daemon for a moment), killed; then those cgroups.
sweep_tag_processes() {
  local tag=$1 i pids
  for ((i = 0; i < 50; i++)); do
    pids=$(grep -l "/sfe-$tag-" /proc/[0-9]*/cgroup 2>/dev/null | cut -d/ -f3 || true)
    [[ -n "$pids" ]] || break
    # shellcheck disable=SC2086 # one pid per word
    kill -KILL $pids 2>/dev/null || true
    sleep 0.2
  done
  find /sys/fs/cgroup -depth -type d -name "sfe-$tag-*" -exec rmdir {} \; 2>/dev/null || true
}

cleanup_all() {
  local t
  local -A tags=()
  for t in $(ip netns list | awk '{print $1}' | sed -n 's/^sfe-\(.*\)-hub$/\1/p'); do tags[$t]=1; done
  if [[ -d "$SFE_BASE" ]]; then
    for t in "$SFE_BASE"/*; do [[ -d "$t" ]] && tags[${t##*/}]=1; done
  fi
  for t in "${!tags[@]}"; do cleanup_tag "$t"; done
}

signal_node() {
  local tag=$1 name=$2 sig=$3 pid comm found=0
  shift 3
  for pid in $(node_pids "$tag" "$name"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    for want in "$@"; do
      if [[ "$comm" == "$want" ]]; then
        kill "-$sig" "$pid" && found=1
      fi
    done
  done
  ((found)) || die "no process named $* on $name"
}

action=${1:-}
shift || true
case "$action" in
  hub-up) hub_up "$@" ;;
  node-up) node_up "$@" ;;
  node-down) node_down "$@" ;;
  _build-root) build_root "$@" ;;
  exec)
    tag=$1 name=$2
    shift 2
    (
      join_cgroup "$tag" "$name"
      in_node "$tag" "$name" bash -c "$1"
    )
    ;;
  run)
    tag=$1 name=$2
    shift 2
    (
      join_cgroup "$tag" "$name"
      in_node "$tag" "$name" "$@"
    )
    ;;
  signal) signal_node "$@" ;;
  pids) node_pids "$@" ;;
  cleanup) cleanup_tag "$@" ;;
  cleanup-all) cleanup_all ;;
  *) die "usage: node.sh hub-up|node-up|node-down|exec|signal|pids|cleanup|cleanup-all …" ;;
esac
