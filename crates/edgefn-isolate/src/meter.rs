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
//! - Memory: every allocation of the runtime goes through [`CountingAllocator`] (to mimalloc,
//!   shared by the thread's isolates), which keeps an exact byte count (cheap to read, unlike
//!   QuickJS's heap walk) and refuses allocations past the limit. QuickJS then throws "out of
//!   memory", which JavaScript could catch; the refusal is remembered, and the isolate is
//!   stopped when the entry ends or at the next interrupt.
//! - A deadline: the interrupt handler also stops JavaScript that runs past a wall-clock instant
//!   set by the owner of the isolate.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::allocator::Allocator;

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
    /// How many blocks of the sizes QuickJS's arenas ask for [`CountingAllocator`] was asked
    /// for on the calling thread.
    static ARENA_SIZED_REQUESTS: Cell<u64> = const { Cell::new(0) };
}

/// The sizes QuickJS's arenas (when it is built with them) ask for: 4 KiB less the arena's
/// header, down to seven blocks of 512 bytes.
#[cfg(test)]
const ARENA_SIZES: std::ops::RangeInclusive<usize> = 3584..=4096;

/// The heap of the runtime's blocks: mimalloc, shared by every isolate of the thread. QuickJS
/// is built without its own arenas (`.cargo/config.toml`), which gave each runtime 4 KiB pages
/// of 31 size classes, partly empty, about 55 KiB per isolate; here the partly filled pages of
/// a size class are shared by the thread's isolates.
///
/// Every block is counted by its usable size, which mimalloc 3's `mi_umalloc` family returns
/// with the operation: looking it up apart (`mi_usable_size`) for each block allocated and
/// freed took 6% of the CPU of a JSON round trip, which allocates a block for every value.
pub(crate) mod c_heap {
    use std::ffi::c_void;
    use std::sync::Once;

    use libmimalloc_sys as mi;

    // mimalloc 3's functions that also give a block's usable size (`mimalloc.h`; libmimalloc-sys
    // builds mimalloc 3 by default, and has no bindings for them).
    unsafe extern "C" {
        fn mi_umalloc(size: usize, block_size: *mut usize) -> *mut c_void;
        fn mi_ucalloc(count: usize, size: usize, block_size: *mut usize) -> *mut c_void;
        fn mi_urealloc(
            ptr: *mut c_void,
            size: usize,
            block_size_pre: *mut usize,
            block_size_post: *mut usize,
        ) -> *mut c_void;
        fn mi_ufree(ptr: *mut c_void, block_size: *mut usize);
    }

    /// `mi_option_arena_eager_commit` (mimalloc 3's `mimalloc.h`; the crate has no constant
    /// for it): with it on, a new 1 GiB arena is committed whole, and its first touches, in
    /// transparent huge pages, stalled a cold start for 6 ms now and then (p99).
    const ARENA_EAGER_COMMIT: mi::mi_option_t = 4;

    /// `mi_option_allow_thp` (as above): with it on, mimalloc asks for transparent huge pages
    /// (`MADV_HUGEPAGE`) on the memory it maps, which is then resident 2 MiB at a time, ahead of
    /// use. (The `edgefn` binary also turns them off for the whole process: `main.rs`.)
    const ALLOW_THP: mi::mi_option_t = 43;

    /// Sets mimalloc's options, once. They apply to the arenas reserved after, so the
    /// `edgefn` binary, whose global allocator is mimalloc too, calls this from `.init_array`
    /// (through [`crate::configure_heap`]), before its first arena is reserved.
    pub(crate) fn configure() {
        static CONFIGURE: Once = Once::new();
        // SAFETY: setting an option has no precondition.
        CONFIGURE.call_once(|| unsafe {
            mi::mi_option_set(ARENA_EAGER_COMMIT, 0);
            mi::mi_option_set(ALLOW_THP, 0);
        });
    }

    /// A new block of at least `size` bytes (null if there is no memory), and its usable size.
    pub(super) fn malloc(size: usize) -> (*mut c_void, usize) {
        let mut usable = 0;
        // SAFETY: `usable` is a valid place for the size.
        let ptr = unsafe { mi_umalloc(size, &mut usable) };
        (ptr, usable)
    }

    /// As [`malloc`], zeroed, for `count` values of `size` bytes.
    pub(super) fn calloc(count: usize, size: usize) -> (*mut c_void, usize) {
        let mut usable = 0;
        // SAFETY: `usable` is a valid place for the size.
        let ptr = unsafe { mi_ucalloc(count, size, &mut usable) };
        (ptr, usable)
    }

    /// The block `ptr` resized to at least `size` bytes, with the usable sizes of the old block
    /// and of the new; null if there is no memory, with `ptr` still valid.
    ///
    /// # Safety
    /// `ptr` is null or a live block of this heap, not used after unless null is returned.
    pub(super) unsafe fn realloc(ptr: *mut c_void, size: usize) -> (*mut c_void, usize, usize) {
        let (mut before, mut after) = (0, 0);
        // SAFETY: as the caller's; the sizes have valid places.
        let new = unsafe { mi_urealloc(ptr, size, &mut before, &mut after) };
        (new, before, after)
    }

    /// Frees `ptr` and returns its usable size.
    ///
    /// # Safety
    /// `ptr` is a live block of this heap, not used after.
    pub(super) unsafe fn free(ptr: *mut c_void) -> usize {
        let mut usable = 0;
        // SAFETY: as the caller's; the size has a valid place.
        unsafe { mi_ufree(ptr, &mut usable) };
        usable
    }

