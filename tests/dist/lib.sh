# Sourced by the suites that test the release artifacts of tests/run.d/05-dist (which runs
# scripts/dist for the glibc targets into dist/).

dist_dir=${ELECT_DIST_DIR:-$PWD/dist}
dist_version=$(scripts/version)

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

# Prints the highest GLIBC_x.y symbol version any of the files needs.
glibc_max() {
    for f in "$@"; do readelf -V --wide "$f"; done |
        grep -o 'Name: GLIBC_[0-9][0-9.]*' | sed 's/Name: GLIBC_//' | sort -V | tail -1
}
# Fails, naming the file, if one of the files needs a GLIBC version above 2.17 (manylinux2014).
check_ceiling() { # file...
    local f v
    for f in "$@"; do
        v=$(glibc_max "$f")
        if [ -n "$v" ] && [ "$(printf '%s\n2.17\n' "$v" | sort -V | tail -1)" != 2.17 ]; then
            echo "$f needs GLIBC_$v"
            return 1
        fi
    done
}
