//! The pages of the engine's heap arenas.
//!
//! QuickJS-NG carves its small objects out of arenas of about 4 KiB, which it asks its
//! allocator for one at a time (a prepared isolate holds about 120). Served by the C allocator
//! on a user-worker thread, every one of them grew that thread's malloc heap by one page with
//! an `mprotect` call (glibc grows a thread's heap by exactly what it needs): about 110 system
//! calls per isolate made, and 10% of the CPU time of a cold start. [`Pages`] serves those
//! requests instead, from one range of address space reserved at the first request (no memory,
//! just addresses), made usable 1 MiB at a time. A freed page is kept for the next request;
//! past [`KEEP_RESIDENT`] kept pages, the kernel takes back the memory of the last
//! [`RELEASE_BATCH`] freed (`MADV_DONTNEED`, one call for each run of adjacent pages: every
//! call interrupts the other cores to flush their TLBs, which made dropping thousands of
//! isolates, at shutdown say, take seconds), and their addresses are kept. When the range is
//! used up, or cannot be reserved, the allocator serves those requests from the C allocator as
//! before.
//!
//! A page handed out for the first time costs a page fault when first written; the 120 or so
//! of an isolate are a fifth of the CPU time of preparing it. A background thread,
//! `edgefn-pages`, started with the range, which runs only when a core would otherwise be idle
//! (`SCHED_IDLE`, on any core), keeps 2 to 4 MiB ([`POPULATE_AHEAD`]) of never-used pages
//! faulted in: it takes a few from the range as an allocation would, writes to each, and puts
//! them where allocations look before never-used and returned pages. It never holds the lock
//! across a system call (allocations make the range usable ahead of it), so a thread that gets
//! no CPU for a while delays nobody. (`MADV_POPULATE_WRITE` holds the process's address-space
//! lock across pages: starved at idle priority, it stalled other threads' `mprotect` calls.)
//!
//! A page belongs to the process, not to a thread or an isolate: any thread may free one.

use std::sync::{Condvar, Mutex, MutexGuard, Once, OnceLock};

/// Size of a page, and of the largest request served here.
pub(crate) const PAGE: usize = 4096;

/// Requests above this size (and up to [`PAGE`]) are served here. QuickJS's arenas ask for
/// 3,624 bytes (seven blocks of 512) to 4,088; other blocks of this size waste at most 12%.
pub(crate) const MIN_REQUEST: usize = 3584;

/// Freed pages kept with their memory (16 MiB); past it, freed pages' memory is returned.
const KEEP_RESIDENT: usize = 4096;

/// Freed pages past [`KEEP_RESIDENT`] whose memory is returned together (1 MiB).
const RELEASE_BATCH: usize = 256;

/// Address space reserved for pages, and the smaller one tried if that fails.
const RESERVE: [usize; 2] = [1 << 40, 1 << 34];

/// The reserved range is made readable and writable in steps of this size.
const COMMIT_STEP: usize = 1 << 20;

/// Never-used pages kept faulted in, at most (4 MiB: about eight prepared isolates' worth);
/// below half of it, the populating thread is woken to fill up again.
const POPULATE_AHEAD: usize = 1 << 22;

/// The background thread takes this many pages at a time.
const POPULATE_BATCH: usize = 16;

/// How a range grows and gives memory back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Bytes made readable and writable at a time ([`COMMIT_STEP`]).
    pub(crate) commit_step: usize,
    /// Freed pages kept with their memory ([`KEEP_RESIDENT`]).
    pub(crate) keep_resident: usize,
    /// Freed pages past those whose memory is returned together ([`RELEASE_BATCH`]).
    pub(crate) release_batch: usize,
    /// Bytes of never-used pages kept faulted in ([`POPULATE_AHEAD`]); 0 turns it off.
    pub(crate) populate_ahead: usize,
}

/// The process's range.
const PROCESS: Tuning = Tuning {
    commit_step: COMMIT_STEP,
    keep_resident: KEEP_RESIDENT,
    release_batch: RELEASE_BATCH,
    populate_ahead: POPULATE_AHEAD,
};