    /// # Safety
    /// `ptr` is a live block of this heap.
    pub(super) unsafe fn usable_size(ptr: *const c_void) -> usize {
        // SAFETY: as the caller's.
        unsafe { mi::mi_usable_size(ptr) }
    }
}

// === impl CountingAllocator ===

/// The runtime's allocator: [`c_heap`], with an exact count of live bytes and a limit.
pub(crate) struct CountingAllocator {
    meter: Rc<Meter>,
}

impl CountingAllocator {
    pub(crate) fn new(meter: Rc<Meter>) -> Self {
        c_heap::configure();
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

    /// Counts in a block [`c_heap`] just returned with its usable size (null counts nothing).
    fn count_in_heap(&self, (ptr, usable): (*mut std::ffi::c_void, usize)) -> *mut u8 {
        if !ptr.is_null() {
            self.count_in(usable);
        }
        ptr.cast()
    }
}

// SAFETY: every pointer comes from mimalloc, whose `mi_malloc` returns memory aligned for any
// type of its size (so for `usize`), and `mi_usable_size` answers for it.
unsafe impl Allocator for CountingAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        #[cfg(test)]
        if ARENA_SIZES.contains(&size) {
            ARENA_SIZED_REQUESTS.set(ARENA_SIZED_REQUESTS.get() + 1);
        }
        if !self.admit(size) {
            return std::ptr::null_mut();
        }
        self.count_in_heap(c_heap::malloc(size))
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        if !self.admit(count.saturating_mul(size)) {
            return std::ptr::null_mut();
        }
        self.count_in_heap(c_heap::calloc(count, size))
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        if !ptr.is_null() {
            // SAFETY: the caller guarantees `ptr` is a live block of this allocator, not used
            // after.
            self.count_out(unsafe { c_heap::free(ptr.cast()) });
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        let old_size = if ptr.is_null() {
            0
        } else {
            // SAFETY: the caller guarantees `ptr` is a live allocation of this allocator.
            unsafe { c_heap::usable_size(ptr.cast()) }
        };
        if new_size > old_size && !self.admit(new_size - old_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure the old block stays valid and counted.
        let (new, before, after) = unsafe { c_heap::realloc(ptr.cast(), new_size) };
        if !new.is_null() {
            // Out with the size the block was counted in with, as `mi_ufree` reports it.
            self.count_out(before);
            self.count_in(after);
        }
        new.cast()
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller guarantees `ptr` is a live allocation of this allocator.
        unsafe { c_heap::usable_size(ptr.cast()) }
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
    fn every_byte_is_counted_and_given_back() {
        let meter = Rc::new(Meter::default());
        let mut allocator = CountingAllocator::new(meter.clone());
        let small = allocator.alloc(100);
        // SAFETY: `small` is a live block of this allocator.
        let small_size = unsafe { CountingAllocator::usable_size(small) };
        assert!(small_size >= 100);
        assert_eq!(meter.memory_used.get(), small_size);
        // SAFETY: `small` is live and 100 bytes long; realloc returns the live block.
        unsafe {
            small.write_bytes(9, 100);
            let grown = allocator.realloc(small, 10_000);
            assert!(
                std::slice::from_raw_parts(grown, 100)
                    .iter()
                    .all(|&b| b == 9)
            );
            assert_eq!(
                meter.memory_used.get(),
                CountingAllocator::usable_size(grown)
            );
            allocator.dealloc(grown);
        }
        assert_eq!(meter.memory_used.get(), 0);
    }

    #[test]
    fn a_block_is_refused_past_the_limit() {
        let meter = Rc::new(Meter::default());
        meter.memory_limit.set(4000);
        let mut allocator = CountingAllocator::new(meter.clone());
        let kept = allocator.alloc(3000);
        assert!(!kept.is_null());
        assert!(allocator.alloc(2000).is_null());
        assert!(meter.memory_exceeded.get());
        // SAFETY: `kept` is a live block of this allocator.
        unsafe {
            assert_eq!(
                meter.memory_used.get(),
                CountingAllocator::usable_size(kept)
            );
            allocator.dealloc(kept);
        }
        assert_eq!(meter.memory_used.get(), 0);
    }

    #[test]
    fn quickjs_gives_its_small_blocks_to_the_heap_not_to_arenas_of_its_own() {
        // Built with its arenas (without the define in .cargo/config.toml), QuickJS asks for a
        // block of about 4 KiB for each of the size classes it uses and for each 4 KiB of small
        // blocks: a context and two thousand small objects take more than a hundred.
        let meter = Rc::new(Meter::default());
        let before = ARENA_SIZED_REQUESTS.get();
        let runtime = rquickjs::Runtime::new_with_alloc(CountingAllocator::new(meter.clone()))
            .expect("a runtime");
        let context = rquickjs::Context::full(&runtime).expect("a context");
        context.with(|ctx| {
            ctx.eval::<(), _>(
                "globalThis.kept = Array.from({ length: 2000 }, (_, i) => ({ i, s: 'x' + i }));",
            )
            .expect("the script runs");
        });
        let arenas = ARENA_SIZED_REQUESTS.get() - before;
        assert!(arenas < 4, "{arenas} arenas: QuickJS was built with them");
        assert!(
            meter.memory_used.get() > 2000 * 32,
            "the objects are counted: {} bytes",
            meter.memory_used.get()
        );
    }
}
