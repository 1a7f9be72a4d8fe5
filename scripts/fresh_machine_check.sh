#!/usr/bin/env bash
# Proves the README's two commands on a fresh Debian 12 machine, as a new user would run them:
#   scripts/setup.sh && scripts/quickstart.sh      and      scripts/test.sh
# It builds a minimal Debian 12 root (debootstrap --variant=minbase bookworm), cached as a tarball so
# later runs skip debootstrap, unpacks a fresh copy of it, puts the *committed* tree there
# (git archive, never untracked or ignored files) at /work/rlhf, and runs the commands in a chroot
# with a clean environment. The root has only minbase: no compiler, no cmake, no python, no apt
# lists; the project's scripts have to do `apt-get update` and install everything themselves.
# The host's extra CA certificates (and its certificate/proxy variables) go in, as a corporate
# network needs, or HTTPS downloads fail with "self-signed certificate in certificate chain".
#
# Run as root from anywhere (the repository is the one this script is in):
#   scripts/fresh_machine_check.sh                   # both commands, in sequence, in one fresh root
#   scripts/fresh_machine_check.sh --run quickstart  # scripts/setup.sh && scripts/quickstart.sh only
#   scripts/fresh_machine_check.sh --run test        # scripts/test.sh only
#   options: --ref REF (commit to test, default HEAD)  --keep (keep the root for inspection)
#            --run-cmd 'CMD' (debugging: run CMD in /work/rlhf instead; repeatable)
#            --rebuild-cache (debootstrap again)
#   env: FRESH_MIRROR (default: the host's Debian mirror from /etc/apt/sources.list{,.d}),
#        FRESH_SECURITY_MIRROR, FRESH_COMPONENTS, FRESH_CACHE (/var/tmp/rlhf-fresh: the tarball
#        and the roots; needs ~10 GB free for a full run), FRESH_OUT (runs/fresh-machine, relative
#        to the repository), FRESH_SHM_SIZE (1g), FRESH_TAIL_LINES (80)
# Output: FRESH_OUT/<name>.log (full log of each command), summary.txt (table, plus the tail of each
# failed log) and summary.json. Exit status 0 only when every command succeeded.
#
# How long: debootstrap ~1-3 min once (then the cached tarball unpacks in about 20 s); setup.sh
# downloads the packages and LibTorch (1-2 GB: compiler, Chromium, torch, ...) and builds the
# project, tens of minutes on 2 cores; the quickstart then takes 7-11 min; test.sh (the set-up
# already done in --run both) runs CTest, tens of minutes more. Budget one to two hours for both.
# shellcheck disable=SC2317,SC2016,SC2004  # functions called from traps; text for the chroot's shell
set -euo pipefail

usage() { sed -n '2,/^# shellcheck/{/^# shellcheck/d;s/^# \{0,1\}//;p}' "$0"; }

