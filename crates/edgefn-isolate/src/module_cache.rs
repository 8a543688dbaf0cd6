//! The bytecode cache of user modules: a module file is compiled once, then every isolate that
//! loads it (another replica, a worker booted again after idle eviction, each request of a
//! `oneshot` function, the process after a restart) reads its bytecode instead.
//!
//! An entry is keyed by the SHA-256 of the engine's identity, the module's name (its canonical
//! path) and the file's bytes, so an edited file, a moved folder or another build of edgefn
//! simply misses. Two tiers:
//!
//! - **memory**: bytecode of this process, bounded in bytes (least recently used first out);
//! - **disk**: one file per entry under `<dir>/bytecode/`, written by a background thread at
//!   idle priority and pruned, oldest first, to a bound in bytes. It survives restarts. It keeps
//!   modules of at least [`DISK_MIN_SOURCE_BYTES`]: a smaller one compiles as fast as its file
//!   would be read.
//!
//! QuickJS does not check the bytecode it loads: bytecode from anywhere but this process must
//! be trusted, and the disk tier trusts only what this process's user could have written. The
//! directory must belong to that user and be closed to everyone else (it is created `0700`),
//! and so must each folder above it (or be owned by root, or sticky like `/tmp`); an entry file
//! is opened without following a symlink and must be a regular file of that user, closed to
//! others. A file carries its key and a SHA-256 of its payload, checked before the payload
//! reaches the engine: a torn, corrupted or misplaced file is deleted and the module compiled
//! again. The engine's identity in the key keeps bytecode of another engine build out.

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::SystemTime;

use rquickjs::module::Declared;
use rquickjs::{Context, Ctx, Module, Runtime, WriteOptions};
use sha2::{Digest, Sha256};

use crate::{bootstrap, modules};

/// Version of the file layout and of the loader's transformations (TypeScript, JSON); bumping
/// it invalidates every entry.
const FORMAT_VERSION: u32 = 2;

/// First bytes of an entry file.
const MAGIC: &[u8; 8] = b"edgefnbc";

/// Magic, format version, key, payload length, SHA-256 of the payload.
const HEADER_LEN: usize = 8 + 4 + 32 + 8 + 32;

/// A hash of the crate's `Cargo.lock` (the versions of the engine and of the TypeScript
/// transformer), from `build.rs`.
const DEPENDENCIES_HASH: &str = env!("EDGEFN_DEPENDENCIES_HASH");

/// Smallest module file the disk tier keeps. QuickJS compiles about 25 KB of source per
/// millisecond, and opening, reading and checking a file costs about as much as compiling
/// half a kilobyte, so a smaller module would gain nothing from the disk, and writing it costs
/// I/O while a burst of new functions boots.
const DISK_MIN_SOURCE_BYTES: usize = 1024;

/// Heap of the scratch runtime that compiles modules ahead of a boot: a module too large to
/// compile in it is compiled by the boot instead, under the function's own limit.
const COMPILE_AHEAD_MEMORY_BYTES: usize = 256 << 20;

/// Shards of the memory tier.
const MEMORY_SHARDS: usize = 4;

/// Jobs that may wait for the writer thread (each write holds a copy of its bytecode).
const PENDING_JOBS: usize = 256;

/// A temporary file older than this was left by a writer that died; pruning deletes it.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Folder of the entries under the cache directory.
const BYTECODE_DIR: &str = "bytecode";

type Key = [u8; 32];

/// How large each tier may grow; a tier of `0` bytes is off.
#[derive(Debug, Clone, Default)]
pub struct ModuleCacheOptions {
    /// Bytecode kept in memory, in bytes.
    pub memory_bytes: u64,
    /// The cache directory; entries go to its `bytecode` folder. `None`: no disk tier.
    pub dir: Option<PathBuf>,
    /// Bytecode kept on disk, in bytes.
    pub disk_bytes: u64,
}

