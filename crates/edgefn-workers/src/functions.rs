//! The functions a process serves: sub-folders of the functions folder, found on first request.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::settings::{FunctionSettings, Policy, Runtime};

/// Longest accepted function name, in bytes.
const MAX_NAME_LEN: usize = 128;

/// One function: a folder with an entry module, and its settings.
#[derive(Debug)]
pub struct Function {
    /// The function's name, which is also its folder's name.
    pub name: String,
    /// The function's folder.
    pub root: PathBuf,
    /// Its settings.
    pub settings: FunctionSettings,
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
    settings: Box<dyn Fn(&str) -> FunctionSettings + Send + Sync>,
    /// By name, with a hasher cheaper than SipHash: looked up on every request, and only the
    /// names of folders that exist are inserted, so a client cannot fill it with colliding keys.
    known: RwLock<HashMap<String, Arc<Function>, rustc_hash::FxBuildHasher>>,
}

impl Functions {
    /// A registry over `dir`; `settings` gives the settings of a function by name.
    pub fn new(
        dir: PathBuf,
        settings: impl Fn(&str) -> FunctionSettings + Send + Sync + 'static,
    ) -> Functions {
        Functions {
            dir,
            settings: Box::new(settings),
            known: RwLock::new(HashMap::default()),
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
            let mut settings = (self.settings)(name);
            settings.runtime = settings.runtime.resolve(&root);
            // A process serves one invocation at a time, as on Lambda.
            if matches!(settings.runtime, Runtime::Process { .. })
                && settings.policy == Policy::PerWorker
            {
                settings.policy = Policy::PerRequest;
            }
            Arc::new(Function {
                name: name.to_owned(),
                root,
                settings,
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
    fn finds_folders_once_with_their_settings() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir(dir.join("a")).unwrap();
        let config = edgefn_runtime::Config::default();
        let functions = Functions::new(dir.clone(), move |name| {
            FunctionSettings::from_config(&config, name)
        });
        let a = functions.lookup("a").unwrap().unwrap();
        assert_eq!(a.settings.max_parallelism, 1);
        assert!(Arc::ptr_eq(&a, &functions.lookup("a").unwrap().unwrap()));
        assert!(functions.lookup("missing").unwrap().is_none());
    }
}
