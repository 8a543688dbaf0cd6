//! Assembles the Web platform layer into scripts in `$OUT_DIR`, each a single function
//! expression (its value), which the host calls once and then drops, so that the function's
//! own bytecode is freed (a module's would live as long as the isolate):
//!
//! - `bootstrap.js`, the core every isolate loads:
//!   `(function init(host, config) { <js/*.js, in name order> })`. The files share one scope;
//!   the last one returns the hooks the host calls.
//! - one script per chunk of [`CHUNKS`] (listed for the crate in `chunks.rs`), loaded into an
//!   isolate on first use (see `js/29_extension.js`): `(function extend(coreBindings,
//!   dependencyExports) { const <name> = coreBindings[<index>]; ...; <js/<folder>/*.js>;
//!   return { <getters for its own names> } })`.
//!
//! The names the core and a chunk exchange are found here, by a scan for the top-level
//! declarations of each side (`function`, `const`, `let`, `class` at the start of a line) and
//! the identifiers the chunk uses. Every core binding some chunk uses is captured once, at the
//! end of `init`, into one array (`captureChunkBindings()`, generated into the core; a core
//! `let`, which may be assigned later, as a getter), which each chunk reads by position. An
//! array slot holds such a binding for a fraction of what a closure's reference to it costs in
//! every isolate, also one that never loads a chunk.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "build/layer_names.rs"]
mod layer_names;
use layer_names::{
    declarations, identifiers, inline_integer_constants, lets, move_chunk_only_declarations,
    references,
};