/// Counts of a [`ModuleCache`], for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModuleCacheStats {
    /// Modules loaded from the memory tier.
    pub memory_hits: u64,
    /// Modules loaded from the disk tier.
    pub disk_hits: u64,
    /// Modules compiled from their source.
    pub compiled: u64,
    /// Disk entries found damaged (and deleted).
    pub rejected: u64,
    /// Bytecode held in memory, in bytes.
    pub memory_bytes: u64,
    /// Bytecode held on disk, in bytes.
    pub disk_bytes: u64,
}

/// A handle on the process's module cache; clones share it.
#[derive(Clone)]
pub struct ModuleCache {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ModuleCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModuleCache")
            .field("stats", &self.stats())
            .finish()
    }
}

struct Shared {
    /// SHA-256 of everything that decides how a source becomes bytecode.
    engine: Key,
    memory: Option<quick_cache::sync::Cache<Key, Arc<[u8]>, ByteWeighter>>,
    disk: Option<Disk>,
    memory_hits: AtomicU64,
    disk_hits: AtomicU64,
    compiled: AtomicU64,
    rejected: AtomicU64,
}

/// The disk tier: reads happen on the loading thread, writes on the `edgefn-cache` thread.
struct Disk {
    dir: PathBuf,
    jobs: mpsc::SyncSender<Job>,
    index: Arc<Mutex<Index>>,
}

/// The entries of the disk tier and their sizes, kept in memory: a loading thread opens a file
/// only for a listed entry, so a module never seen before costs no file-system call (which
/// could wait on the directory while the writer, at idle priority, creates a file in it).
#[derive(Default)]
struct Index {
    files: HashMap<Key, u64>,
    bytes: u64,
}

impl Index {
    fn insert(&mut self, key: Key, len: u64) {
        if let Some(old) = self.files.insert(key, len) {
            self.bytes -= old;
        }
        self.bytes += len;
    }

    fn remove(&mut self, key: &Key) {
        if let Some(len) = self.files.remove(key) {
            self.bytes -= len;
        }
    }

    fn of(entries: &[Entry]) -> Index {
        let mut index = Index::default();
        for entry in entries {
            index.insert(entry.key, entry.len);
        }
        index
    }
}

fn lock(index: &Mutex<Index>) -> std::sync::MutexGuard<'_, Index> {
    index.lock().unwrap_or_else(|p| p.into_inner())
}

enum Job {
    Write(Key, Arc<[u8]>),
    /// The entry was used: it moves to the back of the pruning order.
    Touch(Key),
    /// The entry is damaged.
    Remove(Key),
}

/// Where a module's bytecode came from.
#[derive(Clone, Copy)]
enum Tier {
    Memory,
    Disk,
}

#[derive(Clone)]
struct ByteWeighter;

impl quick_cache::Weighter<Key, Arc<[u8]>> for ByteWeighter {
    fn weight(&self, _key: &Key, bytecode: &Arc<[u8]>) -> u64 {
        bytecode.len() as u64 + 64
    }
}

/// Why a module could not be declared.
pub(crate) enum DeclareError {
    /// The file could not be read or transformed; the message names it.
    Source(String),
    /// The engine refused it; the exception is pending in the context.
    Engine(rquickjs::Error),
}

