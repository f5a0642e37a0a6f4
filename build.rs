//! Embeds the standard rule packs of `rules/` into the `hyoka` binary, so
//! `hyoka check` works in any directory of plans without a checkout.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=rules");
    // Read at run time: a build script compiled once may be run for another
    // checkout sharing the target directory.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("rules");
    // A binary without its standard packs would fail on every plan
    // repository: no rules directory is a build error, not an empty list.
    let mut packs: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| {
            panic!(
                "cannot read the standard rule packs in {}: {e}",
                root.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    packs.sort();
    let mut out = String::from("/// A rule file: (file name, source).\n");
    out.push_str("pub type RuleFile = (&'static str, &'static str);\n");
    out.push_str("/// The standard rule packs: (directory name, pack.toml, rule files).\n");
    out.push_str("pub const STANDARD_PACKS: &[(&str, &str, &[RuleFile])] = &[\n");
    for pack in packs {
        let manifest = pack.join("pack.toml");
        if !manifest.is_file() {
            continue;
        }
        println!("cargo:rerun-if-changed={}", pack.display());
        let name = pack.file_name().unwrap().to_string_lossy().to_string();
        let mut files: Vec<_> = std::fs::read_dir(&pack)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "hyk"))
            .collect();
        files.sort();
        write!(
            out,
            "    ({name:?}, include_str!({:?}), &[",
            manifest.display().to_string()
        )
        .unwrap();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let fname = f.file_name().unwrap().to_string_lossy().to_string();
            write!(
                out,
                "({fname:?}, include_str!({:?})), ",
                f.display().to_string()
            )
            .unwrap();
        }
        out.push_str("]),\n");
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("standard_packs.rs");
    std::fs::write(dest, out).unwrap();
}