/// A reserved range of address space handing out pages.
pub(crate) struct Pages {
    start: usize,
    len: usize,
    tuning: Tuning,
    state: Mutex<State>,
    /// Wakes the thread that populates pages ahead, when `State::wanted` is set.
    populate: Condvar,
}

#[derive(Default)]
struct State {
    /// Offset of the first page never handed out.
    next: usize,
    /// Offset up to which the range is readable and writable.
    committed: usize,
    /// Freed pages whose memory is still there.
    resident: Vec<usize>,
    /// Freed pages whose memory was returned to the kernel.
    released: Vec<usize>,
    /// One bit per page up to `next`: handed out and not freed since. A page freed twice
    /// would otherwise be handed to two owners (two isolates, maybe two tenants).
    in_use: Vec<u64>,
    /// Making more of the range usable failed once (strict overcommit, say): no more tries.
    full: bool,
    /// Never-used pages faulted in ahead, handed out before fresh ones.
    populated: Vec<usize>,
    /// Pages the populating thread has taken and not yet put in `populated`.
    populating: usize,
    /// The populating thread was asked to fill up to [`Tuning::populate_ahead`] again.
    wanted: bool,
}

impl State {
    /// Makes the range readable and writable up to at least `offset` (or its end), one step
    /// at a time; `false` (and `full` set) when the kernel refuses.
    fn commit(&mut self, pages: &Pages, offset: usize) -> bool {
        while self.committed < offset.min(pages.len) {
            if self.full {
                return false;
            }
            let step = pages.tuning.commit_step.min(pages.len - self.committed);
            // SAFETY: [committed, committed + step) lies inside the reservation.
            let made = unsafe {
                libc::mprotect(
                    (pages.start + self.committed) as *mut libc::c_void,
                    step,
                    libc::PROT_READ | libc::PROT_WRITE,
                )
            };
            if made != 0 {
                self.full = true;
                return false;
            }
            self.committed += step;
        }
        true
    }

    /// The first page never handed out, made usable; `None` when the range is used up.
    fn take_fresh(&mut self, pages: &Pages) -> Option<usize> {
        self.commit(pages, self.next + PAGE);
        self.take_committed()
    }

    /// The first page never handed out if it is usable already (no system call).
    fn take_committed(&mut self) -> Option<usize> {
        let end = self.next + PAGE;
        (end <= self.committed).then(|| {
            self.next = end;
            end - PAGE
        })
    }

    /// Whether never-used pages are left, or could be made usable.
    fn can_grow(&self, pages: &Pages) -> bool {
        let end = self.next + PAGE;
        end <= pages.len && (end <= self.committed || !self.full)
    }

    /// Marks the page at `offset` handed out (`true`) or free; returns its previous mark.
    fn mark(&mut self, offset: usize, in_use: bool) -> bool {
        let index = offset / PAGE;
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if word >= self.in_use.len() {
            self.in_use.resize(word + 1, 0);
        }
        let was = self.in_use[word] & bit != 0;
        if in_use {
            self.in_use[word] |= bit;
        } else {
            self.in_use[word] &= !bit;
        }
        was
    }
}

static GLOBAL: OnceLock<Option<Pages>> = OnceLock::new();

/// The process's pages, reserved at the first call, which also starts the thread that
/// populates them ahead; `None` when no range could be reserved.
pub(crate) fn global() -> Option<&'static Pages> {
    static POPULATING: Once = Once::new();
    let pages = GLOBAL
        .get_or_init(|| RESERVE.iter().find_map(|&len| Pages::reserve(len, PROCESS)))
        .as_ref()?;
    POPULATING.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("edgefn-pages".into())
            .spawn(move || {
                run_on_any_core();
                // Priority 0 is the only one SCHED_IDLE takes. If the policy cannot be set,
                // the thread runs at the normal priority.
                let param = libc::sched_param { sched_priority: 0 };
                // SAFETY: changes the calling thread's own scheduling policy; `param` is a
                // valid sched_param that outlives the call.
                unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
                pages.populate_forever();
            });
        if spawned.is_err() {
            tracing::debug!("no thread to fault pages in ahead; they are faulted in when used");
        }
    });
    Some(pages)
}

