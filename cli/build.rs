//! On musl the `elect` binary is linked statically (static-pie), so one file runs on any Linux.
//!
//! `scripts/dist.d/10-native` builds musl targets with `-C target-feature=-crt-static`, because
//! rustc drops cdylib crate types (`libelect.so`, `libelect_jni.so`) under musl's default
//! `+crt-static`, and all three crates are built in one cargo invocation. This puts the static
//! linking back for the executable alone.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        println!("cargo:rustc-link-arg-bins=-static-pie");
    }
}