impl ModuleCache {
    /// A cache with the given bounds. With a directory, it is created (`0700`) when missing and
    /// must belong to this process's user and be closed to group and others; the error says
    /// what is wrong with it.
    pub fn new(options: &ModuleCacheOptions) -> Result<ModuleCache, String> {
        let disk = match &options.dir {
            Some(dir) if options.disk_bytes > 0 => Some(Disk::open(dir, options.disk_bytes)?),
            _ => None,
        };
        let memory = match options.memory_bytes {
            0 => None,
            bytes => {
                // Few shards: an entry may weigh at most one shard's share of the bound, and a
                // large module's bytecode (the one most worth caching) is a few MiB.
                let tier = quick_cache::OptionsBuilder::new()
                    .shards(MEMORY_SHARDS)
                    .estimated_items_capacity(
                        usize::try_from(bytes / 4096)
                            .unwrap_or(usize::MAX)
                            .clamp(16, 1 << 20),
                    )
                    .weight_capacity(bytes)
                    .build()
                    .map_err(|error| format!("the module cache's memory tier: {error:?}"))?;
                Some(quick_cache::sync::Cache::with_options(
                    tier,
                    ByteWeighter,
                    Default::default(),
                    Default::default(),
                ))
            }
        };
        // Only a key needs the engine's identity (it hashes the layer's bytecode).
        let engine = match (&memory, &disk) {
            (None, None) => Key::default(),
            _ => engine_identity()?,
        };
        Ok(ModuleCache {
            shared: Arc::new(Shared {
                engine,
                memory,
                disk,
                memory_hits: AtomicU64::new(0),
                disk_hits: AtomicU64::new(0),
                compiled: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        })
    }

    /// A cache that keeps nothing: every module is compiled.
    pub fn disabled() -> ModuleCache {
        ModuleCache::new(&ModuleCacheOptions::default())
            .expect("a cache without a directory cannot fail")
    }

    /// The counts so far.
    pub fn stats(&self) -> ModuleCacheStats {
        let shared = &self.shared;
        ModuleCacheStats {
            memory_hits: shared.memory_hits.load(Ordering::Relaxed),
            disk_hits: shared.disk_hits.load(Ordering::Relaxed),
            compiled: shared.compiled.load(Ordering::Relaxed),
            rejected: shared.rejected.load(Ordering::Relaxed),
            memory_bytes: shared.memory.as_ref().map_or(0, |m| m.weight()),
            disk_bytes: shared.disk.as_ref().map_or(0, |d| lock(&d.index).bytes),
        }
    }

    fn enabled(&self) -> bool {
        self.shared.memory.is_some() || self.shared.disk.is_some()
    }

    /// Declares the module file `path` (canonical, also its name) in `ctx`: from cached
    /// bytecode when there is some for these exact bytes, else compiled from its source (and
    /// then cached). `ahead`: for [`ModuleCache::compile_ahead`], whose loads from the cache are
    /// not loads into an isolate, and not counted. Declaring a module also loads what it
    /// imports, through the runtime's loader.
    pub(crate) fn declare<'js>(
        &self,
        ctx: &Ctx<'js>,
        path: &Path,
        ahead: bool,
    ) -> Result<Module<'js, Declared>, DeclareError> {
        let name = path.to_string_lossy();
        let bytes = fs::read(path).map_err(|error| {
            DeclareError::Source(format!("cannot read module {}: {error}", path.display()))
        })?;
        let key = self.enabled().then(|| self.key(&name, &bytes));
        let on_disk = bytes.len() >= DISK_MIN_SOURCE_BYTES;
        if let Some(key) = &key
            && let Some((bytecode, tier)) = self.lookup(key, on_disk)
        {
            // SAFETY: the bytecode was written by this engine build (the key holds its
            // identity): by this process, or read from a private directory with its key and
            // checksum verified (see the module documentation).
            //
            // Reading a module also loads its imports, through the loader: an error here is
            // theirs (a syntax error in an imported file, the heap limit), to be reported as
            // it is. The entry stays.
            let module =
                unsafe { Module::load(ctx.clone(), &bytecode) }.map_err(DeclareError::Engine)?;
            if !ahead {
                let counter = match tier {
                    Tier::Memory => &self.shared.memory_hits,
                    Tier::Disk => &self.shared.disk_hits,
                };
                counter.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(module);
        }
        self.compile(ctx, path, bytes, key)
    }

    /// Compiles the module file `path` whose content is `bytes`, and caches its bytecode under
    /// `key`.
    fn compile<'js>(
        &self,
        ctx: &Ctx<'js>,
        path: &Path,
        bytes: Vec<u8>,
        key: Option<Key>,
    ) -> Result<Module<'js, Declared>, DeclareError> {
        let on_disk = bytes.len() >= DISK_MIN_SOURCE_BYTES;
        let text = String::from_utf8(bytes).map_err(|error| {
            DeclareError::Source(format!("cannot read module {}: {error}", path.display()))
        })?;
        let source = modules::source_of(path, text).map_err(DeclareError::Source)?;
        // QuickJS's bytecode does not keep import attributes, and a module is one instance per
        // name and attributes: if `import d from './d.json' with { type: 'json' }` came from
        // bytecode in one importer and from source in another, each would get its own `d`. So
        // a module that imports with attributes is always compiled.
        let cacheable = !modules::has_import_attributes(&source);
        let module = Module::declare(ctx.clone(), path.to_string_lossy().as_ref(), source)
            .map_err(DeclareError::Engine)?;
        self.shared.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(key) = key.filter(|_| cacheable) {
            // Functions keep their source text (`Function.prototype.toString`) and line numbers.
            if let Ok(bytecode) = module.write(WriteOptions::default()) {
                self.store(key, bytecode.into(), on_disk);
            }
        }
        Ok(module)
    }

    /// Compiles the modules of the function folder `root` (its entry and what that imports,
    /// statically) that neither tier holds yet, in a scratch runtime of the calling thread (the
    /// compute pool's), so that the worker thread that boots the function, shared with other
    /// tenants, only loads bytecode. Without a memory tier it only transpiles the TypeScript.
    /// A module that does not compile is left for the boot to report. The scratch runtime's
    /// heap limit is `memory_limit` (the function's), at most 256 MiB.
    ///
    /// When the entry module is already in memory, nothing is done: its imports most likely
    /// are too, and the boot compiles one that changed.
    pub fn compile_ahead(&self, root: &Path, memory_limit: usize) {
        let Ok(root) = fs::canonicalize(root) else {
            return;
        };
        if self.shared.memory.is_none() {
            for path in modules::typescript_files(&root) {
                modules::pretranspile(&path);
            }
            return;
        }
        let Some(entry) = modules::find_entry(&root) else {
            return;
        };
        if let Some(memory) = &self.shared.memory
            && let Ok(bytes) = fs::read(&entry)
            && memory
                .peek(&self.key(&entry.to_string_lossy(), &bytes))
                .is_some()
        {
            return;
        }
        let Ok(runtime) = Runtime::new() else {
            return;
        };
        runtime.set_memory_limit(COMPILE_AHEAD_MEMORY_BYTES.min(memory_limit.max(1 << 20)));
        runtime.set_loader(
            modules::FolderResolver::new(root),
            modules::FolderLoader {
                cache: self.clone(),
                ahead: true,
            },
        );
        let Ok(context) = Context::full(&runtime) else {
            return;
        };
        context.with(|ctx| {
            // Declaring the entry loads its static imports through the loader, which compiles
            // and caches each.
            if self.declare(&ctx, &entry, true).is_err() {
                let _ = ctx.catch();
            }
        });
    }

    fn key(&self, name: &str, bytes: &[u8]) -> Key {
        let mut hash = Sha256::new();
        hash.update(self.shared.engine);
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        hash.update(bytes);
        hash.finalize().into()
    }

    fn lookup(&self, key: &Key, on_disk: bool) -> Option<(Arc<[u8]>, Tier)> {
        let shared = &self.shared;
        if let Some(memory) = &shared.memory
            && let Some(bytecode) = memory.get(key)
        {
            return Some((bytecode, Tier::Memory));
        }
        let disk = shared.disk.as_ref().filter(|_| on_disk)?;
        let bytecode: Arc<[u8]> = match disk.read(key) {
            Read::Found(payload) => payload.into(),
            Read::Missing => return None,
            Read::Damaged(why) => {
                shared.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    file = %entry_path(&disk.dir, key).display(),
                    "a module cache entry is damaged ({why}); it is deleted and the module compiled again"
                );
                lock(&disk.index).remove(key);
                disk.send(Job::Remove(*key));
                return None;
            }
        };
        disk.send(Job::Touch(*key));
        if let Some(memory) = &shared.memory {
            memory.insert(*key, bytecode.clone());
        }
        Some((bytecode, Tier::Disk))
    }

    fn store(&self, key: Key, bytecode: Arc<[u8]>, on_disk: bool) {
        if let Some(memory) = &self.shared.memory {
            memory.insert(key, bytecode.clone());
        }
        if let Some(disk) = self.shared.disk.as_ref().filter(|_| on_disk) {
            disk.send(Job::Write(key, bytecode));
        }
    }
}

