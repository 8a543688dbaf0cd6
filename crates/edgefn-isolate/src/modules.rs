//! The module loader: ES modules with relative imports inside one function folder.
//!
//! Module names are absolute, canonical file paths, so stack traces and errors name the file.
//! Only relative specifiers (`./x.ts`, `../lib/y.js`) are accepted, and every resolved file must
//! lie inside the function folder after symlinks are followed: an import that escapes it fails
//! the boot with an error naming the import.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Exception, Module};

use crate::module_cache::{DeclareError, ModuleCache};
use crate::typescript;

/// Extensions tried, in order, for a specifier that names no existing file.
const IMPLICIT_EXTENSIONS: [&str; 4] = ["ts", "js", "mjs", "json"];

/// Entry file names of a function folder, in order of preference.
pub const ENTRY_FILES: [&str; 3] = ["index.ts", "index.js", "index.mjs"];

/// Finds the entry module of a function folder.
pub fn find_entry(root: &Path) -> Option<PathBuf> {
    ENTRY_FILES
        .iter()
        .map(|name| root.join(name))
        .find(|path| path.is_file())
}

/// Stripped TypeScript by path, with a fingerprint of the source it came from, shared by every
/// isolate of the process: a module is transpiled once, however many isolates load it.
type TranspileCache = Mutex<HashMap<PathBuf, (u64, Arc<str>)>>;

fn transpile_cache() -> &'static TranspileCache {
    static CACHE: OnceLock<TranspileCache> = OnceLock::new();
    CACHE.get_or_init(TranspileCache::default)
}

fn fingerprint(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// The JavaScript of a TypeScript module, from the cache when its source did not change.
fn transpiled(path: &Path, text: &str) -> Result<Arc<str>, String> {
    let print = fingerprint(text);
    if let Some((cached, js)) = transpile_cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(path)
        && *cached == print
    {
        return Ok(js.clone());
    }
    let js: Arc<str> = typescript::strip_types(path, text)
        .map_err(|error| error.to_string())?
        .into();
    transpile_cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(path.to_owned(), (print, js.clone()));
    Ok(js)
}

/// A module file at the top of a function folder from this size on is compiled ahead of the
/// boot, on the compute pool (QuickJS compiles about 25 KB per millisecond).
const COMPILE_AHEAD_MIN_BYTES: u64 = 16 * 1024;

/// Whether the modules of a function folder are worth compiling ahead of its boot, on the
/// compute pool (see [`crate::ModuleCache::compile_ahead`]): it has a TypeScript file, a large
/// module or a sub-folder at its top level. One directory read, cheap enough for the worker
/// thread, which skips the hop to the compute pool for a folder of small JavaScript files.
pub fn worth_compiling_ahead(root: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(root) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        entry.file_type().is_ok_and(|kind| kind.is_dir())
            || typescript::is_typescript(&path)
            || (is_module_file(&path)
                && entry
                    .metadata()
                    .is_ok_and(|meta| meta.len() >= COMPILE_AHEAD_MIN_BYTES))
    })
}

fn is_module_file(path: &Path) -> bool {
    typescript::is_typescript(path)
        || matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("js" | "mjs")
        )
}

/// The TypeScript files of a function folder (not following symlinks, at most 8 levels deep),
/// for transpiling them ahead of a boot, off the worker thread, when no bytecode is cached.
pub fn typescript_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() && depth < 8 {
                walk(&path, depth + 1, out);
            } else if kind.is_file() && typescript::is_typescript(&path) {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, 0, &mut files);
    files
}

/// Transpiles one TypeScript file into the cache; errors are left for the boot to report.
pub fn pretranspile(path: &Path) {
    let Ok(canonical) = std::fs::canonicalize(path) else {
        return;
    };
    if let Ok(text) = std::fs::read_to_string(&canonical) {
        let _ = transpiled(&canonical, &text);
    }
}

/// The JavaScript source of the module file `path` whose text is `text`: TypeScript is stripped
/// (once per process for a given source), JSON becomes a module whose default export is the
/// parsed value.
pub fn source_of(path: &Path, text: String) -> Result<String, String> {
    if typescript::is_typescript(path) {
        return transpiled(path, &text).map(|js| js.to_string());
    }
    if path.extension().is_some_and(|e| e == "json") {
        // Validate first so that a broken JSON file is reported as such, with its position.
        serde_json::from_str::<serde_json::Value>(&text).map_err(|error| {
            format!(
                "{}:{}:{}: invalid JSON: {error}",
                path.display(),
                error.line(),
                error.column()
            )
        })?;
        return Ok(format!("export default {text};"));
    }
    Ok(text)
}

/// Whether a module's source may import with attributes (`from './d.json' with { ... }`, or
/// the older `assert { ... }`): a string literal's closing quote, `with` or `assert`, then `{`,
/// with only white space (or nothing) between. It may say yes for a string that only looks
/// like one (the module is then not cached), and misses a comment between them.
pub fn has_import_attributes(source: &str) -> bool {
    let bytes = source.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    ["with", "assert"].iter().any(|keyword| {
        source.match_indices(keyword).any(|(at, _)| {
            let before = source[..at].trim_end();
            let after = skip_space(at + keyword.len());
            before.ends_with(['\'', '"']) && bytes.get(after) == Some(&b'{')
        })
    })
}

/// Resolves import specifiers against the importing module, confined to one folder.
pub struct FolderResolver {
    root: PathBuf,
}

