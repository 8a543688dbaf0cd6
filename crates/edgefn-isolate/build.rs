//! Assembles the Web platform layer into scripts in `$OUT_DIR`, each a single function
//! expression (its value), which the host calls once and then drops, so that the function's
//! own bytecode is freed (a module's would live as long as the isolate):
//!
//! - `bootstrap.js`, the core every isolate loads:
//!   `(function init(host, config) { <js/*.js, in name order> })`. The files share one scope;
//!   the last one returns the hooks the host calls.
//! - one script per chunk of [`CHUNKS`] (listed for the crate in `chunks.rs`), loaded into an
//!   isolate on first use (see `js/29_extension.js`): `(function extend(scope) { const { <core
//!   names> } = scope; <js/<folder>/*.js>; return { <getters for its own names> } })`.
//!
//! The names the core and a chunk exchange are found here, by a scan for the top-level
//! declarations of each side (`function`, `const`, `let`, `class` at the start of a line) and
//! the identifiers the chunk uses: `chunkScope(name)`, generated into the core, returns the
//! core's bindings that the chunk uses (a core `let`, which may be assigned later, as a getter).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The chunks loaded on first use: (folder under `js/`, chunk name). Each is a script
/// `edgefn:<name>` (its file name in stack traces) that sees the core and the chunks it
/// depends on ([`CHUNK_DEPENDENCIES`]); a name of any other chunk it reaches through the core's
/// stub.
const CHUNKS: [(&str, &str); 14] = [
    ("streams", "streams"),
    ("clone", "clone"),
    ("fetch", "fetch"),
    ("console", "console"),
    ("encoding", "encoding"),
    ("crypto", "crypto"),
    ("events", "events"),
    ("ext", "extension"),
    ("inspect", "inspect"),
    ("timing", "timing"),
    ("url", "url"),
    ("services", "services"),
    ("subtle", "subtle"),
    ("urlpattern", "urlpattern"),
];

/// Chunks that use the names of another chunk directly: (chunk, the chunk it uses). Loading
/// the first loads the second before it, and passes it the second's names it uses (a `let` of
/// the second through a getter).
const CHUNK_DEPENDENCIES: [(&str, &str); 1] = [("extension", "streams")];

/// The names a chunk declares, and its `let`s among them.
struct ChunkNames<'a> {
    chunk: &'a str,
    names: BTreeSet<&'a str>,
    lets: BTreeSet<&'a str>,
}

