//! Assembles the Web platform layer into two ES modules in `$OUT_DIR`:
//!
//! - `bootstrap.js`, the core every isolate loads:
//!   `export default function init(host, config) { <js/*.js, in name order> }`. The files share
//!   one scope; the last one returns the hooks the host calls.
//! - `extension.js`, loaded into an isolate on first use (see `js/29_extension.js`):
//!   `export default function extend(scope) { const { <core names> } = scope; <js/ext/*.js>;
//!   return { <getters for its own names> } }`.
//!
//! The names the two exchange are found here, by a scan for the top-level declarations of each
//! side (`function`, `const`, `let`, `class` at the start of a line) and the identifiers the
//! extension uses: `extensionScope()`, generated into the core, returns the core's bindings that
//! the extension uses (a core `let`, which may be assigned later, as a getter).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let js_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("js");
    let core = read_dir(&js_dir);
    let ext = read_dir(&js_dir.join("ext"));

    let core_names: BTreeSet<&str> = core.iter().flat_map(|(_, t)| declarations(t)).collect();
    let ext_names: BTreeSet<&str> = ext.iter().flat_map(|(_, t)| declarations(t)).collect();
    let used: BTreeSet<&str> = ext.iter().flat_map(|(_, t)| identifiers(t)).collect();
    // Where both declare a name (the core's stubs in 29_extension.js), the extension's own
    // declaration is the one it sees.
    let scope: Vec<&str> = ["host", "config"]
        .into_iter()
        .chain(core_names.iter().copied())
        .filter(|name| used.contains(name) && !ext_names.contains(name))
        .collect();
    // A `let` the core assigns later (an accessor set when its class is created) is passed as
    // a getter and called through it, so the extension never holds a stale function.
    let core_lets: BTreeSet<&str> = core.iter().flat_map(|(_, t)| lets(t)).collect();
    let (live, copied): (Vec<&str>, Vec<&str>) =
        scope.iter().partition(|name| core_lets.contains(*name));
    assert!(
        live.is_empty() || copied.contains(&"ReflectApply"),
        "the extension calls core lets through ReflectApply"
    );
    let mut bootstrap =
        String::from("export default function init(host, config) {\n\"use strict\";\n");
    let getters: Vec<String> = live
        .iter()
        .map(|name| format!("get {name}() {{ return {name}; }}"))
        .collect();
    writeln!(
        bootstrap,
        "// ---- generated: the core's bindings the extension uses\n\
         function extensionScope() {{\n  return {{ {} }};\n}}",
        copied
            .iter()
            .map(|n| n.to_string())
            .chain(getters)
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    for (name, text) in &core {
        writeln!(bootstrap, "// ---- {name}\n{text}").unwrap();
    }
    bootstrap.push_str("}\n");

    let mut extension = String::from("export default function extend(scope) {\n\"use strict\";\n");
    writeln!(extension, "const {{ {} }} = scope;", copied.join(", ")).unwrap();
    for name in &live {
        writeln!(
            extension,
            "const {name} = (...args) => ReflectApply(scope.{name}, undefined, args);"
        )
        .unwrap();
    }
    for (name, text) in &ext {
        writeln!(extension, "// ---- ext/{name}\n{text}").unwrap();
    }
    let getters: Vec<String> = ext_names
        .iter()
        .map(|name| format!("  get {name}() {{ return {name}; }},"))
        .collect();
    writeln!(extension, "return {{\n{}\n}};\n}}", getters.join("\n")).unwrap();

    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out.join("bootstrap.js"), bootstrap).expect("writable OUT_DIR");
    std::fs::write(out.join("extension.js"), extension).expect("writable OUT_DIR");
}

/// The `.js` files of `dir` (not of its sub-folders), in name order, with their text.
fn read_dir(dir: &Path) -> Vec<(String, String)> {
    println!("cargo::rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable js dir").path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| {
            println!("cargo::rerun-if-changed={}", file.display());
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(file).expect("readable js file"),
            )
        })
        .collect()
}

/// The names declared at the top level of a file: the layer's files are formatted so that
/// exactly those declarations start at the beginning of a line.
fn declarations(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let line = line.strip_prefix("async ").unwrap_or(line);
        let rest = ["function* ", "function ", "const ", "let ", "class "]
            .iter()
            .find_map(|keyword| line.strip_prefix(keyword))?;
        let name = identifiers(rest).next()?;
        rest.starts_with(name).then_some(name)
    })
}

/// The names a file declares with `let` at its top level.
fn lets(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let rest = line.strip_prefix("let ")?;
        identifiers(rest)
            .next()
            .filter(|name| rest.starts_with(name))
    })
}

/// Every identifier-like word of `text` (also inside strings and comments, which only adds
/// names that need not be passed).
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|word| word.chars().next().is_some_and(|c| !c.is_ascii_digit()))
}