impl FolderResolver {
    /// `root` must be canonical (see [`std::fs::canonicalize`]).
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    fn resolve_path(&self, base: &str, specifier: &str) -> Result<PathBuf, String> {
        if !(specifier.starts_with("./") || specifier.starts_with("../")) {
            return Err(format!(
                "unsupported import '{specifier}' in {base}: only relative imports ('./x.ts') \
                 of files inside the function folder are supported"
            ));
        }
        let base_dir = Path::new(base).parent().unwrap_or(&self.root);
        let lexical = normalize(&base_dir.join(specifier));
        let escapes = || format!("import '{specifier}' in {base} escapes the function folder");
        if !lexical.starts_with(&self.root) {
            return Err(escapes());
        }
        let found = std::iter::once(lexical.clone())
            .chain(IMPLICIT_EXTENSIONS.iter().map(|ext| {
                let mut with_ext = lexical.clone().into_os_string();
                with_ext.push(".");
                with_ext.push(ext);
                PathBuf::from(with_ext)
            }))
            .find(|path| path.is_file())
            .ok_or_else(|| format!("cannot find module '{specifier}' imported from {base}"))?;
        // Follow symlinks: a link inside the folder must not lead outside it.
        let canonical = std::fs::canonicalize(&found)
            .map_err(|error| format!("cannot resolve '{specifier}' in {base}: {error}"))?;
        if !canonical.starts_with(&self.root) {
            return Err(escapes());
        }
        Ok(canonical)
    }
}

impl Resolver for FolderResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        match self.resolve_path(base, name) {
            Ok(path) => Ok(path.to_string_lossy().into_owned()),
            Err(message) => Err(Exception::throw_reference(ctx, &message)),
        }
    }
}

/// Loads resolved module files, stripping TypeScript on the way, through the bytecode cache.
pub(crate) struct FolderLoader {
    pub(crate) cache: ModuleCache,
    /// Loading for [`ModuleCache::compile_ahead`], not into an isolate.
    pub(crate) ahead: bool,
}

impl Loader for FolderLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        match self.cache.declare(ctx, Path::new(name), self.ahead) {
            Ok(module) => Ok(module),
            Err(DeclareError::Source(message)) => Err(Exception::throw_syntax(ctx, &message)),
            Err(DeclareError::Engine(error)) => Err(error),
        }
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> (tempfile::TempDir, FolderResolver) {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("fn")).unwrap();
        std::fs::write(root.join("fn/index.ts"), "").unwrap();
        std::fs::write(root.join("fn/lib.ts"), "").unwrap();
        std::fs::write(root.join("secret.js"), "").unwrap();
        let resolver = FolderResolver::new(root.join("fn"));
        (dir, resolver)
    }

    #[test]
    fn resolves_relative_imports_with_and_without_extension() {
        let (_dir, resolver) = folder();
        let base = resolver.root.join("index.ts");
        let base = base.to_str().unwrap();
        assert_eq!(
            resolver.resolve_path(base, "./lib.ts").unwrap(),
            resolver.root.join("lib.ts")
        );
        assert_eq!(
            resolver.resolve_path(base, "./lib").unwrap(),
            resolver.root.join("lib.ts")
        );
    }

    #[test]
    fn refuses_imports_that_escape_the_folder() {
        let (_dir, resolver) = folder();
        let base = resolver.root.join("index.ts");
        let err = resolver
            .resolve_path(base.to_str().unwrap(), "../secret.js")
            .unwrap_err();
        assert!(
            err.contains("'../secret.js'") && err.contains("escapes"),
            "{err}"
        );
    }

    #[test]
    fn refuses_a_symlink_that_leads_outside() {
        let (_dir, resolver) = folder();
        std::os::unix::fs::symlink(
            resolver.root.join("../secret.js"),
            resolver.root.join("link.js"),
        )
        .unwrap();
        let base = resolver.root.join("index.ts");
        let err = resolver
            .resolve_path(base.to_str().unwrap(), "./link.js")
            .unwrap_err();
        assert!(err.contains("escapes"), "{err}");
    }

    #[test]
    fn typescript_large_modules_and_sub_folders_are_compiled_ahead() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("index.js"), "").unwrap();
        std::fs::write(root.join("data.json"), "x".repeat(100_000)).unwrap();
        assert!(!worth_compiling_ahead(root), "small JavaScript, JSON");
        std::fs::create_dir(root.join("lib")).unwrap();
        assert!(
            worth_compiling_ahead(root),
            "a sub-folder may hold anything"
        );
        std::fs::remove_dir(root.join("lib")).unwrap();
        std::fs::write(root.join("vendor.mjs"), "x".repeat(16 * 1024)).unwrap();
        assert!(worth_compiling_ahead(root), "a large module");
        std::fs::remove_file(root.join("vendor.mjs")).unwrap();
        std::fs::write(root.join("util.mts"), "").unwrap();
        assert!(worth_compiling_ahead(root));
    }

    #[test]
    fn import_attributes_are_recognised() {
        for yes in [
            "import d from './d.json' with { type: 'json' };",
            "import d from \"./d.json\"\n  with\n{ type: \"json\" }",
            "export { default } from './d.json' assert {type:'json'}",
            "import d from './d.json'with{type:'json'}",
        ] {
            assert!(has_import_attributes(yes), "{yes}");
        }
        for no in [
            "import d from './d.js';",
            "const with_ = 1; const s = 'with'; ({ with: { a: 1 } });",
        ] {
            assert!(!has_import_attributes(no), "{no}");
        }
    }

    #[test]
    fn refuses_bare_specifiers() {
        let (_dir, resolver) = folder();
        let err = resolver
            .resolve_path("/x/index.ts", "npm:hono")
            .unwrap_err();
        assert!(err.contains("unsupported import 'npm:hono'"), "{err}");
    }
}
