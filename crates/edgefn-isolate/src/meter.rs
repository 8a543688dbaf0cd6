//! What an isolate consumes, and the engine-level stops when it consumes too much.
//!
//! - CPU time: the thread's CPU clock is read around every entry into JavaScript and the
//!   difference added up. While JavaScript runs, QuickJS calls the interrupt handler every few
//!   thousand operations; it compares the running total against the hard limit, so even a
//!   synchronous `while (true) {}` stops within milliseconds of the limit. Reading that clock
//!   is a system call (about 0.6 µs here, twice per request), so an entry that starts within
//!   [`REUSE_WITHIN`] of the thread's last reading starts from that reading plus the wall time
//!   since, which is never less than the thread's CPU time then: the entry is charged at most
//!   what it used, and at most `REUSE_WITHIN` less (if the thread was preempted in between).
//!   Under load, entries follow one another closely and the clock is read once per entry.
//! - Memory: every allocation of the runtime goes through [`CountingAllocator`] (the C
//!   allocator, and [`crate::pages`] for the engine's arenas), which keeps an exact byte count
//!   (cheap to read, unlike QuickJS's heap walk) and refuses allocations past the limit.
//!   QuickJS then throws "out of memory", which JavaScript could catch; the refusal is
//!   remembered, and the isolate is stopped when the entry ends or at the next interrupt.
//! - A deadline: the interrupt handler also stops JavaScript that runs past a wall-clock instant
//!   set by the owner of the isolate.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::allocator::Allocator;

use crate::pages;

/// Why the engine stopped an isolate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The isolate used more CPU time than its hard limit.
    CpuTime,
    /// The isolate's heap reached its limit.
    Memory,
    /// The owner's deadline passed (a request ran past its wall-clock limit).
    WallClock,
    /// A Rust panic happened inside the isolate.
    Panic,
    /// The owner stopped the isolate (eviction, retirement, shutdown).
    Owner,
}

/// Shared between an isolate, its interrupt handler and its allocator.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// CPU time spent inside JavaScript by completed entries.
    cpu_used: Cell<Duration>,
    /// The thread CPU clock when the current entry began.
    entered_at: Cell<Option<Duration>>,
    cpu_limit: Cell<Option<Duration>>,
    deadline: Cell<Option<Instant>>,
    /// Bytes currently allocated by the runtime.
    pub(crate) memory_used: Cell<usize>,
    memory_limit: Cell<usize>,
    memory_exceeded: Cell<bool>,
    /// Set once a limit tripped inside JavaScript, so the interrupt keeps firing until the
    /// entry unwinds.
    tripped: Cell<Option<Stop>>,
}

impl Meter {
    /// Sets the limits of a prepared isolate given to a function, and forgets the CPU time
    /// spent before.
    pub(crate) fn assign(&self, cpu_limit: Option<Duration>, memory_limit: usize) {
        self.cpu_limit.set(cpu_limit);
        self.memory_limit.set(memory_limit);
        self.cpu_used.set(Duration::ZERO);
    }

    pub(crate) fn begin_entry(&self) {
        if self.entered_at.get().is_none() {
            self.entered_at.set(Some(entry_start(REUSE_WITHIN)));
        }
    }

    pub(crate) fn end_entry(&self) {
        if let Some(start) = self.entered_at.take() {
            let spent = thread_cpu_time().saturating_sub(start);
            self.cpu_used.set(self.cpu_used.get() + spent);
        }
    }

    /// CPU time used so far, including the entry in progress.
    pub(crate) fn cpu_used(&self) -> Duration {
        let running = self.entered_at.get().map_or(Duration::ZERO, |start| {
            thread_cpu_time().saturating_sub(start)
        });
        self.cpu_used.get() + running
    }

    pub(crate) fn set_deadline(&self, deadline: Option<Instant>) {
        self.deadline.set(deadline);
    }

    /// The limit that has been crossed, if any.
    pub(crate) fn check(&self) -> Option<Stop> {
        if let Some(stop) = self.tripped.get() {
            return Some(stop);
        }
        let stop = if self.memory_exceeded.get() {
            Some(Stop::Memory)
        } else if self
            .cpu_limit
            .get()
            .is_some_and(|limit| self.cpu_used() >= limit)
        {
            Some(Stop::CpuTime)
        } else if self.deadline.get().is_some_and(|d| Instant::now() >= d) {
            Some(Stop::WallClock)
        } else {
            None
        };
        if stop.is_some() {
            self.tripped.set(stop);
        }
        stop
    }

    /// The interrupt handler: `true` makes QuickJS throw an uncatchable error.
    pub(crate) fn interrupt_handler(meter: &Rc<Meter>) -> Box<dyn FnMut() -> bool> {
        let meter = meter.clone();
        Box::new(move || meter.check().is_some())
    }
}

