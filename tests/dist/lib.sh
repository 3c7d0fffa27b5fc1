# Sourced by the suites that test the release artifacts of tests/run.d/05-dist (which runs
# scripts/dist for the glibc targets into dist/).

dist_dir=${ELECT_DIST_DIR:-$PWD/dist}
dist_version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)

# Unpacks the tarball of target $1 into directory $2 and prints the prefix it made.
dist_unpack() { # target dir
    local tarball=$dist_dir/elect-$dist_version-$1.tar.gz
    if [ ! -f "$tarball" ]; then
        echo "$tarball is missing: run tests/run.d/05-dist (or ./scripts/dist) first" >&2
        return 1
    fi
    tar -xzf "$tarball" -C "$2"
    echo "$2/elect-$dist_version-$1"
}
