#!/usr/bin/env bash
# Install dli-wait for the GitHub Action (action.yml's first step): the prebuilt release asset
# for this runner, checked against its .sha256 and kept in the runner's tool cache; or, only when
# asked (`version: source`), the action's own source built with `cargo install`. The directory
# holding the binary is added to $GITHUB_PATH, for the steps after this one.
#
# Environment (set by action.yml or the runner):
#   INPUT_VERSION               "", "latest", a release tag such as v0.1.0, or "source"
#   DLI_WAIT_ACTION_REF         ${{ github.action_ref }}: the default version when it is a tag;
#                               otherwise (a commit SHA, a branch) the version in the action's
#                               own Cargo.toml, so a pinned commit runs the code of that commit
#   DLI_WAIT_ACTION_REPOSITORY  ${{ github.action_repository }}: where the releases are
#   DLI_WAIT_RELEASE_BASE_URL   optional: the releases' base instead of
#                               https://github.com/<repository>/releases (a mirror); a file://
#                               URL or an absolute path also works (the tests use one). Assets
#                               are read from <base>/download/<tag>/<asset> and, for latest,
#                               <base>/latest/download/<asset>.
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT,
#   GITHUB_ACTION_PATH          as on any runner
#
# A checksum that does not match is an error, never a reason to fall back: a tampered or
# corrupted download must stop the workflow, loudly.
set -euo pipefail

log() { printf 'dli-wait install: %s\n' "$*"; }
# Text in a workflow command, escaped as the runner unescapes it (% CR LF): a newline in a
# message cannot end the command and start another.
command_data() {
    local s="$1"
    s="${s//'%'/%25}"
    s="${s//$'\r'/%0D}"
    s="${s//$'\n'/%0A}"
    printf '%s' "$s"
}
# An output in the runner's heredoc form, with a random delimiter that is not in the value.
set_output() {
    local name="$1" value="$2" delimiter
    delimiter="DLI_WAIT_EOF_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    while [[ "$value" == *"$delimiter"* ]]; do
        delimiter="${delimiter}_$RANDOM"
    done
    printf '%s<<%s\n%s\n%s\n' "$name" "$delimiter" "$value" "$delimiter" >>"$GITHUB_OUTPUT"
}
die() {
    printf '::error title=dli-wait install::%s\n' "$(command_data "$*")"
    printf 'dli-wait install: error: %s\n' "$*" >&2
    exit 1
}

# --- what to install ------------------------------------------------------------------------

exe=""
case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-musl ext=tar.gz ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ext=tar.gz ;;
    macOS/X64) target=x86_64-apple-darwin ext=tar.gz ;;
    macOS/ARM64) target=aarch64-apple-darwin ext=tar.gz ;;
    # Windows on Arm runs the x64 build (emulated).
    Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc ext=zip exe=.exe ;;
    *) target="" ext="" ;;
esac
arch="$(printf '%s' "${RUNNER_ARCH:-unknown}" | tr '[:upper:]' '[:lower:]')"