/// SHA-256 of the format version, the dependencies' versions and the Web layer's bytecode
/// (which changes with the engine's opcodes and built-in atoms).
fn engine_identity() -> Result<Key, String> {
    let layer = bootstrap::bytecode()?;
    let mut hash = Sha256::new();
    hash.update(FORMAT_VERSION.to_le_bytes());
    hash.update(env!("CARGO_PKG_VERSION"));
    hash.update(DEPENDENCIES_HASH);
    hash.update(std::env::consts::ARCH);
    hash.update(layer);
    Ok(hash.finalize().into())
}

enum Read {
    Found(Vec<u8>),
    Missing,
    Damaged(&'static str),
}

impl Disk {
    /// Opens (creating it when missing) the `bytecode` folder of `dir` and starts the writer.
    fn open(dir: &Path, bound: u64) -> Result<Disk, String> {
        let folder = dir.join(BYTECODE_DIR);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&folder)
            .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
        // The path checked is the path used: no symlink on the way is followed again later.
        let folder =
            fs::canonicalize(&folder).map_err(|error| format!("{}: {error}", folder.display()))?;
        check_private(&folder)?;
        let index = Arc::new(Mutex::new(Index::of(&scan(&folder))));
        let (jobs, inbox) = mpsc::sync_channel(PENDING_JOBS);
        let writer = Writer {
            dir: folder.clone(),
            bound,
            index: index.clone(),
        };
        std::thread::Builder::new()
            .name("edgefn-cache".into())
            .spawn(move || writer.run(inbox))
            .map_err(|error| format!("cannot start the cache writer thread: {error}"))?;
        Ok(Disk {
            dir: folder,
            jobs,
            index,
        })
    }

