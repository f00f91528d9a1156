# shellcheck shell=bash
# ci/kernel/kernel.sh - kernel tree, series and config helpers shared by
# ci/build-kernel and ci/check-series. Source it after ci/lib.sh.
#
# Layout under $RDMAPIN_CACHE (see Documentation/kernel-series.md):
#   src/linux/          git repository imported from Debian's linux-source-6.1
#                       tarball, base commit tagged v6.1-debian
#   src/linux-6.12/     the same for linux-source-6.12 (RK_SOURCE=6.12: the
#                       upstream-6.12 reference kernels), tag v6.12-debian
#   src/<tree>/         one git worktree per kernel (base, patched, ...)
#   src/<tree>/.build/  its O= build directory. Being a direct subdirectory of
#                       the source tree makes kbuild use relative paths
#                       (srctree := ..), so ccache hits across trees.
#   build/<tree>        symlink to src/<tree>/.build
#   ccache/, locks/, logs/

# RK_SOURCE picks the Debian source package: 6.1 (our base) or 6.12 (upstream reference).
RK_SOURCE=${RK_SOURCE:-6.1}
RK_TARBALL=${RDMAPIN_KERNEL_TARBALL:-/usr/src/linux-source-$RK_SOURCE.tar.xz}
RK_PATCHES=${RDMAPIN_KERNEL_PATCHES:-$RDMAPIN_TOP/kernel-patches}
RK_BASE_TAG=v$RK_SOURCE-debian
RK_REPO=$RDMAPIN_CACHE/src/linux
[ "$RK_SOURCE" = 6.1 ] || RK_REPO=$RDMAPIN_CACHE/src/linux-$RK_SOURCE
RK_LOCK_WAIT=${RDMAPIN_LOCK_WAIT:-5400}
RK_JOBS=${RDMAPIN_JOBS:-$(nproc)}
RK_IDENT_NAME='rdmapin developers'
RK_IDENT_EMAIL='devel@rdmapin.example'

# Reproducible build identity: the same sources give the same objects, which
# is what lets ccache hit.
export KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026'
export KBUILD_BUILD_USER=rdmapin
export KBUILD_BUILD_HOST=rdmapin
export KBUILD_BUILD_VERSION=1
export CCACHE_DIR=$RDMAPIN_CACHE/ccache
export CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-10G}

# rk_timed LABEL CMD...: run CMD, log how long it took.
rk_timed() {
	local label=$1 t0 rc=0
	shift
	t0=$(date +%s)
	"$@" || rc=$?
	rp_log "$label: $(($(date +%s) - t0))s$([ "$rc" -eq 0 ] || echo " (failed, status $rc)")"
	return "$rc"
}

# rk_lock NAME: take an exclusive lock for the rest of the process on fd 9
# (src) or 8 (per tree). Bounded wait.
rk_lock() {
	local name=$1 fd=$2
	mkdir -p "$RDMAPIN_CACHE/locks"
	eval "exec $fd>\"\$RDMAPIN_CACHE/locks/\$name.lock\""
	flock -w "$RK_LOCK_WAIT" "$fd" ||
		rp_die "lock $name still held after ${RK_LOCK_WAIT}s ($RDMAPIN_CACHE/locks/$name.lock)"
}

# rk_base_id: identifies the base sources (tarball name, size, mtime, package).
rk_base_id() {
	local pkgver
	[ -r "$RK_TARBALL" ] || rp_die "kernel source tarball $RK_TARBALL not found (apt-get install linux-source-$RK_SOURCE)"
	pkgver=$(dpkg-query -W -f '${Version}' "linux-source-$RK_SOURCE" 2>/dev/null || echo unknown)
	printf '%s %s %s\n' "$(basename "$RK_TARBALL")" "$(stat -c '%s %Y' "$RK_TARBALL")" "$pkgver"
}

rk_git() {
	git -c user.name="$RK_IDENT_NAME" -c user.email="$RK_IDENT_EMAIL" \
		-c advice.detachedHead=false -c gc.auto=0 "$@"
}