version="$(printf '%s' "${INPUT_VERSION:-}" | tr -d '[:space:]')"
ref="${DLI_WAIT_ACTION_REF:-${GITHUB_ACTION_REF:-}}"
if [[ -z "$version" ]]; then
    # `uses: owner/dli-wait@v0.1.0` installs v0.1.0; a commit SHA or a branch installs the
    # release of the version its own Cargo.toml names (what that commit was built as).
    if [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]]; then
        version="$ref"
    elif own="$(sed -n 's/^version *= *"\([^"]*\)".*/\1/p' "${GITHUB_ACTION_PATH:-.}/Cargo.toml" 2>/dev/null | head -n 1)" &&
        [[ -n "$own" ]]; then
        version="v$own"
    else
        version=latest
    fi
fi
# The version names a directory in the tool cache and a path in a URL.
if [[ ! "$version" =~ ^[0-9A-Za-z][0-9A-Za-z._+-]*$ ]]; then
    die "bad version input '${version//[^0-9A-Za-z._+-]/?}': give a release tag such as v0.1.0, latest, or source"
fi

repo="${DLI_WAIT_ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
base="${DLI_WAIT_RELEASE_BASE_URL:-}"
if [[ -z "$base" && -n "$repo" ]]; then
    base="https://github.com/$repo/releases"
fi
base="${base%/}"

tool_root="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/dli-wait"
work="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dli-wait-install.XXXXXX")"
staging=""
cleanup() {
    rm -rf -- "$work"
    if [[ -n "$staging" ]]; then rm -rf -- "$staging"; fi
}
trap cleanup EXIT

# --- helpers --------------------------------------------------------------------------------

# Copy a URL (https://, file://, or an absolute path) to a file; non-zero when it is not there.
fetch() {
    local src="$1" out="$2"
    case "$src" in
        file://*) cp -- "${src#file://}" "$out" 2>/dev/null ;;
        /*) cp -- "$src" "$out" 2>/dev/null ;;
        https://*)
            curl --proto '=https' --proto-redir '=https' --fail --silent --show-error --location \
                --retry 3 --retry-connrefused --connect-timeout 20 --max-time 600 \
                --output "$out" -- "$src"
            ;;
        *)
            log "not fetching $src: only https://, file:// or an absolute path" >&2
            return 1
            ;;
    esac
}

if command -v sha256sum >/dev/null 2>&1; then
    sha256_of() { sha256sum -- "$1" | cut -d ' ' -f 1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256_of() { shasum -a 256 -- "$1" | cut -d ' ' -f 1; }
else
    sha256_of() { die "neither sha256sum nor shasum is installed: cannot verify $1"; }
fi

# Move the staged install into the cache, mark it complete, and put it on PATH.
publish() {
    local how="$1" dest="$2"
    local bin="$dest/bin/dli-wait$exe"
    rm -rf -- "$dest" "$dest.complete"
    mkdir -p -- "$(dirname -- "$dest")"
    mv -- "$staging" "$dest"
    staging=""
    printf '%s\n' "$how" >"$dest.complete"
    use "$dest"
    log "installed $bin ($how)"
}

# Put an installed dli-wait on PATH for the next steps, and say which one it is.
use() {
    local dest="$1" dir="$1/bin"
    local version_line
    version_line="$("$dir/dli-wait$exe" --version)" ||
        die "$dir/dli-wait$exe does not run on this runner (${RUNNER_OS:-?}/${RUNNER_ARCH:-?})"
    if command -v cygpath >/dev/null 2>&1; then
        dir="$(cygpath -w "$dir")" # Windows: GITHUB_PATH takes native paths
    fi
    # One line of GITHUB_PATH is one directory: a newline would add another.
    if [[ "$dir" == *[[:cntrl:]]* ]]; then
        die "the install directory holds a control character: set RUNNER_TOOL_CACHE to a plain path"
    fi
    if [[ -n "${GITHUB_PATH:-}" ]]; then printf '%s\n' "$dir" >>"$GITHUB_PATH"; fi
    if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
        set_output path "$dest/bin/dli-wait$exe"
        set_output version "$version_line"
    fi
    log "using $version_line from $dir"
}

# No usable release asset: build the action's own checkout (`version: source` asks for this).
build_from_source() {
    local why="$1" dest="$2"
    local src="${GITHUB_ACTION_PATH:-}"
    if [[ -z "$src" || ! -f "$src/Cargo.toml" ]]; then
        die "$why, and there is no source to build (GITHUB_ACTION_PATH has no Cargo.toml)"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        die "$why, and cargo is not installed to build it from source: add a Rust toolchain before this step, or set the version input to a release with a binary for ${RUNNER_OS:-this OS}/${RUNNER_ARCH:-this arch}"
    fi
    log "$why: building dli-wait from source with cargo (a few minutes)"
    staging="$tool_root/.staging-source-$arch-$$"
    rm -rf -- "$staging"
    cargo install --locked --path "$src" --root "$staging" ||
        die "cargo install --locked --path $src failed"
    [[ -x "$staging/bin/dli-wait$exe" ]] || die "cargo install did not produce bin/dli-wait$exe"
    publish source "$dest"
}

# --- install --------------------------------------------------------------------------------

if [[ "$version" == source ]]; then
    build_from_source "version: source" "$tool_root/source/$arch"
    exit 0
fi
# Anything but a verified release asset needs `version: source`: a build takes minutes, and a
# build cached under a release's name would pass for that release.
if [[ -z "$target" ]]; then
    die "no prebuilt dli-wait for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}: set the version input to source to build it with cargo"
fi
if [[ -z "$base" ]]; then
    die "no release to download $version from (a local action, uses: ./): set the version input to source to build this checkout with cargo"
fi

# `latest` is resolved to its tag when GitHub says which it is, so the cache is per version.
if [[ "$version" == latest && "$base" == https://* ]]; then
    if landed="$(curl --proto '=https' --fail --silent --location --head --max-time 60 \
        --output /dev/null --write-out '%{url_effective}' -- "$base/latest" 2>/dev/null)" &&
        [[ "$landed" =~ /tag/(v[0-9A-Za-z._+-]+)$ ]]; then
        version="${BASH_REMATCH[1]}"
        log "latest is $version"
    fi
fi

dest="$tool_root/$version/$arch"
if [[ "$version" != latest && -f "$dest.complete" && -x "$dest/bin/dli-wait$exe" ]]; then
    log "found $version in the tool cache ($(cat -- "$dest.complete"))"
    use "$dest"
    exit 0
fi

asset="dli-wait-$target.$ext"
if [[ "$version" == latest ]]; then
    url="$base/latest/download/$asset"
else
    url="$base/download/$version/$asset"
fi
archive="$work/$asset"
log "downloading $url"
if ! fetch "$url" "$archive"; then
    die "no release asset $asset for $version at $url: check the version input (a release tag such as v0.1.0, or latest), or set it to source to build with cargo"
fi
if ! fetch "$url.sha256" "$archive.sha256"; then
    # Never run an unverified binary.
    die "release asset $asset of $version has no $asset.sha256: refusing to install an unverified binary (set the version input to source to build with cargo)"
fi

expected="$(tr -d '\r' <"$archive.sha256" | awk 'NF { print tolower($1); exit }')"
if [[ ! "$expected" =~ ^[0-9a-f]{64}$ ]]; then
    die "$asset.sha256 holds no SHA-256; refusing to install $asset"
fi
actual="$(sha256_of "$archive")"
if [[ "$actual" != "$expected" ]]; then
    die "checksum mismatch for $asset ($version): $asset.sha256 says $expected, the download is $actual; refusing to install it (a corrupted or tampered download)"
fi
log "verified SHA-256 $actual"

mkdir -p -- "$work/unpacked" "$tool_root"
case "$ext" in
    tar.gz) tar -xzf "$archive" -C "$work/unpacked" ;;
    zip)
        if command -v unzip >/dev/null 2>&1; then
            unzip -q "$archive" -d "$work/unpacked"
        elif command -v 7z >/dev/null 2>&1; then
            7z x -bd -y "-o$work/unpacked" "$archive" >/dev/null
        else
            # shellcheck disable=SC2016 # PowerShell expands $env:..., not bash
            DLI_WAIT_ZIP="$(cygpath -w "$archive")" DLI_WAIT_UNZIP_TO="$(cygpath -w "$work/unpacked")" \
                powershell -NoProfile -NonInteractive -Command \
                'Expand-Archive -LiteralPath $env:DLI_WAIT_ZIP -DestinationPath $env:DLI_WAIT_UNZIP_TO'
        fi
        ;;
esac
found=""
for candidate in "$work/unpacked/dli-wait$exe" "$work/unpacked"/*/"dli-wait$exe"; do
    if [[ -f "$candidate" ]]; then
        found="$candidate"
        break
    fi
done
[[ -n "$found" ]] || die "$asset holds no dli-wait$exe"

staging="$tool_root/.staging-$version-$arch-$$"
rm -rf -- "$staging"
mkdir -p -- "$staging/bin"
cp -- "$found" "$staging/bin/dli-wait$exe"
chmod 755 "$staging/bin/dli-wait$exe"
publish "release $version, sha256 $actual" "$dest"