/// How soon after the thread's last reading of its CPU clock an entry starts from that reading
/// instead of reading the clock again (see the module's documentation).
const REUSE_WITHIN: Duration = Duration::from_micros(50);

thread_local! {
    /// The calling thread's last reading of its CPU clock, and the wall-clock instant of it.
    static LAST_READING: Cell<Option<(Duration, Instant)>> = const { Cell::new(None) };
}

/// CPU time consumed by the calling thread.
pub(crate) fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on
    // every Linux this project targets, and on failure `now` stays zero.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    let cpu = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
    LAST_READING.set(Some((cpu, Instant::now())));
    #[cfg(test)]
    CLOCK_READS.set(CLOCK_READS.get() + 1);
    cpu
}

/// Where an entry's CPU time starts: the thread's CPU clock, or, within `window` (the meter
/// uses [`REUSE_WITHIN`]) of its last reading, that reading plus the wall time since (which the
/// CPU clock cannot have exceeded).
fn entry_start(window: Duration) -> Duration {
    if let Some((cpu, at)) = LAST_READING.get() {
        let since = at.elapsed();
        if since < window {
            return cpu + since;
        }
    }
    thread_cpu_time()
}

#[cfg(test)]
thread_local! {
    /// How many times the calling thread read its CPU clock.
    static CLOCK_READS: Cell<u64> = const { Cell::new(0) };
}

// === impl CountingAllocator ===

/// The runtime's allocator: the C allocator, and [`pages`] for the engine's arenas, with an
/// exact count of live bytes and a limit.
pub(crate) struct CountingAllocator {
    meter: Rc<Meter>,
}

impl CountingAllocator {
    pub(crate) fn new(meter: Rc<Meter>) -> Self {
        CountingAllocator { meter }
    }

    fn admit(&self, extra: usize) -> bool {
        let limit = self.meter.memory_limit.get();
        if limit != 0 && self.meter.memory_used.get().saturating_add(extra) > limit {
            self.meter.memory_exceeded.set(true);
            return false;
        }
        true
    }

    fn count_in(&self, size: usize) {
        self.meter
            .memory_used
            .set(self.meter.memory_used.get() + size);
    }

    fn count_out(&self, size: usize) {
        self.meter
            .memory_used
            .set(self.meter.memory_used.get().saturating_sub(size));
    }

    /// Counts in a block the C allocator just returned (`null` counts nothing).
    fn count_in_c(&self, ptr: *mut u8) -> *mut u8 {
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by the C allocator.
            self.count_in(unsafe { libc::malloc_usable_size(ptr.cast()) });
        }
        ptr
    }
}

/// Whether a request of `size` bytes is served by a page.
fn wants_page(size: usize) -> bool {
    size > pages::MIN_REQUEST && size <= pages::PAGE
}

/// The usable size of a live block of [`CountingAllocator`].
///
/// # Safety
/// `ptr` is a live allocation of [`CountingAllocator`].
unsafe fn usable(ptr: *mut u8) -> usize {
    if pages::owner(ptr).is_some() {
        return pages::PAGE;
    }
    // SAFETY: not a page, so a live block of the C allocator.
    unsafe { libc::malloc_usable_size(ptr.cast()) }
}

