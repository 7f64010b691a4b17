# scripts/lib.sh: shared by scripts/demo and scripts/test (sourced).

KS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages the build, the tests and the demo need.
KS_PACKAGES=(
  build-essential cmake pkg-config
  libssh-dev librrd-dev libjansson-dev zlib1g-dev
  openssh-server openssh-client rrdtool rrdcached
  iproute2 procps python3 time
  snmpd snmp libsnmp-dev
  glpk-utils
  gnuplot-nox chromium
  libssl-dev libnbd-dev libzstd-dev zstd qemu-utils
  qemu-system-x86 debootstrap lvm2 parted e2fsprogs dosfstools
  libguestfs-tools linux-image-amd64
  libvirt-dev libxml2-dev libvirt-daemon libvirt-clients
  qemu-block-extra virt-v2v nbdkit libnbd-bin libguestfs-dev iptables
  socat
)
# Fuzzing for real (cmake -DKS_FUZZ=ON) also needs: clang libclang-rt-14-dev

ks_say() { printf '==> %s\n' "$*" >&2; }

# Install what is missing (apt-get, as root; sudo when available).
ks_install_packages() {
  local missing=() p
  for p in "${KS_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  ks_say "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "run as root, or install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure and build into DIR with extra cmake arguments.
ks_build() {
  local dir=$1; shift
  cmake -S "$KS_TOP" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)" >/dev/null
}
