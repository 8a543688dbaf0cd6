//! Assembles `js/*.js` into one ES module, `$OUT_DIR/bootstrap.js`:
//! `export default function init(host, config) { <every file, in name order> }`.
//! The files share one scope; the last one returns the hooks the host calls.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let js_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("js");
    println!("cargo::rerun-if-changed={}", js_dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&js_dir)
        .expect("crates/edgefn-isolate/js exists")
        .map(|entry| entry.expect("readable js dir").path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    files.sort();
    let mut out = String::from("export default function init(host, config) {\n\"use strict\";\n");
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("readable js file");
        let name = file.file_name().unwrap().to_string_lossy();
        writeln!(out, "// ---- {name}\n{text}").unwrap();
    }
    out.push_str("}\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("bootstrap.js");
    std::fs::write(dest, out).expect("writable OUT_DIR");
}
