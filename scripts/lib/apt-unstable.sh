# shellcheck shell=bash
# Debian unstable through an apt state of its own ($CACHE/apt-unstable):
# its own sources list, lists and archive cache; the host's dpkg status
# only to satisfy apt (nothing is installed, and unstable never becomes a
# source of the host). Sourced by scripts/guest-image and
# scripts/kselftests, which define CACHE, log and die first.
UNSTABLE="$CACHE/apt-unstable"
APT_UNSTABLE=(-o Dir::State::Lists="$UNSTABLE/lists"
	-o Dir::Etc::SourceList="$UNSTABLE/sources.list"
	-o Dir::Etc::SourceParts=/nonexistent
	-o Dir::Cache="$UNSTABLE/cache"
	-o APT::Architectures::=amd64 -o APT::Architectures::=arm64)
apt_unstable() { apt-get "${APT_UNSTABLE[@]}" "$@"; }
apt_cache_unstable() { apt-cache "${APT_UNSTABLE[@]}" "$@"; }
# the lists, fetched again when a day old
unstable_update() {
	mkdir -p "$UNSTABLE/lists/partial" "$UNSTABLE/cache/archives/partial"
	local src="deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main"
	echo "$src" >"$UNSTABLE/sources.list"
	if [ -z "$(find "$UNSTABLE/lists" -name '*unstable*Packages*' -mtime -1 2>/dev/null | head -n1)" ]; then
		log "apt-get update for Debian unstable (its own state in $UNSTABLE)"
		apt_unstable update >&2 || die "apt-get update for unstable failed"
	fi
}