# rk_import: make $RK_REPO a git repository whose $RK_BASE_TAG is the tarball.
# Needs no other tree. Caller holds the src lock.
rk_import() {
	local id tmp top date
	id=$(rk_base_id)
	if [ -f "$RK_REPO/.git/rdmapin-base-id" ] &&
		[ "$(cat "$RK_REPO/.git/rdmapin-base-id")" = "$id" ] &&
		git -C "$RK_REPO" rev-parse -q --verify "refs/tags/$RK_BASE_TAG" >/dev/null; then
		return 0
	fi
	rp_log "importing $RK_TARBALL into $RK_REPO (once per tarball)"
	if [ -d "$RK_REPO" ]; then
		rp_log "base sources changed: dropping $RK_REPO and its worktrees"
		git -C "$RK_REPO" worktree list --porcelain 2>/dev/null | sed -n 's/^worktree //p' |
			grep -vxF "$RK_REPO" | xargs -r rm -rf
		rm -rf "$RK_REPO"
	fi
	mkdir -p "$RDMAPIN_CACHE/src"
	tmp=$(mktemp -d "$RDMAPIN_CACHE/src/.import.XXXXXX")
	tar -xf "$RK_TARBALL" -C "$tmp"
	top=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	[ -f "$top/Makefile" ] || rp_die "$RK_TARBALL: no kernel tree inside"
	# Debian's tarball ignores everything at the top level for its packaging;
	# with that block `git add` adds nothing.
	sed -i '/^# Debian packaging/,$d' "$top/.gitignore"
	date=$(stat -c '%Y' "$RK_TARBALL")
	(
		cd "$top" || exit 1
		git init -q -b base
		git add -A
		GIT_AUTHOR_DATE="@$date +0000" GIT_COMMITTER_DATE="@$date +0000" \
			rk_git commit -q -m "Debian linux-source-$RK_SOURCE ($id)"
		git tag "$RK_BASE_TAG"
	)
	[ "$(git -C "$top" ls-files | wc -l)" -gt 50000 ] ||
		rp_die "import of $RK_TARBALL committed too few files (.gitignore?)"
	mv "$top" "$RK_REPO"
	rmdir "$tmp"
	printf '%s\n' "$id" >"$RK_REPO/.git/rdmapin-base-id"
}

# rk_worktree TREE: print the path of worktree src/TREE, creating it at the
# base tag if needed. Caller holds the src lock.
rk_worktree() {
	local tree=$1 dir=$RDMAPIN_CACHE/src/$1 common
	common=$(git -C "$dir" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	if [ "$common" != "$(realpath "$RK_REPO")/.git" ]; then
		rm -rf "$dir"
		git -C "$RK_REPO" worktree prune
		git -C "$RK_REPO" worktree add -q --detach "$dir" "$RK_BASE_TAG" >&2
	fi
	mkdir -p "$dir/.build" "$RDMAPIN_CACHE/build"
	ln -sfn "$dir/.build" "$RDMAPIN_CACHE/build/$tree"
	printf '%s\n' "$dir"
}

# rk_series [all|drivers|mm]: print the patch files of $RK_PATCHES/series in
# order (absolute paths). drivers = everything but NNNN-mm-* files.
rk_series() {
	local which=${1:-all} line base
	[ -f "$RK_PATCHES/series" ] || return 0
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=${line//[[:space:]]/}
		[ -n "$line" ] || continue
		[ -f "$RK_PATCHES/$line" ] || rp_die "$RK_PATCHES/series lists $line, which does not exist"
		base=$(basename "$line")
		case "$which:$base" in
		drivers:[0-9][0-9][0-9][0-9]-mm-*) continue ;;
		mm:[0-9][0-9][0-9][0-9]-mm-*) ;;
		mm:*) continue ;;
		esac
		printf '%s\n' "$RK_PATCHES/$line"
	done <"$RK_PATCHES/series"
}