REPO=$(cd "$(dirname "$0")/.." && pwd)
ARGS=("$@")
MODE=both
REF=HEAD
KEEP=0
REBUILD=0
RUN_CMDS=()
while (($#)); do
  case "$1" in
    --run) [ $# -ge 2 ] || { echo "--run needs quickstart|test|both" >&2; exit 2; }
      case "$2" in quickstart|test|both) MODE=$2 ;; *) echo "--run: quickstart, test or both, not '$2'" >&2; exit 2 ;; esac
      shift 2 ;;
    --run=*) set -- --run "${1#--run=}" "${@:2}" ;;
    --ref) [ $# -ge 2 ] || { echo "--ref needs a commit" >&2; exit 2; }; REF=$2; shift 2 ;;
    --ref=*) REF=${1#--ref=}; shift ;;
    --keep) KEEP=1; shift ;;
    --rebuild-cache) REBUILD=1; shift ;;
    --run-cmd) [ $# -ge 2 ] || { echo "--run-cmd needs a command" >&2; exit 2; }; RUN_CMDS+=("$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "fresh_machine_check: must run as root (debootstrap, mount and chroot need it); try: sudo $0 ${ARGS[*]}" >&2
  exit 1
fi

log() { printf '== %s\n' "$*" >&2; }
die() { printf 'fresh_machine_check: %s\n' "$*" >&2; exit 1; }

# ---- settings ---------------------------------------------------------------------------------
SUITE=bookworm
FRESH_CACHE=${FRESH_CACHE:-/var/tmp/rlhf-fresh}
FRESH_OUT=${FRESH_OUT:-runs/fresh-machine}
case "$FRESH_OUT" in /*) ;; *) FRESH_OUT="$REPO/$FRESH_OUT" ;; esac
SHM_SIZE=${FRESH_SHM_SIZE:-1g}
TAIL_LINES=${FRESH_TAIL_LINES:-80}
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
case "$FRESH_CACHE" in *[[:space:]]*) die "FRESH_CACHE must not contain whitespace: '$FRESH_CACHE'" ;; esac
mkdir -p -- "$FRESH_CACHE" "$FRESH_OUT"
FRESH_CACHE=$(realpath -- "$FRESH_CACHE")
TARBALL="$FRESH_CACHE/$SUITE-minbase.tar"

# The first URI of the host's apt source that serves SUITE (deb822 .sources first, then one-line
# .list files), and its components, as "URI<TAB>COMPONENTS".
host_source() {
  local suite=$1 f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      function flush() {
        if (!found && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" want "[ \t]") && enabled != "no" && uris != "") {
          split(uris, u, /[ \t]+/); print u[1] "\t" comps; found = 1
        }
        types = suites = uris = comps = enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[A-Za-z0-9-]+:/ {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", val)
        if (key == "types") types = val; else if (key == "suites") suites = val
        else if (key == "uris") uris = val; else if (key == "components") comps = val
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }' "$f" | head -n1 | grep . && return 0
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v want="$suite" '
      $1 != "deb" { next }
      { i = 2; if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } }
      $(i + 1) == want { c = ""; for (j = i + 2; j <= NF && $j !~ /^#/; j++) c = c (c == "" ? "" : " ") $j; print $i "\t" c; exit }' \
      "$f" | head -n1 | grep . && return 0
  done
  return 1
}
src=$(host_source "$SUITE" || true)
sec=$(host_source "$SUITE-security" || true)
MIRROR=${FRESH_MIRROR:-${src%%$'\t'*}}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
MIRROR=${MIRROR%/}
SECURITY_MIRROR=${FRESH_SECURITY_MIRROR:-${sec%%$'\t'*}}
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
SECURITY_MIRROR=${SECURITY_MIRROR%/}
COMPONENTS=${FRESH_COMPONENTS:-}
if [ -z "$COMPONENTS" ] && [[ "$src" == *$'\t'* ]]; then COMPONENTS=${src#*$'\t'}; fi
COMPONENTS=${COMPONENTS:-main}

command -v git >/dev/null || die "git is needed on the host"
COMMIT=$(git -C "$REPO" rev-parse --verify --quiet "$REF^{commit}") || die "--ref '$REF' is not a commit in $REPO"
HOST_CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
HOST_CPU=${HOST_CPU:-unknown}
HOST_NPROC=$(nproc)

# ---- commands to run --------------------------------------------------------------------------
NAMES=() CMDS=() NOTES=()
if ((${#RUN_CMDS[@]})); then
  MODE=custom
  for i in "${!RUN_CMDS[@]}"; do
    NAMES+=("cmd-$((i + 1))"); CMDS+=("${RUN_CMDS[$i]}")
    NOTES+=("$([ "$i" -eq 0 ] && echo "fresh root" || echo "same root, after cmd-$i")")
  done
else
  if [ "$MODE" = quickstart ] || [ "$MODE" = both ]; then
    NAMES+=(quickstart); CMDS+=("scripts/setup.sh && scripts/quickstart.sh"); NOTES+=("fresh root")
  fi
  if [ "$MODE" = test ] || [ "$MODE" = both ]; then
    NAMES+=(test); CMDS+=("scripts/test.sh")
    NOTES+=("$([ "$MODE" = both ] && echo "same root, after quickstart: set-up already done by it" || echo "fresh root")")
  fi
fi

# Environment passed into the chroot: a clean one, plus the host's certificate and proxy variables.
CHROOT_ENV=(HOME=/root "PATH=$STD_PATH" LANG=C.UTF-8 TERM=dumb)
if [ -n "${CI+x}" ]; then CHROOT_ENV+=("CI=$CI"); fi
CERT_VARS=(SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE PIP_CERT NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO)
PROXY_VARS=(http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY all_proxy ALL_PROXY)
for v in "${CERT_VARS[@]}" "${PROXY_VARS[@]}"; do
  if [ -n "${!v+x}" ]; then CHROOT_ENV+=("$v=${!v}"); fi
done

# ---- cleanup: always runs (normal exit, error, Ctrl+C) ----------------------------------------
ROOT=""          # the fresh root of this run
BUILD_DIR=""     # a debootstrap in progress
STARTED=()       # per command: started_at
STATUS=()        # per command: exit status ("" = not run)
WALL=()          # per command: seconds
RAN=0
INTERRUPTED=""
CLEANED=0
CMD_T0=$SECONDS
STATUS_FILE="$FRESH_OUT/.status.$$"

mounts_under() {  # mount points at or below $1, deepest first
  awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | LC_ALL=C sort -r
}
kill_inside() {  # processes whose root is inside $1 (left behind by the commands), TERM then KILL
  local dir=$1 sig pid r left
  for sig in TERM KILL; do
    left=0
    for pid in /proc/[0-9]*; do
      pid=${pid#/proc/}
      r=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
      if [ "$r" = "$dir" ] || [[ "$r" == "$dir"/* ]]; then
        if [ "$sig" = TERM ]; then
          log "stopping leftover process $pid ($(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-80))"
        fi
        if kill -s "$sig" "$pid" 2>/dev/null; then left=1; fi
      fi
    done
    if ((left == 0)); then return 0; fi
    if [ "$sig" = TERM ]; then sleep 3; fi
  done
  return 0
}
unmount_all() {  # returns non-zero when something is still mounted under $1
  local dir=$1 m
  while read -r m; do
    umount -- "$m" 2>/dev/null || umount -l -- "$m" 2>/dev/null || log "could not unmount $m"
  done < <(mounts_under "$dir")
  [ -z "$(mounts_under "$dir")" ]
}
remove_tree() {
  local dir=$1
  if [ -z "$dir" ] || [ ! -d "$dir" ]; then return 0; fi
  kill_inside "$dir"
  if ! unmount_all "$dir"; then
    log "still mounted under $dir, NOT deleting it:"; mounts_under "$dir" >&2; return 1
  fi
  rm -rf --one-file-system -- "$dir"
}

json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}
fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

write_summary() {
  local i st txt="$FRESH_OUT/summary.txt" js="$FRESH_OUT/summary.json" overall=0
  {
    echo "fresh machine check: $(date -u +%FT%TZ)"
    echo "ref: $REF ($COMMIT)   mode: $MODE   mirror: $MIRROR   host cpu: $HOST_CPU x $HOST_NPROC"
    [ -n "${FRESH_ROOT_FACTS:-}" ] && echo "fresh root before the commands: $FRESH_ROOT_FACTS"
    [ -n "$INTERRUPTED" ] && echo "INTERRUPTED ($INTERRUPTED)"
    echo
    printf '%-10s  %-7s  %-8s  %-45s  %s\n' name exit wall command note
    for i in "${!NAMES[@]}"; do
      st=${STATUS[$i]:-} c=${CMDS[$i]}
      ((${#c} <= 45)) || c="${c:0:42}..."
      printf '%-10s  %-7s  %-8s  %-45s  %s\n' "${NAMES[$i]}" "${st:-not run}" \
        "$([ -n "$st" ] && fmt_time "${WALL[$i]}" || echo -)" "$c" "${NOTES[$i]}"
    done
    for i in "${!NAMES[@]}"; do
      st=${STATUS[$i]:-}
      if [ -n "$st" ] && [ "$st" != 0 ] && [ -f "$FRESH_OUT/${NAMES[$i]}.log" ]; then
        echo; echo "---- tail of ${NAMES[$i]}.log (exit $st; full log: $FRESH_OUT/${NAMES[$i]}.log)"
        tail -n "$TAIL_LINES" -- "$FRESH_OUT/${NAMES[$i]}.log"
      fi
    done
  } > "$txt"
  {
    printf '{\n  "ref": %s,\n  "commit": %s,\n  "mode": %s,\n  "mirror": %s,\n' \
      "$(json_str "$REF")" "$(json_str "$COMMIT")" "$(json_str "$MODE")" "$(json_str "$MIRROR")"
    printf '  "host_cpu_model": %s,\n  "host_cpus": %s,\n  "interrupted": %s,\n  "runs": [' \
      "$(json_str "$HOST_CPU")" "$HOST_NPROC" "$([ -n "$INTERRUPTED" ] && echo true || echo false)"
    for i in "${!NAMES[@]}"; do
      st=${STATUS[$i]:-}
      [ "$i" -gt 0 ] && printf ','
      printf '\n    {"name": %s, "command": %s, "exit_status": %s, "wall_s": %s, "started_at": %s, "ref": %s, "host_cpu_model": %s, "note": %s, "log": %s}' \
        "$(json_str "${NAMES[$i]}")" "$(json_str "${CMDS[$i]}")" "${st:-null}" "${WALL[$i]:-null}" \
        "$([ -n "${STARTED[$i]:-}" ] && json_str "${STARTED[$i]}" || echo null)" "$(json_str "$REF")" \
        "$(json_str "$HOST_CPU")" "$(json_str "${NOTES[$i]}")" "$(json_str "${NAMES[$i]}.log")"
      [ "${st:-1}" = 0 ] || overall=1
    done
    printf '\n  ],\n  "exit_status": %s\n}\n' "$overall"
  } > "$js"
  echo >&2; cat "$txt" >&2
  echo "(summary: $txt, $js)" >&2
}

cleanup() {
  local rc=$?
  ((CLEANED)) && return; CLEANED=1
  trap - INT TERM HUP
  [ -n "$INTERRUPTED" ] && log "interrupted ($INTERRUPTED): cleaning up"
  set +e
  [ -n "$BUILD_DIR" ] && remove_tree "$BUILD_DIR"
  if [ -n "$ROOT" ]; then kill_inside "$ROOT"; wait; fi   # the command's pipeline ends with them
  for i in "${!NAMES[@]}"; do   # a command cut short (Ctrl+C, kill): its status is the script's
    if [ "${STATUS[$i]:-}" = running ]; then STATUS[$i]=$rc; WALL[$i]=$((SECONDS - CMD_T0)); fi
  done
  ((RAN)) && write_summary
  rm -f -- "$STATUS_FILE"
  if [ -n "$ROOT" ] && [ -d "$ROOT" ]; then
    if ((KEEP)); then
      kill_inside "$ROOT"
      unmount_all "$ROOT" || log "WARNING: still mounted under $ROOT"
      log "kept the root: $ROOT (chroot $ROOT /bin/bash; delete with rm -rf --one-file-system $ROOT)"
    else
      remove_tree "$ROOT" && log "deleted the root $ROOT"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'INTERRUPTED=SIGINT; exit 130' INT
trap 'INTERRUPTED=SIGTERM; exit 143' TERM
trap 'INTERRUPTED=SIGHUP; exit 129' HUP

# ---- 1. the pristine minbase root, cached as a tarball ----------------------------------------
if ((REBUILD)) || [ ! -s "$TARBALL" ]; then
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap on the host"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap
  fi
  BUILD_DIR=$(mktemp -d "$FRESH_CACHE/debootstrap.XXXXXX")
  chmod 0755 "$BUILD_DIR"
  log "debootstrap --variant=minbase $SUITE $BUILD_DIR $MIRROR (log: $FRESH_OUT/debootstrap.log)"
  t0=$SECONDS
  debootstrap --variant=minbase "$SUITE" "$BUILD_DIR" "$MIRROR" > "$FRESH_OUT/debootstrap.log" 2>&1 ||
    { tail -n 30 "$FRESH_OUT/debootstrap.log" >&2; die "debootstrap failed (full log: $FRESH_OUT/debootstrap.log)"; }
  unmount_all "$BUILD_DIR" || die "debootstrap left mounts under $BUILD_DIR"
  # As a fresh machine has it: no downloaded .debs and no package lists (apt-get update is the
  # project's job).
  rm -f "$BUILD_DIR"/var/cache/apt/archives/*.deb "$BUILD_DIR"/var/cache/apt/*.bin
  find "$BUILD_DIR/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f ! -name lock -delete
  tar --numeric-owner --xattrs -C "$BUILD_DIR" -cpf "$TARBALL.tmp" .
  mv -f -- "$TARBALL.tmp" "$TARBALL"
  printf 'suite=%s\nmirror=%s\ncreated=%s\ndebootstrap=%s\n' "$SUITE" "$MIRROR" "$(date -u +%FT%TZ)" \
    "$(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null || echo unknown)" > "$TARBALL.info"
  remove_tree "$BUILD_DIR"; BUILD_DIR=""
  log "cached the minbase root: $TARBALL ($(du -h "$TARBALL" | cut -f1), debootstrap took $(fmt_time $((SECONDS - t0))))"
else
  log "using the cached minbase root $TARBALL ($(grep -s '^created=' "$TARBALL.info" | cut -d= -f2); --rebuild-cache to redo it)"
  cached_mirror=$(grep -s '^mirror=' "$TARBALL.info" | cut -d= -f2- || true)
  [ -z "$cached_mirror" ] || [ "$cached_mirror" = "$MIRROR" ] ||
    log "note: the cache was built from $cached_mirror; the root's sources will use $MIRROR"
fi

# ---- 2. a fresh copy, configured as a new machine on this network ------------------------------
ROOT=$(mktemp -d "$FRESH_CACHE/root.XXXXXX")
chmod 0755 "$ROOT"   # mktemp makes it 0700; apt's _apt user must be able to traverse /
log "unpacking a fresh root: $ROOT"
tar --numeric-owner --xattrs -C "$ROOT" -xpf "$TARBALL"
chmod 0755 "$ROOT"

# apt sources: bookworm, bookworm-updates, bookworm-security, as the host has them.
rm -f "$ROOT/etc/apt/sources.list"
cat > "$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: $COMPONENTS
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $SUITE-security
Components: $COMPONENTS
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# Name resolution as on the host.
rm -f "$ROOT/etc/resolv.conf" "$ROOT/etc/hosts"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
cp -L /etc/hosts "$ROOT/etc/hosts"

# Trust what the host trusts: its extra CAs (ca-certificates' postinst later rebuilds the bundle from
# them) and its bundle at the same path (used until then, and by the variables passed in).
mkdir -p "$ROOT/usr/local/share/ca-certificates" "$ROOT/etc/ssl/certs"
if [ -d /usr/local/share/ca-certificates ]; then
  cp -a /usr/local/share/ca-certificates/. "$ROOT/usr/local/share/ca-certificates/"
fi
[ -f /etc/ssl/certs/ca-certificates.crt ] && cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
for v in "${CERT_VARS[@]}"; do   # a certificate file a variable names elsewhere goes in too
  p=${!v:-}
  if [[ "$p" == /* ]] && [ -f "$p" ] && [ ! -e "$ROOT$p" ]; then
    mkdir -p "$ROOT$(dirname "$p")"; cp -L "$p" "$ROOT$p"
  elif [[ "$p" == /* ]] && [ -d "$p" ]; then
    mkdir -p "$ROOT$p"
  fi
done

# The committed tree only.
mkdir -p "$ROOT/work/rlhf"
git -C "$REPO" archive --format=tar "$COMMIT" | tar -x -C "$ROOT/work/rlhf"
log "copied $REF ($COMMIT) into /work/rlhf: $(find "$ROOT/work/rlhf" -type f | wc -l) files"

# ---- 3. mounts a real machine has --------------------------------------------------------------
# The root is bind-mounted on itself and made private first, so nothing mounted below it
# propagates to the host (or back); the /dev bind is made private before pts and shm go on it.
mount --bind "$ROOT" "$ROOT"
mount --make-private "$ROOT"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount --make-private "$ROOT/dev"
mkdir -p "$ROOT/dev/pts" "$ROOT/dev/shm"
mount -t devpts devpts "$ROOT/dev/pts" -o newinstance,ptmxmode=0666,mode=0620,gid=5
mount -t tmpfs shm "$ROOT/dev/shm" -o "size=$SHM_SIZE,mode=1777,nosuid,nodev"

in_root() {  # the clean environment, then chroot; SIGINT/SIGQUIT back to default (see below)
  env -i --default-signal=INT,QUIT "${CHROOT_ENV[@]}" /usr/sbin/chroot "$ROOT" /bin/bash -c "$1"
}

FRESH_ROOT_FACTS=$(in_root '
  have=""; for c in g++ gcc c++ cmake make python3 node git curl; do command -v "$c" >/dev/null && have="$have $c"; done
  echo "$(dpkg-query -W -f="\${binary:Package}\n" | wc -l) packages; $(ls /var/lib/apt/lists | grep -vc "^lock$\|^partial$") apt lists;" \
       "tools present:${have:- none of g++/gcc/cmake/make/python3/node/git/curl};" \
       "/work/rlhf: $(find /work/rlhf -type f | wc -l) files"' 2>&1) || true
log "fresh root: $FRESH_ROOT_FACTS"

# ---- 4. the commands ----------------------------------------------------------------------------
rm -f -- "$FRESH_OUT"/quickstart.log "$FRESH_OUT"/test.log "$FRESH_OUT"/cmd-*.log \
  "$FRESH_OUT"/summary.txt "$FRESH_OUT"/summary.json
RAN=1
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} cmd=${CMDS[$i]} logf="$FRESH_OUT/${NAMES[$i]}.log"
  STARTED[$i]=$(date -u +%FT%TZ)
  log "[$name] $cmd   (${NOTES[$i]}; log: $logf)"
  {
    echo "# fresh machine check: $name"
    echo "# command: cd /work/rlhf && $cmd"
    echo "# ref: $REF ($COMMIT); started: ${STARTED[$i]}; ${NOTES[$i]}"
    echo "# environment: ${CHROOT_ENV[*]}"
  } > "$logf"
  CMD_T0=$SECONDS
  STATUS[$i]=running
  # In the background and waited for, so that a SIGTERM/SIGHUP to this script (timeout, CI) runs the
  # cleanup at once rather than after the command; Ctrl+C still reaches the command (same process
  # group; env --default-signal undoes the SIGINT-ignoring bash applies to background jobs).
  rm -f -- "$STATUS_FILE"
  { if in_root "cd /work/rlhf && $cmd" < /dev/null 2>&1; then st=0; else st=$?; fi; echo "$st" > "$STATUS_FILE"; } |
    tee -a -- "$logf" &
  wait
  st=$(cat -- "$STATUS_FILE" 2>/dev/null || echo 255)
  WALL[$i]=$((SECONDS - CMD_T0))
  STATUS[$i]=$st
  echo "# exit status $st after $(fmt_time "${WALL[$i]}")" >> "$logf"
  log "[$name] exit $st after $(fmt_time "${WALL[$i]}")"
done

overall=0
for st in "${STATUS[@]}"; do [ "$st" = 0 ] || overall=1; done
exit "$overall"
