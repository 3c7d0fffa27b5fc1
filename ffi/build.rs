//! Gives `libelect.so` the SONAME `libelect.so.<major>` when `ELECT_SONAME=1` (set by
//! `scripts/dist.d/10-native` for the shipped library), so programs linked against an installed
//! tarball record the major version and keep loading across compatible upgrades.
//!
//! Off by default: a program linked against `target/debug/libelect.so` (the tests, the
//! examples) would otherwise look for `libelect.so.<major>`, a file only the tarball has.
fn main() {
    println!("cargo:rerun-if-env-changed=ELECT_SONAME");
    if std::env::var("ELECT_SONAME").is_ok_and(|v| v == "1") {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libelect.so.{major}");
    }
}
