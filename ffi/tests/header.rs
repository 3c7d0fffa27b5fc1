//! `include/elect.h` is generated from this crate by the pinned cbindgen and committed; this
//! test regenerates it and fails on any difference, so the header never drifts from the code.
//! `ELECT_BLESS=1 cargo test -p elect-ffi --test header` rewrites it after a deliberate change.
//!
//! The version macros (`ELECT_VERSION_MAJOR` ...) come from the crate's version, i.e. the
//! workspace version: a version bump makes this test fail until the header is regenerated.

use std::path::Path;

#[test]
fn committed_header_matches_the_sources() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header_path = crate_dir.join("../include/elect.h");
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("ffi/cbindgen.toml is readable");
    config.after_includes = Some(version_macros());
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("the header is UTF-8");

    if std::env::var_os("ELECT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&header_path, &generated).expect("include/elect.h is writable");
        return;
    }
    let committed = std::fs::read_to_string(&header_path).unwrap_or_default();
    if committed != generated {
        let first = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "include/elect.h is out of date (first difference at line {}); regenerate it with \
             `ELECT_BLESS=1 cargo test -p elect-ffi --test header` and commit it",
            first + 1
        );
    }
}

/// The version macros of the header, from this crate's (the workspace's) version.
fn version_macros() -> String {
    format!(
        "\n// The version of elect this header belongs to (`elect_version()` gives the library's).\n\
         #define ELECT_VERSION_MAJOR {}\n\
         #define ELECT_VERSION_MINOR {}\n\
         #define ELECT_VERSION_PATCH {}\n\
         #define ELECT_VERSION \"{}\"",
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION"),
    )
}