    /// Queues a job for the writer, unless [`PENDING_JOBS`] already wait: then the entry stays
    /// in memory only (the writer runs only when a core is idle, and a busy server must not
    /// pile up bytecode for it).
    fn send(&self, job: Job) {
        let _ = self.jobs.try_send(job);
    }

    fn read(&self, key: &Key) -> Read {
        if !lock(&self.index).files.contains_key(key) {
            return Read::Missing;
        }
        match read_private(&entry_path(&self.dir, key)) {
            Ok(file) => match decode(file, key) {
                Ok(payload) => Read::Found(payload),
                Err(why) => Read::Damaged(why),
            },
            Err(Unreadable::Refused(why)) => Read::Damaged(why),
            Err(Unreadable::Gone) => {
                // Another process pruned it, or someone cleaned up: the writer may write it
                // again.
                lock(&self.index).remove(key);
                Read::Missing
            }
            // Out of file descriptors, say: the entry stays for later.
            Err(Unreadable::Failed) => Read::Missing,
        }
    }
}

/// Why an entry file was not read.
#[derive(Debug, PartialEq)]
enum Unreadable {
    /// It is not a regular file of this process's user closed to others (or a symlink).
    Refused(&'static str),
    /// It does not exist.
    Gone,
    /// Something else went wrong.
    Failed,
}

/// The content of an entry file, if it is a regular file of this process's user that nobody
/// else may write. A symlink is not followed, and a FIFO does not block.
fn read_private(path: &Path) -> Result<Vec<u8>, Unreadable> {
    use std::io::Read as _;
    let mut file = fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|error| match error.raw_os_error() {
            Some(libc::ELOOP) => Unreadable::Refused("a symlink"),
            Some(libc::ENOENT) => Unreadable::Gone,
            _ => Unreadable::Failed,
        })?;
    let meta = file.metadata().map_err(|_| Unreadable::Failed)?;
    if !meta.is_file() || meta.uid() != current_user() || meta.mode() & 0o022 != 0 {
        return Err(Unreadable::Refused("not a private file of this user"));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|_| Unreadable::Failed)?;
    Ok(bytes)
}

