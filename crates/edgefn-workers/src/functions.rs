//! The functions a process serves: sub-folders of the functions folder, found on first request.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// Longest accepted function name, in bytes.
const MAX_NAME_LEN: usize = 128;

/// Per-function settings from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionSettings {
    /// Environment variables of the function; the process environment is never visible to it.
    pub env: BTreeMap<String, String>,
}

/// One function: a folder with an entry module, and where its isolate lives.
#[derive(Debug)]
pub struct Function {
    /// The function's name, which is also its folder's name.
    pub name: String,
    /// The function's folder.
    pub root: PathBuf,
    /// Its settings.
    pub settings: FunctionSettings,
    /// Index of the user-worker thread that hosts its isolate.
    pub(crate) thread: usize,
}

/// A name that cannot be a function: empty, too long, hidden, or with path syntax in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid function name {0:?}")]
pub struct InvalidFunctionName(pub String);

/// Checks a function name: ASCII letters, digits, `-`, `_` and `.`, not starting with `.`
/// (which excludes `..` and hidden folders), at most 128 bytes.
pub fn validate_name(name: &str) -> Result<(), InvalidFunctionName> {
    let valid = !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(InvalidFunctionName(name.to_owned()))
    }
}

/// The registry of functions under one folder.
pub struct Functions {
    dir: PathBuf,
    settings: BTreeMap<String, FunctionSettings>,
    known: RwLock<HashMap<String, Arc<Function>>>,
    threads: usize,
    next_thread: AtomicUsize,
}

impl Functions {
    /// A registry over `dir`, placing functions round-robin over `threads` worker threads.
    pub fn new(
        dir: PathBuf,
        settings: BTreeMap<String, FunctionSettings>,
        threads: usize,
    ) -> Functions {
        Functions {
            dir,
            settings,
            known: RwLock::new(HashMap::new()),
            threads: threads.max(1),
            next_thread: AtomicUsize::new(0),
        }
    }

    /// The function called `name`, if its folder exists.
    ///
    /// A function is remembered from its first request on; its folder is checked only then.
    pub fn lookup(&self, name: &str) -> Result<Option<Arc<Function>>, InvalidFunctionName> {
        validate_name(name)?;
        if let Some(function) = self.known.read().expect("registry lock").get(name) {
            return Ok(Some(function.clone()));
        }
        let root = self.dir.join(name);
        if !root.is_dir() {
            return Ok(None);
        }
        let mut known = self.known.write().expect("registry lock");
        let function = known.entry(name.to_owned()).or_insert_with(|| {
            Arc::new(Function {
                name: name.to_owned(),
                root,
                settings: self.settings.get(name).cloned().unwrap_or_default(),
                thread: self.next_thread.fetch_add(1, Ordering::Relaxed) % self.threads,
            })
        });
        Ok(Some(function.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["hello", "hello-world", "v1.2", "a_b", "X9"] {
            assert_eq!(validate_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn rejects_path_syntax_and_hidden_names() {
        for name in [
            "",
            ".",
            "..",
            ".env",
            "a/b",
            "a\\b",
            "a b",
            "a%2Fb",
            "é",
            &"x".repeat(129),
        ] {
            assert!(validate_name(name).is_err(), "{name:?} was accepted");
        }
    }

    #[test]
    fn finds_folders_and_spreads_them_over_threads() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir(dir.join("a")).unwrap();
        std::fs::create_dir(dir.join("b")).unwrap();
        let functions = Functions::new(dir.clone(), BTreeMap::new(), 2);
        let a = functions.lookup("a").unwrap().unwrap();
        let b = functions.lookup("b").unwrap().unwrap();
        assert_ne!(a.thread, b.thread);
        assert!(Arc::ptr_eq(&a, &functions.lookup("a").unwrap().unwrap()));
        assert!(functions.lookup("missing").unwrap().is_none());
    }
}