fn main() {
    dependencies_hash();
    let js_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("js");
    let core = read_dir(&js_dir);
    let core_names: BTreeSet<&str> = core.iter().flat_map(|(_, t)| declarations(t)).collect();
    // A `let` the core assigns later (an accessor set when its class is created) is passed as
    // a getter and called through it, so a chunk never holds a stale function.
    let core_lets: BTreeSet<&str> = core.iter().flat_map(|(_, t)| lets(t)).collect();
    let core_used: BTreeSet<&str> = core.iter().flat_map(|(_, t)| references(t)).collect();

    let mut bootstrap = String::from("(function init(host, config) {\n\"use strict\";\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut chunks_rs = format!("const CHUNKS: [(&str, &str); {}] = [\n", CHUNKS.len());
    let chunks: Vec<(&str, Vec<(String, String)>)> = CHUNKS
        .iter()
        .map(|(folder, chunk)| (*chunk, read_dir(&js_dir.join(folder))))
        .collect();
    // One level only: no chain, and so no cycle, of chunks loading each other.
    for (user, used) in CHUNK_DEPENDENCIES {
        assert!(
            !CHUNK_DEPENDENCIES.iter().any(|(other, _)| *other == used),
            "the chunk {used}, which {user} depends on, must not depend on another chunk"
        );
    }
    let mut scope_cases = String::new();
    // The interfaces of every chunk, each made by one chunk only.
    let mut interface_cases = String::new();
    let mut interface_names: Vec<&str> = Vec::new();
    for (chunk, files) in &chunks {
        let interfaces = chunk_interfaces(files);
        if !interfaces.is_empty() {
            for name in &interfaces {
                assert!(
                    !interface_names.contains(name),
                    "the interface {name} is made by two chunks"
                );
                writeln!(interface_cases, "    case \"{name}\":").unwrap();
            }
            writeln!(interface_cases, "      return \"{chunk}\";").unwrap();
            interface_names.extend(interfaces);
        }
    }
    for (chunk, files) in &chunks {
        writeln!(
            chunks_rs,
            "    (\"edgefn:{chunk}\", include_str!(concat!(env!(\"OUT_DIR\"), \"/{chunk}.js\"))),"
        )
        .unwrap();
        // The core, and every other chunk, reach a chunk's name only through a stub of the
        // core, except a chunk that depends on it.
        let own: BTreeSet<&str> = files.iter().flat_map(|(_, t)| declarations(t)).collect();
        let others = chunks
            .iter()
            .filter(|(other, _)| other != chunk && !CHUNK_DEPENDENCIES.contains(&(*other, *chunk)))
            .flat_map(|(_, files)| {
                // A name the other chunk declares itself is its own.
                let declared: BTreeSet<&str> =
                    files.iter().flat_map(|(_, t)| declarations(t)).collect();
                files
                    .iter()
                    .flat_map(|(_, t)| references(t))
                    .filter(move |name| !declared.contains(name))
            });
        let unreachable: BTreeSet<&str> = core_used
            .iter()
            .copied()
            .chain(others)
            .filter(|name| own.contains(name) && !core_names.contains(name))
            .collect();
        assert!(
            unreachable.is_empty(),
            "names of the chunk {chunk} used outside it with no stub in the core: {unreachable:?}"
        );
        let dependencies: Vec<ChunkNames> = CHUNK_DEPENDENCIES
            .iter()
            .filter(|(user, _)| user == chunk)
            .map(|(_, used)| {
                let (_, files) = chunks
                    .iter()
                    .find(|(name, _)| name == used)
                    .expect("a dependency is a chunk");
                ChunkNames {
                    chunk: used,
                    names: files.iter().flat_map(|(_, t)| declarations(t)).collect(),
                    lets: files.iter().flat_map(|(_, t)| lets(t)).collect(),
                }
            })
            .collect();
        let (scope, script) = assemble_chunk(files, &core_names, &core_lets, &dependencies);
        let loads: String = dependencies
            .iter()
            .map(|d| format!("const ${0} = layerChunk(\"{0}\"); ", d.chunk))
            .collect();
        writeln!(
            scope_cases,
            "    case \"{chunk}\": {{\n      {loads}return {{ {scope} }};\n    }}"
        )
        .unwrap();
        std::fs::write(out.join(format!("{chunk}.js")), script).expect("writable OUT_DIR");
    }
    writeln!(
        bootstrap,
        "// ---- generated: the core's bindings each chunk uses\n\
         function chunkScope(name) {{\n  switch (name) {{\n{scope_cases}  }}\n}}"
    )
    .unwrap();
    let names = interface_names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        bootstrap,
        "// ---- generated: the chunk that makes each interface object of the global object\n\
         function interfaceChunk(name) {{\n  switch (name) {{\n{interface_cases}  }}\n}}\n\
         function chunkInterfaceNames() {{\n  return [{names}];\n}}"
    )
    .unwrap();
    for (name, text) in &core {
        writeln!(bootstrap, "// ---- {name}\n{text}").unwrap();
    }
    bootstrap.push_str("})\n");
    std::fs::write(out.join("bootstrap.js"), bootstrap).expect("writable OUT_DIR");
    chunks_rs.push_str("];\n");
    std::fs::write(out.join("chunks.rs"), chunks_rs).expect("writable OUT_DIR");
}

/// The interface objects a chunk puts on the global object: the `case "<name>":` labels of its
/// `99_interfaces.js` (whose `interfaceNamed(name)` makes them).
fn chunk_interfaces(files: &[(String, String)]) -> Vec<&str> {
    files
        .iter()
        .filter(|(name, _)| name == "99_interfaces.js")
        .flat_map(|(_, text)| text.lines())
        .filter_map(|line| line.trim().strip_prefix("case \"")?.strip_suffix("\":"))
        .collect()
}

/// A chunk's script, `(function extend(scope) { const { <core names> } = scope; <files>;
/// return { <getters for its own names> } })`, and the object literal the core passes as
/// `scope`.
fn assemble_chunk(
    files: &[(String, String)],
    core_names: &BTreeSet<&str>,
    core_lets: &BTreeSet<&str>,
    dependencies: &[ChunkNames],
) -> (String, String) {
    let own: BTreeSet<&str> = files.iter().flat_map(|(_, t)| declarations(t)).collect();
    let used: BTreeSet<&str> = files.iter().flat_map(|(_, t)| identifiers(t)).collect();
    // The chunk each name comes from, if not the core.
    let from = |name: &str| dependencies.iter().find(|d| d.names.contains(name));
    // Where both declare a name (the core's stub for it), the chunk's own declaration is the
    // one it sees, then a dependency's.
    let mut scope: Vec<&str> = ["host", "config"]
        .into_iter()
        .chain(core_names.iter().copied())
        .chain(dependencies.iter().flat_map(|d| d.names.iter().copied()))
        .filter(|name| used.contains(name) && !own.contains(name))
        .collect();
    scope.sort_unstable();
    scope.dedup();
    let is_let = |name: &str| match from(name) {
        Some(d) => d.lets.contains(name),
        None => core_lets.contains(name),
    };
    let (live, mut copied): (Vec<&str>, Vec<&str>) = scope.iter().partition(|name| is_let(name));
    // The chunk calls a `let` of the core or of a dependency through ReflectApply.
    if !live.is_empty() && !copied.contains(&"ReflectApply") {
        copied.push("ReflectApply");
    }
    let value = |name: &str| match from(name) {
        Some(d) => format!("${}.{name}", d.chunk),
        None => name.to_owned(),
    };
    let literal = copied
        .iter()
        .map(|name| match from(name) {
            Some(_) => format!("{name}: {}", value(name)),
            None => name.to_string(),
        })
        .chain(
            live.iter()
                .map(|name| format!("get {name}() {{ return {}; }}", value(name))),
        )
        .collect::<Vec<_>>()
        .join(", ");

    let mut script = String::from("(function extend(scope) {\n\"use strict\";\n");
    writeln!(script, "const {{ {} }} = scope;", copied.join(", ")).unwrap();
    for name in &live {
        writeln!(
            script,
            "const {name} = (...args) => ReflectApply(scope.{name}, undefined, args);"
        )
        .unwrap();
    }
    for (name, text) in files {
        writeln!(script, "// ---- {name}\n{text}").unwrap();
    }
    let getters: Vec<String> = own
        .iter()
        .map(|name| format!("  get {name}() {{ return {name}; }},"))
        .collect();
    writeln!(script, "return {{\n{}\n}};\n}})", getters.join("\n")).unwrap();
    (literal, script)
}

/// `EDGEFN_DEPENDENCIES_HASH`: a hash of the workspace's `Cargo.lock` (empty outside the
/// workspace), part of the module cache's key: another version of the engine or of the
/// TypeScript transformer must not read bytecode cached by this one.
fn dependencies_hash() {
    use std::hash::{Hash, Hasher};
    let lock = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    // SipHash with fixed keys: the same lock file gives the same value in every build.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    println!(
        "cargo::rustc-env=EDGEFN_DEPENDENCIES_HASH={:016x}",
        hasher.finish()
    );
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

/// The identifier-like words of `text` that are not a property access (`.name`; a spread,
/// `...name`, is a reference).
fn references(text: &str) -> impl Iterator<Item = &str> {
    identifiers(text).filter(move |word| {
        // `word` is a sub-slice of `text`, so this is its offset.
        let before = &text[..word.as_ptr() as usize - text.as_ptr() as usize];
        !before.ends_with('.') || before.ends_with("...")
    })
}

/// Every identifier-like word of `text` (also inside strings and comments, which only adds
/// names that need not be passed).
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|word| word.chars().next().is_some_and(|c| !c.is_ascii_digit()))
}