# rk_apply DIR PATCH...: make worktree DIR = base tag + PATCHes applied with
# git am. Skipped when the same patches are already applied.
rk_apply() {
	local dir=$1 stamp want have
	shift
	stamp=$dir/.build/rdmapin-applied
	want=$({
		git -C "$dir" rev-parse "$RK_BASE_TAG^{commit}"
		[ $# -eq 0 ] || cat "$@"
	} | sha256sum | cut -d' ' -f1)
	have=$(cat "$stamp" 2>/dev/null || true)
	if [ "$have" = "$want $(git -C "$dir" rev-parse HEAD)" ]; then
		rp_log "sources: $# patches already applied in $dir"
		return 0
	fi
	rm -f "$stamp"
	rk_git -C "$dir" am --abort >/dev/null 2>&1 || true
	rk_git -C "$dir" reset -q --hard
	rk_git -C "$dir" checkout -q --detach "$RK_BASE_TAG"
	if [ $# -gt 0 ]; then
		if ! rk_git -C "$dir" am -q "$@" >&2; then
			rk_git -C "$dir" am --abort >/dev/null 2>&1 || true
			rp_die "git am failed in $dir (see above)"
		fi
	fi
	printf '%s %s\n' "$want" "$(git -C "$dir" rev-parse HEAD)" >"$stamp"
	rp_log "sources: applied $# patches in $dir"
}

# rk_config_check CONFIG FRAGMENT...: every option a fragment asks for must be
# in CONFIG as asked. Prints each mismatch; fails if there is one.
rk_config_check() {
	local config=$1 frag fname line sym want got bad=0
	shift
	for frag in "$@"; do
		fname=$(basename "$frag")
		while IFS= read -r line || [ -n "$line" ]; do
			case "$line" in
			CONFIG_*=*)
				sym=${line%%=*} want=$line ;;
			"# CONFIG_"*" is not set")
				sym=${line#\# } sym=${sym%% *} want="# $sym is not set" ;;
			*) continue ;;
			esac
			got=$(grep -E "^$sym=|^# $sym is not set" "$config" || true)
			if [ "$want" = "# $sym is not set" ] && [ -z "$got" ]; then
				continue
			fi
			if [ "$got" != "$want" ]; then
				printf '%s: %s: asked for "%s", got "%s"\n' "$(basename "$0")" \
					"$fname" "$want" "${got:-(absent: dependencies not met)}" >&2
				bad=1
			fi
		done <"$frag"
	done
	return "$bad"
}

# rk_configure SRC O LOG FRAGMENT...: tinyconfig + fragments + olddefconfig in
# O, then check. Keeps the old .config (and its mtime) when nothing changed.
rk_configure() {
	local src=$1 o=$2 log=$3
	shift 3
	[ ! -f "$o/.config" ] || cp -p "$o/.config" "$o/.config.rdmapin-prev"
	{
		make -C "$src" O="$o" tinyconfig &&
			(cd "$src" && scripts/kconfig/merge_config.sh -m -O "$o" "$o/.config" "$@") &&
			make -C "$src" O="$o" olddefconfig
	} >>"$log" 2>&1 || { tail -n 30 "$log" >&2; rp_die "configuration failed (log: $log)"; }
	rk_config_check "$o/.config" "$@" ||
		rp_die "the kernel configuration lacks options the fragments ask for (above)"
	if [ -f "$o/.config.rdmapin-prev" ] && cmp -s "$o/.config" "$o/.config.rdmapin-prev"; then
		mv "$o/.config.rdmapin-prev" "$o/.config"
	else
		rm -f "$o/.config.rdmapin-prev"
	fi
}

# rk_make SRC O LOG LOCALVERSION TARGET...: build with ccache, niced.
rk_make() {
	local src=$1 o=$2 log=$3 lv=$4
	shift 4
	mkdir -p "$CCACHE_DIR"
	if ! nice -n 10 make -C "$src" O="$o" CC="ccache gcc" LOCALVERSION="$lv" \
		-j"$RK_JOBS" "$@" >>"$log" 2>&1; then
		grep -E 'error|Error' "$log" | tail -n 20 >&2 || true
		tail -n 30 "$log" >&2
		rp_log "build log: $log"
		return 1
	fi
}