/// The chunks loaded on first use: (folder under `js/`, chunk name). Each is a script
/// `edgefn:<name>` (its file name in stack traces) that sees the core and the chunks it
/// depends on ([`CHUNK_DEPENDENCIES`]); a name of any other chunk it reaches through the core's
/// stub.
const CHUNKS: [(&str, &str); 17] = [
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
    ("buffers", "buffers"),
    ("shapes", "shapes"),
    ("stacks", "stacks"),
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
    let mut core = read_dir(&js_dir);
    let mut chunks: Vec<(&str, Vec<(String, String)>)> = CHUNKS
        .iter()
        .map(|(folder, chunk)| (*chunk, read_dir(&js_dir.join(folder))))
        .collect();
    inline_integer_constants(&mut core, &mut chunks).unwrap_or_else(|error| panic!("{error}"));
    move_chunk_only_declarations(&mut core, &mut chunks, &CHUNK_DEPENDENCIES)
        .unwrap_or_else(|error| panic!("{error}"));
    let core_names: BTreeSet<&str> = core.iter().flat_map(|(_, t)| declarations(t)).collect();
    // A `let` the core assigns later (an accessor set when its class is created) is passed as
    // a getter and called through it, so a chunk never holds a stale function.
    let core_lets: BTreeSet<&str> = core.iter().flat_map(|(_, t)| lets(t)).collect();
    let core_used: BTreeSet<&str> = core.iter().flat_map(|(_, t)| references(t)).collect();

    let mut bootstrap = String::from("(function init(host, config) {\n\"use strict\";\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let mut chunks_rs = format!("const CHUNKS: [(&str, &str); {}] = [\n", CHUNKS.len());
    // One level only: no chain, and so no cycle, of chunks loading each other.
    for (user, used) in CHUNK_DEPENDENCIES {
        assert!(
            !CHUNK_DEPENDENCIES.iter().any(|(other, _)| *other == used),
            "the chunk {used}, which {user} depends on, must not depend on another chunk"
        );
    }
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
    // The names each chunk takes from the core or from a chunk it depends on, and every core
    // binding any chunk takes, by position in the array the core passes each chunk.
    let dependencies: Vec<Vec<ChunkNames>> = chunks
        .iter()
        .map(|(chunk, _)| {
            CHUNK_DEPENDENCIES
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
                .collect()
        })
        .collect();
    // The names each chunk declares, read once.
    let declared: Vec<BTreeSet<&str>> = chunks
        .iter()
        .map(|(_, files)| files.iter().flat_map(|(_, t)| declarations(t)).collect())
        .collect();
    let imports: Vec<Vec<Import>> = chunks
        .iter()
        .zip(&declared)
        .zip(&dependencies)
        .map(|(((_, files), own), dependencies)| {
            chunk_imports(files, own, &core_names, &core_lets, dependencies)
        })
        .collect();
    let core_bindings: Vec<&Import> = imports
        .iter()
        .flatten()
        .filter(|import| import.from.is_none())
        .map(|import| (import.name, import))
        .collect::<std::collections::BTreeMap<&str, &Import>>()
        .into_values()
        .collect();
    let mut dependency_cases = String::new();
    for ((((chunk, files), own), dependencies), imports) in chunks
        .iter()
        .zip(&declared)
        .zip(&dependencies)
        .zip(&imports)
    {
        writeln!(
            chunks_rs,
            "    (\"edgefn:{chunk}\", include_str!(concat!(env!(\"OUT_DIR\"), \"/{chunk}.js\"))),"
        )
        .unwrap();
        // The core, and every other chunk, reach a chunk's name only through a stub of the
        // core, except a chunk that depends on it.
        let others = chunks
            .iter()
            .zip(&declared)
            .filter(|((other, _), _)| {
                other != chunk && !CHUNK_DEPENDENCIES.contains(&(*other, *chunk))
            })
            .flat_map(|((_, files), declared)| {
                // A name the other chunk declares itself is its own.
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
        if !dependencies.is_empty() {
            let loads: Vec<String> = dependencies
                .iter()
                .map(|d| format!("layerChunk(\"{}\")", d.chunk))
                .collect();
            writeln!(
                dependency_cases,
                "    case \"{chunk}\":\n      return [{}];",
                loads.join(", ")
            )
            .unwrap();
        }
        let script = assemble_chunk(files, own, imports, &core_bindings, dependencies);
        std::fs::write(out.join(format!("{chunk}.js")), script).expect("writable OUT_DIR");
    }
    let captured: String = core_bindings
        .iter()
        .map(|import| match import.live {
            true => format!("    () => {},\n", import.name),
            false => format!("    {},\n", import.name),
        })
        .collect();
    writeln!(
        bootstrap,
        "// ---- generated: the core's bindings the chunks use, by position (a `let`, which may be\n\
         // assigned later, through a getter), captured once at the end of init (99_internal.js)\n\
         // by this function, which is dropped with init: a binding only chunks use is held by\n\
         // one array slot, not by a closure.\n\
         function captureChunkBindings() {{\n  return [\n{captured}  ];\n}}\n\
         // ---- generated: the exports of the chunks each chunk depends on, loaded first\n\
         function chunkDependencies(name) {{\n  switch (name) {{\n{dependency_cases}    \
         default:\n      return [];\n  }}\n}}"
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

/// A name a chunk takes from the core or from a chunk it depends on.
struct Import<'a> {
    name: &'a str,
    /// The chunk it comes from; `None` for the core.
    from: Option<&'a str>,
    /// A `let`, which may be assigned later: the chunk calls it through a getter.
    live: bool,
}

/// The names a chunk takes from the core and from the chunks it depends on, by name: those it
/// uses and does not declare. Where both declare a name (the core's stub for it), the chunk's
/// own declaration is the one it sees, then a dependency's. A chunk that calls a `let` also
/// takes `ReflectApply`, through which it does.
fn chunk_imports<'a>(
    files: &'a [(String, String)],
    own: &BTreeSet<&'a str>,
    core_names: &BTreeSet<&'a str>,
    core_lets: &BTreeSet<&'a str>,
    dependencies: &[ChunkNames<'a>],
) -> Vec<Import<'a>> {
    let used: BTreeSet<&str> = files.iter().flat_map(|(_, t)| identifiers(t)).collect();
    for name in ["coreBindings", "dependencyExports"] {
        assert!(
            !used.contains(name),
            "`{name}` is the name of a chunk's parameter; a chunk must not use it"
        );
    }
    let import = |name: &'a str| match dependencies.iter().find(|d| d.names.contains(name)) {
        Some(d) => Import {
            name,
            from: Some(d.chunk),
            live: d.lets.contains(name),
        },
        None => Import {
            name,
            from: None,
            live: core_lets.contains(name),
        },
    };
    let mut names: BTreeSet<&str> = ["host", "config"]
        .into_iter()
        .chain(core_names.iter().copied())
        .chain(dependencies.iter().flat_map(|d| d.names.iter().copied()))
        .filter(|name| used.contains(name) && !own.contains(name))
        .collect();
    if names.iter().any(|name| import(name).live) {
        names.insert("ReflectApply");
    }
    names.into_iter().map(import).collect()
}

/// A chunk's script: `(function extend(coreBindings, dependencyExports) { <its imports>;
/// <files>; return { <getters for its own names> } })`, where `coreBindings` is the array of
/// `core_bindings` and `dependencyExports` the exports of the chunks it depends on, in the
/// order of `dependencies`.
fn assemble_chunk(
    files: &[(String, String)],
    own: &BTreeSet<&str>,
    imports: &[Import],
    core_bindings: &[&Import],
    dependencies: &[ChunkNames],
) -> String {
    let mut script =
        String::from("(function extend(coreBindings, dependencyExports) {\n\"use strict\";\n");
    if !dependencies.is_empty() {
        let names: Vec<String> = dependencies
            .iter()
            .map(|d| format!("${}", d.chunk))
            .collect();
        writeln!(script, "const [{}] = dependencyExports;", names.join(", ")).unwrap();
    }
    for import in imports {
        let name = import.name;
        let value = match import.from {
            Some(chunk) => format!("${chunk}.{name}"),
            None => {
                let index = core_bindings
                    .iter()
                    .position(|binding| binding.name == name)
                    .expect("every core import is a core binding");
                match import.live {
                    true => format!("coreBindings[{index}]()"),
                    false => format!("coreBindings[{index}]"),
                }
            }
        };
        match import.live {
            true => writeln!(
                script,
                "const {name} = (...args) => ReflectApply({value}, undefined, args);"
            ),
            false => writeln!(script, "const {name} = {value};"),
        }
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
    script
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
