//! The pool's warm-up: a fixed number of parts (each thread's first prepared isolates, the
//! compilation of the Web layer), each done once, and a future that resolves when all are.

use std::sync::Arc;

use tokio::sync::watch;

/// One part of the warm-up; it counts as done when dropped, also when the work it stands for
/// failed or panicked, so that readiness cannot wait for ever. The parts share one sender,
/// which closes the channel when the last of them goes.
pub(crate) struct WarmUpPart {
    _open: Arc<watch::Sender<()>>,
}

/// Resolves once every part is done.
#[derive(Clone)]
pub(crate) struct WarmedUp(watch::Receiver<()>);

/// `parts` parts of a warm-up, all made before any of them can be done.
pub(crate) fn warm_up(parts: usize) -> (Vec<WarmUpPart>, WarmedUp) {
    let (open, watch) = watch::channel(());
    let open = Arc::new(open);
    let parts = (0..parts)
        .map(|_| WarmUpPart {
            _open: open.clone(),
        })
        .collect();
    (parts, WarmedUp(watch))
}

impl WarmedUp {
    pub(crate) async fn wait(mut self) {
        // Nothing is ever sent: `changed` returns only once the channel is closed.
        while self.0.changed().await.is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use futures_util::FutureExt;

    use super::*;

    #[test]
    fn warm_once_every_part_is_done_also_by_a_panic() {
        let (mut parts, warmed) = warm_up(3);
        assert!(warmed.clone().wait().now_or_never().is_none());
        drop(parts.pop());
        assert!(warmed.clone().wait().now_or_never().is_none());
        let part = parts.pop();
        let panicked = std::thread::spawn(move || {
            let _part = part;
            panic!("a part's work failed");
        })
        .join();
        assert!(panicked.is_err());
        assert!(warmed.clone().wait().now_or_never().is_none());
        drop(parts);
        assert_eq!(warmed.wait().now_or_never(), Some(()));
    }

    #[test]
    fn no_parts_is_warm_at_once() {
        let (_, warmed) = warm_up(0);
        assert_eq!(warmed.wait().now_or_never(), Some(()));
    }
}
