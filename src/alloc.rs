//! Settings of the process's memory allocator, made once at start-up before
//! anything is allocated in bulk. Nothing else here: the engine allocates
//! through the global allocator like any library.

/// Blocks at least this large get pages of their own from the kernel and
/// give them back when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Fixes glibc's mmap threshold at its documented default.
///
/// glibc raises the threshold whenever a mapped block is freed (up to 32 MiB
/// on 64-bit), after which the per-file tables of the loader, each a few
/// hundred KB and freed once the corpus is built, come from the heap instead
/// and are never returned: the holes they leave between long-lived strings
/// stay resident. On the national corpus, fixing the threshold takes peak
/// memory from 7.7 to 6.4 GB and the cold check from 38 to 33 s (less
/// zeroing of fresh pages); see docs/performance.md.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; it is called
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Gives the free pages inside the allocator's heaps back to the kernel.
///
/// Loading frees about as much as it keeps (parse trees, drafts, the
/// per-plan parts the corpus tables are assembled from), in blocks too small
/// to have pages of their own; without this they stay resident through the
/// evaluation.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only returns whole free pages to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}
