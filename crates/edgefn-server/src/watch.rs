//! `--watch`: a change under a function's folder retires its workers, so the next request
//! boots the new code; no restart needed. For development.

use std::path::{Component, PathBuf};
use std::sync::{Arc, Weak};

use notify::{RecursiveMode, Watcher};

use crate::service::App;

/// Watches `dir` on the background runtime for as long as the server lives.
pub(crate) fn spawn(dir: PathBuf, app: Arc<App>, runtime: &tokio::runtime::Handle) {
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let (changes, mut changed) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            for path in event.paths {
                let _ = changes.send(path);
            }
        }
    });
    let mut watcher = match watcher {
        Ok(watcher) => watcher,
        Err(error) => {
            tracing::warn!(%error, "cannot watch the functions folder; --watch is off");
            return;
        }
    };
    if let Err(error) = watcher.watch(&dir, RecursiveMode::Recursive) {
        tracing::warn!(%error, folder = %dir.display(), "cannot watch the functions folder; --watch is off");
        return;
    }
    let app: Weak<App> = Arc::downgrade(&app);
    runtime.spawn(async move {
        let _watcher = watcher;
        while let Some(path) = changed.recv().await {
            let Some(app) = app.upgrade() else { return };
            let Ok(relative) = path.strip_prefix(&dir) else { continue };
            if let Some(Component::Normal(name)) = relative.components().next() {
                let function = name.to_string_lossy();
                app.pool.invalidate(&function);
                tracing::info!(function = %function, file = %relative.display(), "changed: workers will be replaced");
            }
        }
    });
}