/// Lets the calling thread run on the cores of the process's first thread. A thread inherits
/// the CPU affinity of the thread that made it: the first page is asked for by a user-worker
/// thread, which is pinned to one core (`pool.pin_threads`).
fn run_on_any_core() {
    // SAFETY: a zeroed cpu_set_t is an empty set; both calls get its true size, and the first
    // thread's id is the process id.
    unsafe {
        let mut cores: libc::cpu_set_t = std::mem::zeroed();
        let size = std::mem::size_of::<libc::cpu_set_t>();
        if libc::sched_getaffinity(libc::getpid(), size, &mut cores) == 0 {
            libc::sched_setaffinity(0, size, &cores);
        }
    }
}

/// The process's pages when `ptr` is one of them. Cheap (no lock), and reserves nothing:
/// before the first [`global`] call there is no page.
pub(crate) fn owner(ptr: *mut u8) -> Option<&'static Pages> {
    GLOBAL
        .get()
        .and_then(Option::as_ref)
        .filter(|pages| pages.contains(ptr))
}

impl Pages {
    /// Reserves `len` bytes of address space (no memory); `None` when the kernel refuses.
    pub(crate) fn reserve(len: usize, tuning: Tuning) -> Option<Pages> {
        // SAFETY: a fresh private anonymous mapping at an address of the kernel's choosing;
        // nothing else refers to it.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return None;
        }
        // Small pages even where transparent huge pages are on for every mapping: a 2 MiB page
        // is cleared at its first touch (a cold start's p99 went from 2.5 to 7 ms with them),
        // and it stays resident whole for a few arenas. Advice only: a kernel without it is
        // no worse off.
        // SAFETY: advice on the mapping just made; it changes no contents.
        unsafe { libc::madvise(start, len, libc::MADV_NOHUGEPAGE) };
        Some(Pages {
            start: start as usize,
            len,
            tuning,
            state: Mutex::new(State::default()),
            populate: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `ptr` points into this range.
    pub(crate) fn contains(&self, ptr: *mut u8) -> bool {
        (ptr as usize).wrapping_sub(self.start) < self.len
    }

    /// A page, readable and writable, with whatever a previous user left in it; `None` when
    /// the range is used up.
    pub(crate) fn alloc(&self) -> Option<*mut u8> {
        let mut state = self.lock();
        let offset = match state.resident.pop() {
            Some(offset) => offset,
            None => {
                let offset = match state.populated.pop().or_else(|| state.released.pop()) {
                    Some(offset) => offset,
                    None => state.take_fresh(self)?,
                };
                self.keep_populating(&mut state);
                offset
            }
        };
        state.mark(offset, true);
        Some((self.start + offset) as *mut u8)
    }

    /// After a page left the populated, returned or never-used ones: keeps the range usable
    /// ahead of the populating thread, and wakes it when fewer than half of
    /// [`Tuning::populate_ahead`] are waiting and more can be made.
    fn keep_populating(&self, state: &mut State) {
        let ahead = self.tuning.populate_ahead;
        if ahead == 0 {
            return;
        }
        // The populating thread takes only usable pages, so that it makes no system call with
        // the lock held: the range is made usable ahead of it.
        if state.committed < state.next + ahead {
            let one_more_step = state.committed + PAGE;
            state.commit(self, one_more_step);
        }
        if !state.wanted
            && (state.populated.len() + state.populating) * PAGE < ahead / 2
            && state.can_grow(self)
        {
            state.wanted = true;
            self.populate.notify_one();
        }
    }

    /// Takes a page back. A pointer that is not a page handed out (freed twice, say) aborts
    /// the process, as the C allocator does: going on would hand the page to two owners.
    ///
    /// # Safety
    /// `page` came from [`Pages::alloc`] of this range and is not used after this call.
    pub(crate) unsafe fn free(&self, page: *mut u8) {
        let offset = page as usize - self.start;
        let mut state = self.lock();
        if !offset.is_multiple_of(PAGE) || offset >= state.next || !state.mark(offset, false) {
            drop(state);
            eprintln!("edgefn: free of a page that is not in use ({page:p}); aborting");
            std::process::abort();
        }
        state.resident.push(offset);
        let Tuning {
            keep_resident,
            release_batch,
            ..
        } = self.tuning;
        if state.resident.len() < keep_resident + release_batch.max(1) {
            return;
        }
        // The pages freed last go back to the kernel, outside the lock (each call flushes the
        // other cores' TLBs); they are handed out again only once that is done.
        let mut batch = state.resident.split_off(keep_resident);
        drop(state);
        batch.sort_unstable();
        for run in batch.chunk_by(|a, b| b - a == PAGE) {
            // SAFETY: the pages of `run` are adjacent, ours and unused; their memory reads as
            // zeros when next touched.
            unsafe {
                libc::madvise(
                    (self.start + run[0]) as *mut libc::c_void,
                    run.len() * PAGE,
                    libc::MADV_DONTNEED,
                )
            };
        }
        self.lock().released.append(&mut batch);
    }

    /// The populating thread's loop: fills up each time an allocation asks for it.
    fn populate_forever(&self) {
        loop {
            let mut state = self.lock();
            while !state.wanted {
                state = self.populate.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            state.wanted = false;
            drop(state);
            self.populate_ahead_now();
        }
    }

    /// Faults in never-used pages until [`Tuning::populate_ahead`] of them wait for an
    /// allocation, or no usable page is left.
    fn populate_ahead_now(&self) {
        let mut batch = Vec::with_capacity(POPULATE_BATCH);
        loop {
            {
                let mut state = self.lock();
                state.populating -= batch.len();
                state.populated.append(&mut batch);
                while (state.populated.len() + state.populating + batch.len()) * PAGE
                    < self.tuning.populate_ahead
                    && batch.len() < POPULATE_BATCH
                {
                    match state.take_committed() {
                        Some(offset) => batch.push(offset),
                        None => break,
                    }
                }
                if batch.is_empty() {
                    return;
                }
                state.populating += batch.len();
            }
            for &offset in &batch {
                // SAFETY: the page was just taken from the range, so it is this thread's alone
                // (nobody else can reach it until it is in `populated`), usable, and zero: it
                // stays zero.
                unsafe { ((self.start + offset) as *mut u8).write_volatile(0) };
            }
        }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: the reservation is this value's own; whoever held its pages is gone with it
        // (the process's pages live in a static and are never dropped).
        unsafe { libc::munmap(self.start as *mut libc::c_void, self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuning(
        commit_step: usize,
        keep_resident: usize,
        release_batch: usize,
        populate_ahead: usize,
    ) -> Tuning {
        Tuning {
            commit_step,
            keep_resident,
            release_batch,
            populate_ahead,
        }
    }

    #[test]
    fn pages_are_handed_out_reused_and_returned() {
        let pages = Pages::reserve(8 * PAGE, tuning(2 * PAGE, 1, 1, 0)).expect("a reservation");
        let first = pages.alloc().expect("a page");
        assert!(pages.contains(first));
        assert!(!pages.contains(std::ptr::null_mut()));
        assert!(!pages.contains((first as usize + 8 * PAGE) as *mut u8));
        // SAFETY: the page is ours, readable and writable.
        unsafe { first.write_bytes(7, PAGE) };
        let second = pages.alloc().expect("a page");
        let third = pages.alloc().expect("a page past the first committed step");
        assert_eq!(second as usize, first as usize + PAGE);
        assert_eq!(third as usize, first as usize + 2 * PAGE);
        // SAFETY: writable, as every handed-out page.
        unsafe { third.write_bytes(1, PAGE) };

        // One freed page keeps its memory; the next one is returned to the kernel.
        // SAFETY: both came from `alloc` and are not used again.
        unsafe {
            pages.free(first);
            pages.free(third);
        }
        let again = pages.alloc().expect("a kept page");
        assert_eq!(again, first);
        // SAFETY: a handed-out page.
        let last = unsafe { *again.add(PAGE - 1) };
        assert_eq!(last, 7, "a kept page keeps its memory");
        let returned = pages.alloc().expect("a returned page");
        assert_eq!(returned, third);
        // SAFETY: a handed-out page.
        let bytes = unsafe { std::slice::from_raw_parts(returned, PAGE) };
        assert!(
            bytes.iter().all(|&b| b == 0),
            "a returned page comes back empty"
        );
    }

    #[test]
    fn a_page_freed_twice_is_noticed() {
        let mut state = State::default();
        assert!(!state.mark(70 * PAGE, true), "handed out");
        assert!(
            state.mark(70 * PAGE, false),
            "the first free finds it in use"
        );
        assert!(
            !state.mark(70 * PAGE, false),
            "the second does not: `free` aborts"
        );
        assert!(
            !state.mark(69 * PAGE, false),
            "nor a free of a page never handed out"
        );
    }

    #[test]
    fn a_used_up_range_hands_out_nothing() {
        let pages = Pages::reserve(3 * PAGE, tuning(2 * PAGE, 4, 1, 0)).expect("a reservation");
        let taken: Vec<_> = (0..3).map(|_| pages.alloc().expect("a page")).collect();
        assert!(pages.alloc().is_none());
        // SAFETY: came from `alloc`, not used again.
        unsafe { pages.free(taken[1]) };
        assert_eq!(pages.alloc(), Some(taken[1]));
    }

    /// Which of the first `count` pages of `pages` are in memory.
    fn resident(pages: &Pages, count: usize) -> Vec<bool> {
        let mut vec = vec![0u8; count];
        // SAFETY: the range is mapped (reserved), and `vec` has one byte per page.
        let done = unsafe {
            libc::mincore(
                pages.start as *mut libc::c_void,
                count * PAGE,
                vec.as_mut_ptr(),
            )
        };
        assert_eq!(done, 0, "mincore: {}", std::io::Error::last_os_error());
        vec.iter().map(|b| b & 1 == 1).collect()
    }

    #[test]
    fn pages_ahead_are_faulted_in_and_handed_out_first() {
        let pages =
            Pages::reserve(64 * PAGE, tuning(32 * PAGE, 4, 1, 16 * PAGE)).expect("a reservation");
        assert!(!pages.lock().wanted);
        let first = pages.alloc().expect("a page");
        assert!(pages.lock().wanted, "a fresh page asks for pages ahead");
        pages.lock().wanted = false; // as the populating thread does when it wakes
        assert_eq!(resident(&pages, 3), [false, false, false]);
        // SAFETY: the page is ours, readable and writable.
        unsafe { first.write_bytes(7, PAGE) };

        pages.populate_ahead_now();
        let after = resident(&pages, 24);
        assert!(after[..=16].iter().all(|&r| r), "{after:?}");
        assert!(
            after[17..].iter().all(|&r| !r),
            "only as many as asked: {after:?}"
        );
        assert_eq!(pages.lock().populated.len(), 16);
        assert_eq!(pages.lock().populating, 0);

        let second = pages.alloc().expect("a page");
        assert!(pages.contains(second) && second != first);
        assert!(
            (second as usize - first as usize) / PAGE <= 16,
            "a populated page"
        );
        // SAFETY: a handed-out page.
        let fresh = unsafe { std::slice::from_raw_parts(second, PAGE) };
        assert!(fresh.iter().all(|&b| b == 0), "a populated page is empty");
        for _ in 0..7 {
            pages.alloc().expect("a page");
        }
        assert_eq!(pages.lock().populated.len(), 8);
        assert!(!pages.lock().wanted, "no new request while half are left");
        pages.alloc().expect("a page");
        assert!(pages.lock().wanted, "fewer than half left: a new request");
        // SAFETY: came from `alloc`, not used again.
        unsafe { pages.free(second) };
        assert_eq!(
            pages.alloc(),
            Some(second),
            "a freed page still comes first"
        );
    }

    #[test]
    fn populating_stops_where_the_usable_range_ends_and_loses_no_page() {
        let pages =
            Pages::reserve(20 * PAGE, tuning(8 * PAGE, 0, 1, 16 * PAGE)).expect("a reservation");
        let mut taken = vec![pages.alloc().expect("a page")];
        assert_eq!(
            pages.lock().committed,
            16 * PAGE,
            "an allocation makes the range usable one step ahead"
        );
        pages.populate_ahead_now();
        assert_eq!(
            pages.lock().populated.len(),
            15,
            "only pages already usable"
        );
        assert_eq!(pages.lock().next, 16 * PAGE);
        while let Some(page) = pages.alloc() {
            taken.push(page);
        }
        taken.sort();
        taken.dedup();
        assert_eq!(taken.len(), 20, "every page of the range, once");

        // Nothing can grow any more: a page taken again asks the populating thread for none.
        pages.lock().wanted = false;
        // SAFETY: came from `alloc`, not used again.
        unsafe { pages.free(taken[3]) };
        assert_eq!(pages.alloc(), Some(taken[3]));
        assert!(!pages.lock().wanted);
    }

    #[test]
    fn freed_pages_past_those_kept_are_returned_together() {
        let pages = Pages::reserve(16 * PAGE, tuning(16 * PAGE, 2, 4, 0)).expect("a reservation");
        let taken: Vec<_> = (0..8).map(|_| pages.alloc().expect("a page")).collect();
        for &page in &taken {
            // SAFETY: a handed-out page, readable and writable.
            unsafe { page.write_bytes(9, PAGE) };
        }
        assert!(resident(&pages, 8).iter().all(|&r| r));
        // Freed out of order: 5, 4, 0, 1, 2 are kept; the sixth free (3) makes six, and the
        // four freed last (0, 1, 2, 3) go back, in one call as they are adjacent.
        for index in [5, 4, 0, 1, 2] {
            // SAFETY: came from `alloc`, not used again.
            unsafe { pages.free(taken[index]) };
        }
        assert!(
            resident(&pages, 8).iter().all(|&r| r),
            "nothing returned yet"
        );
        // SAFETY: came from `alloc`, not used again.
        unsafe { pages.free(taken[3]) };
        assert_eq!(
            resident(&pages, 8),
            [false, false, false, false, true, true, true, true]
        );
        let state = pages.lock();
        assert_eq!(state.resident.len(), 2);
        assert_eq!(state.released.len(), 4);
        drop(state);

        // Kept pages come back first, with their contents; then returned ones, empty.
        let kept = [pages.alloc().unwrap(), pages.alloc().unwrap()];
        assert_eq!(kept, [taken[4], taken[5]]);
        // SAFETY: a handed-out page.
        assert_eq!(unsafe { *kept[0] }, 9);
        let returned = pages.alloc().expect("a returned page");
        assert!(taken[..4].contains(&returned));
        // SAFETY: a handed-out page.
        let bytes = unsafe { std::slice::from_raw_parts(returned, PAGE) };
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn the_range_asks_for_small_pages() {
        let pages = Pages::reserve(64 * PAGE, tuning(8 * PAGE, 0, 1, 0)).expect("a reservation");
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
        let header = format!("{:x}-", pages.start);
        let flags = smaps
            .lines()
            .skip_while(|line| !line.starts_with(&header))
            .find(|line| line.starts_with("VmFlags:"))
            .expect("the mapping and its flags");
        assert!(
            flags.split_whitespace().any(|flag| flag == "nh"),
            "no huge pages: {flags}"
        );
    }
}
