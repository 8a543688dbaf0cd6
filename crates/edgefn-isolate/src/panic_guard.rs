//! Notices Rust panics raised while a thread is inside an isolate.
//!
//! rquickjs catches a panic in a host function and turns it into a JavaScript exception, which
//! JavaScript code may catch; the panic is then never resumed on the Rust side. To still treat
//! such an isolate as broken, a process-wide panic hook (installed once, chained to the previous
//! hook) records the message of every panic raised on a thread that is inside an isolate, and
//! `Inner::enter` checks for it when the entry ends.

use std::cell::{Cell, RefCell};
use std::panic::PanicHookInfo;
use std::sync::Once;

thread_local! {
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the hook; cheap after the first call.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if DEPTH.with(Cell::get) > 0 {
                let message = info.payload_as_str().unwrap_or("panic").to_owned();
                PANIC.with(|slot| *slot.borrow_mut() = Some(message));
            }
            previous(info);
        }));
    });
}

/// The message of a panic raised inside an isolate on this thread since the last call.
pub(crate) fn take() -> Option<String> {
    PANIC.with(|slot| slot.borrow_mut().take())
}

/// Marks this thread as inside an isolate for as long as it lives (also while unwinding).
pub(crate) struct Inside;

impl Inside {
    pub(crate) fn enter() -> Inside {
        DEPTH.with(|depth| depth.set(depth.get() + 1));
        Inside
    }
}

impl Drop for Inside {
    fn drop(&mut self) {
        DEPTH.with(|depth| depth.set(depth.get() - 1));
    }
}