// SAFETY: every pointer comes from the C allocator, whose `malloc` returns memory aligned for
// any type (so for `usize`), or is a page (4 KiB-aligned); `usable_size` answers for both.
unsafe impl Allocator for CountingAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if wants_page(size) {
            // A page is counted whole.
            if !self.admit(pages::PAGE) {
                return std::ptr::null_mut();
            }
            if let Some(page) = pages::global().and_then(pages::Pages::alloc) {
                self.count_in(pages::PAGE);
                return page;
            }
        } else if !self.admit(size) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation.
        self.count_in_c(unsafe { libc::malloc(size) }.cast::<u8>())
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !self.admit(count.saturating_mul(size)) {
            return std::ptr::null_mut();
        }
        // SAFETY: plain C allocation.
        self.count_in_c(unsafe { libc::calloc(count, size) }.cast::<u8>())
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        if let Some(pages) = pages::owner(ptr) {
            self.count_out(pages::PAGE);
            // SAFETY: the caller guarantees `ptr` is this allocator's and no longer used.
            unsafe { pages.free(ptr) };
        } else if !ptr.is_null() {
            // SAFETY: the caller guarantees `ptr` came from this allocator: not a page, so C.
            unsafe {
                self.count_out(libc::malloc_usable_size(ptr.cast()));
                libc::free(ptr.cast());
            }
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if let Some(pages) = pages::owner(ptr) {
            if wants_page(new_size) {
                return ptr;
            }
            // The block leaves its page for the C allocator.
            if new_size > pages::PAGE && !self.admit(new_size - pages::PAGE) {
                return std::ptr::null_mut();
            }
            // SAFETY: plain C allocation.
            let new = self.count_in_c(unsafe { libc::malloc(new_size) }.cast::<u8>());
            if new.is_null() {
                return new;
            }
            // SAFETY: both blocks hold at least the bytes copied, and are distinct; the page
            // is not used after it is freed.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, new_size.min(pages::PAGE));
                pages.free(ptr);
            }
            self.count_out(pages::PAGE);
            return new;
        }
        let old_size = if ptr.is_null() {
            0
        } else {
            // SAFETY: the caller guarantees `ptr` is a live allocation of this allocator, and
            // it is not a page.
            unsafe { libc::malloc_usable_size(ptr.cast()) }
        };
        if new_size > old_size && !self.admit(new_size - old_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure the old block stays valid and counted.
        let new = unsafe { libc::realloc(ptr.cast(), new_size) }.cast::<u8>();
        if !new.is_null() {
            self.count_out(old_size);
            self.count_in_c(new);
        }
        new
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller guarantees `ptr` is a live allocation of this allocator.
        unsafe { usable(ptr) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spins until the thread has used `cpu` more CPU time.
    fn burn(cpu: Duration) {
        let start = thread_cpu_time();
        let mut x = 0u64;
        while thread_cpu_time() - start < cpu {
            for i in 0..1000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
            }
        }
    }

    #[test]
    fn an_entry_just_after_a_reading_starts_from_it_without_reading_the_clock() {
        let before = thread_cpu_time();
        let (_, read_at) = LAST_READING.get().expect("a reading");
        let reads = CLOCK_READS.get();
        let start = entry_start(Duration::from_secs(3600));
        let after = Instant::now();
        assert_eq!(CLOCK_READS.get(), reads, "the clock was not read");
        assert!(start >= before, "never before the last reading");
        assert!(
            start <= before + (after - read_at),
            "at most the wall time since the reading later"
        );

        let start = entry_start(Duration::ZERO);
        assert_eq!(
            CLOCK_READS.get(),
            reads + 1,
            "past the window, the clock is read"
        );
        assert!(start >= before);
    }

    #[test]
    fn entries_back_to_back_are_charged_their_cpu_time_within_the_window() {
        let meter = Meter::default();
        let before = thread_cpu_time();
        for _ in 0..3 {
            meter.begin_entry();
            burn(Duration::from_millis(2));
            meter.end_entry();
        }
        let after = thread_cpu_time();
        let charged = meter.cpu_used();
        assert!(charged <= after - before, "never more than the thread used");
        // Each entry used at least 2 ms and is charged at most REUSE_WITHIN less.
        assert!(
            charged + 3 * REUSE_WITHIN >= Duration::from_millis(6),
            "charged {charged:?}"
        );
    }

    #[test]
    fn the_engine_s_arenas_get_pages_and_every_byte_is_counted() {
        let meter = Rc::new(Meter::default());
        let mut allocator = CountingAllocator::new(meter.clone());
        let arena = allocator.alloc(4072);
        assert!(
            pages::owner(arena).is_some(),
            "an arena's request gets a page"
        );
        assert_eq!(meter.memory_used.get(), pages::PAGE);
        let small = allocator.alloc(100);
        assert!(pages::owner(small).is_none());
        // SAFETY: `small` is a live block of this allocator.
        let small_size = unsafe { usable(small) };
        assert_eq!(meter.memory_used.get(), pages::PAGE + small_size);

        // SAFETY: `arena` is live and 4072 bytes long; each realloc returns the live block.
        unsafe {
            arena.write_bytes(9, 4072);
            let same = allocator.realloc(arena, 3700);
            assert_eq!(same, arena, "a block that still wants a page keeps it");
            let moved = allocator.realloc(same, 10_000);
            assert!(pages::owner(moved).is_none());
            assert!(
                std::slice::from_raw_parts(moved, 3700)
                    .iter()
                    .all(|&b| b == 9)
            );
            assert_eq!(meter.memory_used.get(), usable(moved) + small_size);
            allocator.dealloc(moved);
            allocator.dealloc(small);
        }
        assert_eq!(meter.memory_used.get(), 0);
    }

    #[test]
    fn a_page_is_refused_past_the_limit() {
        let meter = Rc::new(Meter::default());
        // Room for the 4,000 bytes asked for, not for the page that would hold them.
        meter.memory_limit.set(4050);
        let mut allocator = CountingAllocator::new(meter.clone());
        assert!(allocator.alloc(4000).is_null());
        assert!(meter.memory_exceeded.get());
        assert_eq!(meter.memory_used.get(), 0);
    }
}
