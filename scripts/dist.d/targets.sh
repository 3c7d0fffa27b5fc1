# Sourced by the parts of scripts/dist: how one Rust target is built for release.
# dist_target <rust target> sets:
#   zig_target    the target as cargo-zigbuild takes it: glibc targets link against glibc
#                 2.17's symbol versions (`<target>.2.17`, the manylinux2014 floor)
#   rustflags     musl targets build with -crt-static, because rustc drops cdylib outputs
#                 under musl's default +crt-static
#   wheel_compat  the wheel's platform policy for maturin (manylinux2014, musllinux_1_2)
# Every part builds a target with the same values, so one cargo target directory serves them all.
# Cargo runs without the SOURCE_DATE_EPOCH that scripts/dist exports for the archives: the cc
# crate tells cargo to rerun C build scripts when it changes, and since it is the time of the
# last commit, every commit would rebuild ring and everything above it.
dist_target() {
    case $1 in
    *-linux-gnu) zig_target=$1.2.17; rustflags=""; wheel_compat=manylinux2014 ;;
    *-linux-musl) zig_target=$1; rustflags="-C target-feature=-crt-static"; wheel_compat=musllinux_1_2 ;;
    *) echo "dist: unsupported target $1" >&2; return 1 ;;
    esac
}
