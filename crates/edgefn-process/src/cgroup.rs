//! Memory limits through a cgroup v2 `memory.max`, where the machine allows it: the unified
//! hierarchy is mounted at `/sys/fs/cgroup` with the memory controller, and it is writable.
//! Otherwise the caller falls back to `RLIMIT_AS`.

use std::path::{Path, PathBuf};

/// Where the unified cgroup hierarchy is mounted.
pub(crate) const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// One process's cgroup, removed when dropped.
#[derive(Debug)]
pub(crate) struct MemoryCgroup {
    dir: PathBuf,
}

impl MemoryCgroup {
    /// Creates `<root>/edgefn/<name>` with `memory.max = limit`, or `None` when cgroup v2 with
    /// the memory controller is not available to this process.
    pub(crate) fn create(root: &Path, name: &str, limit_bytes: usize) -> Option<MemoryCgroup> {
        let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).ok()?;
        if !controllers.split_whitespace().any(|c| c == "memory") {
            return None;
        }
        let parent = root.join("edgefn");
        std::fs::create_dir_all(&parent).ok()?;
        // Children of `edgefn` may only be limited when the controller is delegated to them.
        let _ = std::fs::write(root.join("cgroup.subtree_control"), "+memory");
        let _ = std::fs::write(parent.join("cgroup.subtree_control"), "+memory");
        let dir = parent.join(name);
        std::fs::create_dir(&dir).ok()?;
        let cgroup = MemoryCgroup { dir };
        std::fs::write(cgroup.dir.join("memory.max"), limit_bytes.to_string()).ok()?;
        // Without swap, the limit is a limit.
        let _ = std::fs::write(cgroup.dir.join("memory.swap.max"), "0");
        Some(cgroup)
    }

    /// Moves process `pid` into the cgroup.
    pub(crate) fn add(&self, pid: u32) -> std::io::Result<()> {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
    }

    /// `true` once the kernel killed a process of the cgroup for going over `memory.max`.
    pub(crate) fn oom_killed(&self) -> bool {
        std::fs::read_to_string(self.dir.join("memory.events"))
            .ok()
            .and_then(|events| {
                events
                    .lines()
                    .find_map(|line| line.strip_prefix("oom_kill "))
                    .and_then(|count| count.trim().parse::<u64>().ok())
            })
            .is_some_and(|count| count > 0)
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_cgroup_v2_memory_there_is_no_cgroup() {
        let root = tempfile::tempdir().unwrap();
        assert!(MemoryCgroup::create(root.path(), "w1", 1 << 20).is_none());
        std::fs::write(root.path().join("cgroup.controllers"), "cpu io pids").unwrap();
        assert!(MemoryCgroup::create(root.path(), "w1", 1 << 20).is_none());
    }

    #[test]
    fn with_cgroup_v2_memory_the_limit_is_written_and_oom_kills_are_read() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("cgroup.controllers"), "cpu memory pids").unwrap();
        let cgroup = MemoryCgroup::create(root.path(), "w1", 1 << 20).unwrap();
        let dir = root.path().join("edgefn/w1");
        assert_eq!(
            std::fs::read_to_string(dir.join("memory.max")).unwrap(),
            "1048576"
        );
        cgroup.add(42).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("cgroup.procs")).unwrap(),
            "42"
        );
        assert!(!cgroup.oom_killed());
        std::fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
        )
        .unwrap();
        assert!(cgroup.oom_killed());
    }
}