fn current_user() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Refuses a directory (canonical) that another user could write to or replace: it and its
/// parent must belong to this process's user and be closed to group and others, and each
/// folder above must belong to that user or to root and be closed to others unless it is
/// sticky (as `/tmp` is).
fn check_private(folder: &Path) -> Result<(), String> {
    let private = |path: &Path| -> Result<(), String> {
        let meta = fs::metadata(path).map_err(|error| format!("{}: {error}", path.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", path.display()));
        }
        let me = current_user();
        if meta.uid() != me {
            return Err(format!(
                "{} belongs to user {}, not to this process's user {me}; bytecode read from \
                 it runs unchecked, so it must be private",
                path.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{} is writable by group or others (mode {:o}); bytecode read from it runs \
                 unchecked, so it must be private (chmod go-w)",
                path.display(),
                meta.mode() & 0o7777
            ));
        }
        Ok(())
    };
    private(folder)?;
    private(folder.parent().unwrap_or(folder))?;
    for above in folder.ancestors().skip(2) {
        let meta = fs::metadata(above).map_err(|error| format!("{}: {error}", above.display()))?;
        let sticky = meta.mode() & 0o1000 != 0;
        if (meta.uid() != 0 && meta.uid() != current_user())
            || (meta.mode() & 0o022 != 0 && !sticky)
        {
            return Err(format!(
                "{} (above the cache directory) may be changed by another user (owner {}, \
                 mode {:o}), who could replace the directory; bytecode read from it runs \
                 unchecked",
                above.display(),
                meta.uid(),
                meta.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

/// `<dir>/<64 hex digits>.qbc`.
fn entry_path(dir: &Path, key: &Key) -> PathBuf {
    let mut hex = [0u8; 64];
    let hex = base16ct::lower::encode_str(key, &mut hex).expect("64 bytes hold 32 in hex");
    dir.join(format!("{hex}.qbc"))
}

/// The key of an entry's file name; `None` for any other file.
fn key_of(name: &str) -> Option<Key> {
    let hex = name.strip_suffix(".qbc")?;
    let mut key = [0u8; 32];
    match base16ct::lower::decode(hex, &mut key) {
        Ok(decoded) if decoded.len() == 32 => Some(key),
        _ => None,
    }
}

/// An entry file found in the folder.
struct Entry {
    key: Key,
    len: u64,
    used: SystemTime,
    path: PathBuf,
}

/// The entries in `folder`; temporary files older than [`STALE_TEMPORARY`] are deleted.
fn scan(folder: &Path) -> Vec<Entry> {
    let Ok(listing) = fs::read_dir(folder) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for item in listing.flatten() {
        let Ok(meta) = item.metadata() else {
            continue;
        };
        let Ok(used) = meta.modified() else {
            continue;
        };
        let name = item.file_name();
        let name = name.to_string_lossy();
        if let Some(key) = key_of(&name) {
            entries.push(Entry {
                key,
                len: meta.len(),
                used,
                path: item.path(),
            });
        } else if name.ends_with(".tmp") && used.elapsed().is_ok_and(|age| age > STALE_TEMPORARY) {
            let _ = fs::remove_file(item.path());
        }
    }
    entries
}

fn encode(key: &Key, payload: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(HEADER_LEN + payload.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(key);
    file.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    file.extend_from_slice(&Sha256::digest(payload));
    file.extend_from_slice(payload);
    file
}

fn decode(mut file: Vec<u8>, key: &Key) -> Result<Vec<u8>, &'static str> {
    if file.len() < HEADER_LEN || &file[..8] != MAGIC {
        return Err("not an entry file");
    }
    if file[8..12] != FORMAT_VERSION.to_le_bytes() {
        return Err("another format version");
    }
    if file[12..44] != key[..] {
        return Err("another entry's file");
    }
    let length = u64::from_le_bytes(file[44..52].try_into().expect("8 bytes"));
    if length != (file.len() - HEADER_LEN) as u64 {
        return Err("truncated");
    }
    let payload = file.split_off(HEADER_LEN);
    if Sha256::digest(&payload)[..] != file[52..HEADER_LEN] {
        return Err("checksum mismatch");
    }
    Ok(payload)
}

/// The `edgefn-cache` thread: writes entries (to a temporary file, then renamed, so a reader
/// never sees half of one), deletes damaged ones, and keeps the folder under its bound. The
/// loading threads only read.
struct Writer {
    dir: PathBuf,
    bound: u64,
    index: Arc<Mutex<Index>>,
}

impl Writer {
    fn run(mut self, inbox: mpsc::Receiver<Job>) {
        idle_priority();
        if lock(&self.index).bytes > self.bound {
            self.prune();
        }
        while let Ok(job) = inbox.recv() {
            match job {
                Job::Write(key, payload) => self.write(&key, &payload),
                Job::Touch(key) => {
                    let _ = fs::File::options()
                        .write(true)
                        .custom_flags(libc::O_NOFOLLOW)
                        .open(entry_path(&self.dir, &key))
                        .and_then(|file| file.set_modified(SystemTime::now()));
                }
                Job::Remove(key) => {
                    let _ = fs::remove_file(entry_path(&self.dir, &key));
                    lock(&self.index).remove(&key);
                }
            }
        }
    }

    fn write(&mut self, key: &Key, payload: &[u8]) {
        if lock(&self.index).files.contains_key(key) {
            return;
        }
        let path = entry_path(&self.dir, key);
        // Unique across processes (and containers, where every server may be pid 1) sharing
        // the folder.
        let mut nonce = [0u8; 8];
        let _ = getrandom::fill(&mut nonce);
        let temporary = self
            .dir
            .join(format!(".{:016x}.tmp", u64::from_le_bytes(nonce)));
        let file = encode(key, payload);
        let created = fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary);
        let written = created.and_then(|mut out| {
            out.write_all(&file)
                .and_then(|()| fs::rename(&temporary, &path))
                .inspect_err(|_| {
                    let _ = fs::remove_file(&temporary);
                })
        });
        match written {
            Ok(()) => {
                let total = {
                    let mut index = lock(&self.index);
                    index.insert(*key, file.len() as u64);
                    index.bytes
                };
                if total > self.bound {
                    self.prune();
                }
            }
            Err(error) => {
                tracing::warn!(file = %path.display(), "cannot write a module cache entry: {error}");
            }
        }
    }

    /// Lists the folder again (another process may share it), then deletes the least recently
    /// used entries until it holds at most 90% of its bound.
    fn prune(&mut self) {
        let mut entries = scan(&self.dir);
        let mut index = Index::of(&entries);
        if index.bytes > self.bound {
            entries.sort_by_key(|entry| entry.used);
            let target = self.bound / 10 * 9;
            for entry in entries {
                if index.bytes <= target {
                    break;
                }
                if fs::remove_file(&entry.path).is_ok() {
                    index.remove(&entry.key);
                }
            }
        }
        let old = std::mem::replace(&mut *lock(&self.index), index);
        drop(old);
    }
}

/// Puts the calling thread in the `SCHED_IDLE` class: it runs only when a core has nothing else
/// to do. Writing the cache saves future compiles; it must not take a core from a request, a
/// boot or an isolate being prepared (a burst of new functions would otherwise pay for the
/// files of its own modules).
fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0 {
            tracing::debug!(
                "the cache writer keeps its priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_file_round_trips_and_damage_is_caught() {
        let key = [3u8; 32];
        let payload = b"some bytecode".to_vec();
        let file = encode(&key, &payload);
        assert_eq!(decode(file.clone(), &key).unwrap(), payload);

        assert_eq!(decode(file.clone(), &[4; 32]), Err("another entry's file"));
        let mut flipped = file.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(flipped, &key), Err("checksum mismatch"));
        assert_eq!(
            decode(file[..file.len() - 1].to_vec(), &key),
            Err("truncated")
        );
        assert_eq!(decode(b"garbage".to_vec(), &key), Err("not an entry file"));
        let mut other_version = file;
        other_version[8] ^= 0xff;
        assert_eq!(decode(other_version, &key), Err("another format version"));
    }

    #[test]
    fn a_directory_open_to_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let open = |dir: PathBuf| {
            ModuleCache::new(&ModuleCacheOptions {
                memory_bytes: 0,
                dir: Some(dir),
                disk_bytes: 1 << 20,
            })
        };
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let error = open(dir.path().to_owned()).unwrap_err();
        assert!(error.contains("writable by group or others"), "{error}");

        // A private directory below a folder others may change.
        let below = dir.path().join("cache");
        fs::create_dir(&below).unwrap();
        fs::set_permissions(&below, fs::Permissions::from_mode(0o700)).unwrap();
        let error = open(below).unwrap_err();
        assert!(error.contains("may be changed by another user"), "{error}");

        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        assert!(open(dir.path().join("cache")).is_ok());
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let error = open(file).unwrap_err();
        assert!(error.contains("cannot create"), "{error}");
    }

    #[test]
    fn an_entry_that_is_a_symlink_or_open_to_others_is_damaged() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        fs::write(&real, "x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(read_private(&link), Err(Unreadable::Refused("a symlink")));
        fs::set_permissions(&real, fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(
            read_private(&real),
            Err(Unreadable::Refused("not a private file of this user"))
        );
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&real), Ok(b"x".to_vec()));
        assert_eq!(
            read_private(&dir.path().join("missing")),
            Err(Unreadable::Gone)
        );
    }

    #[test]
    fn pruning_deletes_the_least_recently_used_entries() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = Writer {
            dir: dir.path().to_owned(),
            bound: 3000,
            index: Arc::default(),
        };
        let payload = vec![7u8; 1000 - HEADER_LEN];
        for i in 0..3u8 {
            writer.write(&[i; 32], &payload);
            let file = fs::File::options()
                .write(true)
                .open(entry_path(dir.path(), &[i; 32]))
                .unwrap();
            let age = std::time::Duration::from_secs(100 - u64::from(i));
            file.set_modified(SystemTime::now() - age).unwrap();
        }
        assert_eq!(lock(&writer.index).bytes, 3000);
        writer.write(&[9; 32], &payload);
        let left: Vec<bool> = [0u8, 1, 2, 9]
            .iter()
            .map(|i| entry_path(dir.path(), &[*i; 32]).exists())
            .collect();
        assert_eq!(
            left,
            [false, false, true, true],
            "oldest first, down to 90%"
        );
        assert_eq!(lock(&writer.index).bytes, 2000);
        let listed = |i: u8| lock(&writer.index).files.contains_key(&[i; 32]);
        assert!(!listed(0) && !listed(1) && listed(2) && listed(9));
    }
}
