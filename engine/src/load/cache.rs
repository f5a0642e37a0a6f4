//! A content-addressed cache of read plan files: the [`FileDraft`] of a
//! file whose text was read before is taken from disk instead of being
//! parsed again, so a re-run after a one-file change parses that one file.
//!
//! An entry is keyed by a 128-bit hash (xxh3) of the file's text together
//! with [`FORMAT`], hyoka's version and a fingerprint of the reader's own
//! source code; it lives at `<dir>/plans-v<FORMAT>/<2 hex>/<30 hex>.bin`.
//! The key holds no path: a renamed or moved file, or the same file in two
//! checkouts, finds the same entry.
//!
//! The cache is never trusted: an entry whose header, length, checksum or
//! decoding is wrong is counted as rejected, the file is parsed as if there
//! were no entry, and the entry is written anew. Entries are written to a
//! temporary file in the same directory and renamed into place, so readers
//! (other runs at the same time included) see a whole entry or none.
//! Deleting the directory at any time only costs the next run its hits.
//!
//! The directory does not grow without bound: a hit refreshes its entry's
//! modification time (at most once a day), and [`Cache::prune`], run at most
//! once a day, removes the entries no run has used for [`MAX_UNUSED`] —
//! those of earlier hyoka versions and of file texts that are gone — and
//! the temporary files of runs that were killed while writing.
//!
//! Only drafts read without any diagnostic are stored: a file with problems
//! is parsed on every run, so its diagnostics are always those of the
//! reader in use, with their text and labels.

use std::cell::Cell;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::de::Error as _;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::const_xxh3;
use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64};

use super::read::{self, FileDraft, PlanDraft};
use crate::diagnostic::PlanDiagnostic;
use crate::model::{FileId, SourceFile, Span};

/// The entry format. Bump it whenever the draft types (engine/src/load/
/// read.rs and the model types they hold) or their encoding change: entries
/// of another format live in another directory and are never read.
pub const FORMAT: u32 = 1;

const VERSION: &str = env!("CARGO_PKG_VERSION");

const MAGIC: &[u8; 8] = b"hyokaPLN";

/// A hash of the source files that decide what a draft holds: the reader,
/// the model, years and this encoding. Development builds keep one version
/// number across many changes to the reader, and a change to what it reads
/// that leaves the types alone would not bump [`FORMAT`]; with this in the
/// key such a build never sees the entries of another. (A new version of
/// the toml crate is not seen here: it comes with a new hyoka version.)
const READER: u64 = {
    let mut h = const_xxh3::xxh3_64(include_bytes!("read.rs"));
    h = const_xxh3::xxh3_64_with_seed(include_bytes!("../model.rs"), h);
    h = const_xxh3::xxh3_64_with_seed(include_bytes!("../year.rs"), h);
    const_xxh3::xxh3_64_with_seed(include_bytes!("cache.rs"), h)
};

/// Seed of the key hash: the format, the version and the reader.
const SEED: u64 = const_xxh3::xxh3_64_with_seed(VERSION.as_bytes(), READER ^ FORMAT as u64);

// The version's length is one byte of the header.
const _: () = assert!(VERSION.len() <= u8::MAX as usize);

/// magic, format, key, version length, version, payload length, checksum.
const HEADER_LEN: usize = 8 + 4 + 16 + 1 + VERSION.len() + 8 + 8;

/// Entries that no run has read or written for this long are removed.
pub const MAX_UNUSED: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A hit refreshes its entry's time when it is older than this, so a
/// re-run does not write to every entry it reads.
const REFRESH_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// [`Cache::prune`] looks at the directory at most this often.
const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// A temporary file this old belongs to a run that was killed.
const STALE_TEMPORARY: Duration = Duration::from_secs(60 * 60);

/// The file in the cache root whose time says when it was last pruned.
const PRUNED_MARKER: &str = ".last-prune";

/// What a cache did, for `-v` and for tests. `hits + misses` is the number
/// of files read (those that are not UTF-8 are not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Drafts taken from the cache.
    pub hits: usize,
    /// Files parsed: no entry, or one that was rejected.
    pub misses: usize,
    /// Entries written (a miss without diagnostics).
    pub written: usize,
    /// Entries found but not trusted: wrong header, length, checksum or
    /// payload, or unreadable. Each is also a miss.
    pub rejected: usize,
    /// Files parsed with diagnostics, which are never stored.
    pub not_stored: usize,
}

impl std::fmt::Display for CacheStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} hits, {} misses, {} written, {} rejected, {} with diagnostics (not stored)",
            self.hits, self.misses, self.written, self.rejected, self.not_stored
        )
    }
}

/// Why a cache directory cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot {action} the plan cache in `{}`: {error}", dir.display())]
#[diagnostic(
    code(hyoka::cache::unwritable),
    help("plans are read without the cache; choose another directory with --cache-dir or HYOKA_CACHE_DIR, or turn the cache off with --no-cache")
)]
pub struct CacheError {
    pub dir: PathBuf,
    /// `create` or `write`.
    pub action: &'static str,
    pub error: io::Error,
}

/// A cache directory in use. Counters are shared by every thread that
/// reads through it, and add up over every load done with it.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    /// `root/plans-v<FORMAT>`
    dir: PathBuf,
    hits: AtomicUsize,
    misses: AtomicUsize,
    written: AtomicUsize,
    rejected: AtomicUsize,
    not_stored: AtomicUsize,
    /// Set at the first failed write: one warning, not one per file.
    unwritable: AtomicBool,
    write_error: Mutex<Option<CacheError>>,
}

impl Cache {
    /// Opens (creating it when needed) the cache under `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = root.into();
        let dir = root.join(format!("plans-v{FORMAT}"));
        fs::create_dir_all(&dir).map_err(|error| CacheError {
            dir: root.clone(),
            action: "create",
            error,
        })?;
        Ok(Cache {
            root,
            dir,
            hits: AtomicUsize::new(0),
            misses: AtomicUsize::new(0),
            written: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            not_stored: AtomicUsize::new(0),
            unwritable: AtomicBool::new(false),
            write_error: Mutex::new(None),
        })
    }

    /// The directory given to [`Cache::open`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the cache did so far.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            written: self.written.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            not_stored: self.not_stored.load(Ordering::Relaxed),
        }
    }

    /// The first write that failed, if any; no entry is written after it.
    pub fn take_write_error(&self) -> Option<CacheError> {
        self.write_error.lock().ok()?.take()
    }

    /// Where the entry of `source` is, whether or not it exists.
    pub fn entry_path(&self, source: &SourceFile) -> PathBuf {
        self.path_of(key(&source.text))
    }

    fn path_of(&self, key: u128) -> PathBuf {
        let hex = format!("{key:032x}");
        self.dir.join(&hex[..2]).join(format!("{}.bin", &hex[2..]))
    }

    /// [`read::read_file`] through the cache: the same draft and the same
    /// diagnostics.
    pub(crate) fn read_file(
        &self,
        file: FileId,
        source: &SourceFile,
        diagnostics: &mut Vec<PlanDiagnostic>,
    ) -> FileDraft {
        let key = key(&source.text);
        let path = self.path_of(key);
        match read_entry(&path) {
            Ok(bytes) => match decode(&bytes, key, file, source.text.len()) {
                Ok(draft) => {
                    self.hits.fetch_add(1, Ordering::Relaxed);
                    return draft;
                }
                Err(_) => {
                    self.rejected.fetch_add(1, Ordering::Relaxed);
                }
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                self.rejected.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let before = diagnostics.len();
        let draft = read::read_file(file, source, diagnostics);
        if diagnostics.len() == before {
            self.store(&path, key, file, source.text.len(), &draft);
        } else {
            self.not_stored.fetch_add(1, Ordering::Relaxed);
        }
        draft
    }

    fn store(&self, path: &Path, key: u128, file: FileId, text_len: usize, draft: &FileDraft) {
        if self.unwritable.load(Ordering::Relaxed) {
            return;
        }
        // Only a draft with a span outside its own file fails to encode:
        // such a draft is simply not stored.
        let Ok(bytes) = encode(key, file, text_len, draft) else {
            return;
        };
        let Some(shard) = path.parent() else {
            return;
        };
        let result = write_atomically(shard, path, &bytes).or_else(|e| {
            if e.kind() != io::ErrorKind::NotFound {
                return Err(e);
            }
            fs::create_dir_all(shard)?;
            write_atomically(shard, path, &bytes)
        });
        match result {
            Ok(()) => {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) => {
                if !self.unwritable.swap(true, Ordering::Relaxed) {
                    if let Ok(mut first) = self.write_error.lock() {
                        *first = Some(CacheError {
                            dir: self.root.clone(),
                            action: "write",
                            error,
                        });
                    }
                }
            }
        }
    }
}

/// What [`Cache::prune`] removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Entries no run had used for [`MAX_UNUSED`].
    pub entries: usize,
    /// Temporary files left by killed runs.
    pub temporary: usize,
    /// Bytes freed.
    pub bytes: u64,
}

impl std::fmt::Display for PruneStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} unused entries and {} temporary files removed ({:.1} MB)",
            self.entries,
            self.temporary,
            self.bytes as f64 / 1e6
        )
    }
}

impl Cache {
    /// Removes what no run needs any more, at most once every day: entries
    /// (of every format and version under the root) unused for
    /// [`MAX_UNUSED`], and temporary files older than an hour. `None` when
    /// the directory was pruned less than a day ago. Best effort: what
    /// cannot be removed stays, and the next prune tries again.
    pub fn prune(&self) -> Option<PruneStats> {
        self.prune_at(SystemTime::now())
    }

    fn prune_at(&self, now: SystemTime) -> Option<PruneStats> {
        let marker = self.root.join(PRUNED_MARKER);
        if let Ok(last) = fs::metadata(&marker).and_then(|m| m.modified()) {
            if now.duration_since(last).is_ok_and(|age| age < PRUNE_EVERY) {
                return None;
            }
        }
        // Marked first: two runs starting together do not both walk it.
        let marked = fs::File::create(&marker).and_then(|f| f.set_modified(now));
        if marked.is_err() {
            return None;
        }
        let mut stats = PruneStats::default();
        let Ok(formats) = fs::read_dir(&self.root) else {
            return Some(stats);
        };
        for format in formats.flatten() {
            let is_format = format.file_name().to_string_lossy().starts_with("plans-v");
            if is_format && format.file_type().is_ok_and(|t| t.is_dir()) {
                prune_format(&format.path(), now, &mut stats);
            }
        }
        Some(stats)
    }
}

/// Prunes one `plans-v<FORMAT>` directory, and removes the shards (and the
/// directory) that this leaves empty; a run writing into them creates them
/// again.
fn prune_format(dir: &Path, now: SystemTime, stats: &mut PruneStats) {
    let Ok(shards) = fs::read_dir(dir) else {
        return;
    };
    for shard in shards.flatten() {
        if !shard.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(files) = fs::read_dir(shard.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            let name = name.to_string_lossy();
            let limit = if name.ends_with(".bin") {
                MAX_UNUSED
            } else if name.starts_with(".entry-") && name.ends_with(".tmp") {
                STALE_TEMPORARY
            } else {
                continue;
            };
            let Ok(meta) = file.metadata() else { continue };
            let old = meta
                .modified()
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > limit));
            if meta.is_file() && old && fs::remove_file(file.path()).is_ok() {
                if limit == MAX_UNUSED {
                    stats.entries += 1;
                } else {
                    stats.temporary += 1;
                }
                stats.bytes += meta.len();
            }
        }
        // Only succeeds when the shard is empty.
        let _ = fs::remove_dir(shard.path());
    }
    let _ = fs::remove_dir(dir);
}

/// Reads an entry, and refreshes its time when it is old so that pruning
/// sees it is in use.
fn read_entry(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.read_to_end(&mut bytes)?;
    let now = SystemTime::now();
    let stale = meta
        .modified()
        .is_ok_and(|t| now.duration_since(t).is_ok_and(|age| age > REFRESH_AFTER));
    if stale {
        // Best effort: an entry that cannot be touched (a cache shared
        // read-only) still serves this run.
        let _ = fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(now));
    }
    Ok(bytes)
}

/// The key of a text: everything the draft depends on besides the file's
/// index, which is supplied on decoding.
fn key(text: &str) -> u128 {
    xxh3_128_with_seed(text.as_bytes(), SEED)
}

/// No fsync: an entry lost or torn by a crash of the machine fails its
/// checksum and is parsed again, and syncing hundreds of small files would
/// cost more than the parsing it saves.
fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".entry-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

// Spans are stored without their file: a draft holds spans of its own file
// only, and the file's index is its place in this run's corpus, which the
// cached text does not decide (the same text can be file 3 today and file 5
// after a file is added). The index is set for the duration of one encode
// or decode in a thread-local, because a derived `Deserialize` has no other
// way to receive it; every span of every type then gets it, including spans
// added to the model later. `Plan::file` is the one index outside a span
// and is set after decoding. Outside an encode or decode, (de)serializing
// a span is an error rather than a span silently without its file.

thread_local! {
    /// The file index and text length of the draft being encoded or decoded.
    static SPAN_FILE: Cell<Option<(FileId, usize)>> = const { Cell::new(None) };
}

fn with_span_file<R>(file: FileId, len: usize, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(FileId, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SPAN_FILE.set(self.0);
        }
    }
    let _restore = Restore(SPAN_FILE.replace(Some((file, len))));
    f()
}

const SPAN_OUTSIDE: &str =
    "spans are (de)serialized only by the plan cache, which supplies their file";

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match SPAN_FILE.get() {
            Some((file, _)) if file == self.file => (self.start, self.end).serialize(s),
            Some(_) => Err(S::Error::custom("a span points into another file")),
            None => Err(S::Error::custom(SPAN_OUTSIDE)),
        }
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let (file, len) = SPAN_FILE
            .get()
            .ok_or_else(|| D::Error::custom(SPAN_OUTSIDE))?;
        let (start, end) = <(u32, u32)>::deserialize(d)?;
        if start > end || end as usize > len {
            return Err(D::Error::custom("span outside the file"));
        }
        Ok(Span { file, start, end })
    }
}

/// Why an entry was not trusted (tests tell the cases apart).
#[derive(Debug, PartialEq, Eq)]
enum Reject {
    Header,
    Format,
    Key,
    Version,
    Length,
    Checksum,
    Payload,
}

fn encode(
    key: u128,
    file: FileId,
    text_len: usize,
    draft: &FileDraft,
) -> Result<Vec<u8>, postcard::Error> {
    let payload = with_span_file(file, text_len, || postcard::to_stdvec(draft))?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&key.to_le_bytes());
    out.push(VERSION.len() as u8);
    out.extend_from_slice(VERSION.as_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&xxh3_64(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// A little reader over the header, refusing to run past the end.
struct Bytes<'b>(&'b [u8]);

impl<'b> Bytes<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], Reject> {
        if self.0.len() < n {
            return Err(Reject::Header);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Reject> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
}

fn decode(bytes: &[u8], key: u128, file: FileId, text_len: usize) -> Result<FileDraft, Reject> {
    let mut b = Bytes(bytes);
    if b.take(MAGIC.len())? != MAGIC {
        return Err(Reject::Header);
    }
    if u32::from_le_bytes(b.array()?) != FORMAT {
        return Err(Reject::Format);
    }
    if u128::from_le_bytes(b.array()?) != key {
        return Err(Reject::Key);
    }
    let version_len = b.take(1)?[0] as usize;
    if b.take(version_len)? != VERSION.as_bytes() {
        return Err(Reject::Version);
    }
    let payload_len = u64::from_le_bytes(b.array()?);
    let checksum = u64::from_le_bytes(b.array()?);
    let payload = b.0;
    if payload.len() as u64 != payload_len {
        return Err(Reject::Length);
    }
    if xxh3_64(payload) != checksum {
        return Err(Reject::Checksum);
    }
    let (mut draft, rest) = with_span_file(file, text_len, || {
        postcard::take_from_bytes::<FileDraft>(payload)
    })
    .map_err(|_| Reject::Payload)?;
    if !rest.is_empty() {
        return Err(Reject::Payload);
    }
    if let Some(PlanDraft {
        plan: Some(plan), ..
    }) = &mut draft.plan
    {
        plan.file = file;
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hyoka-cache-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn source(name: &str, text: &str) -> SourceFile {
        SourceFile {
            name: name.to_string(),
            text: Arc::from(text),
        }
    }

    /// A real plan, with every kind of entity and value the reader knows.
    fn real_plan() -> SourceFile {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../plans/koriyama-kyodo-2.toml"
        );
        source("koriyama.toml", &fs::read_to_string(path).unwrap())
    }

    fn read(file: FileId, s: &SourceFile) -> (String, usize) {
        let mut diags = Vec::new();
        let draft = read::read_file(file, s, &mut diags);
        (format!("{draft:?}"), diags.len())
    }

    fn through(cache: &Cache, file: FileId, s: &SourceFile) -> (String, usize) {
        let mut diags = Vec::new();
        let draft = cache.read_file(file, s, &mut diags);
        (format!("{draft:?}"), diags.len())
    }

    #[test]
    fn a_draft_comes_back_equal_with_the_file_index_of_its_new_place() {
        let s = real_plan();
        let mut diags = Vec::new();
        let draft = read::read_file(3, &s, &mut diags);
        assert!(diags.is_empty());
        let k = key(&s.text);
        let bytes = encode(k, 3, s.text.len(), &draft).unwrap();
        for file in [3, 0, 7, 12_345] {
            let back = decode(&bytes, k, file, s.text.len()).unwrap();
            assert_eq!(format!("{back:?}"), read(file, &s).0, "as file {file}");
        }
        // The payload is much smaller than the TOML it replaces.
        assert!(
            bytes.len() < s.text.len(),
            "{} vs {}",
            bytes.len(),
            s.text.len()
        );
    }

    #[test]
    fn every_plan_of_the_repository_survives_the_round_trip() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../plans");
        let mut n = 0;
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let s = source("p.toml", &fs::read_to_string(&path).unwrap());
            let mut diags = Vec::new();
            let draft = read::read_file(1, &s, &mut diags);
            let k = key(&s.text);
            let back = decode(
                &encode(k, 1, s.text.len(), &draft).unwrap(),
                k,
                4,
                s.text.len(),
            )
            .unwrap();
            assert_eq!(format!("{back:?}"), read(4, &s).0, "{}", path.display());
            n += 1;
        }
        assert!(n > 3);
    }

    #[test]
    fn the_second_read_is_a_hit_with_the_same_draft() {
        let root = temp_dir("hit");
        let cache = Cache::open(&root).unwrap();
        let s = real_plan();
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        assert_eq!(
            cache.stats(),
            CacheStats {
                misses: 1,
                written: 1,
                ..CacheStats::default()
            }
        );
        assert!(cache.entry_path(&s).is_file());
        assert_eq!(through(&cache, 2, &s), read(2, &s));
        assert_eq!(cache.stats().hits, 1);
        // A new cache on the same directory (the next run) hits too.
        let again = Cache::open(&root).unwrap();
        assert_eq!(through(&again, 5, &s), read(5, &s));
        assert_eq!(again.stats().hits, 1);
        fs::remove_dir_all(&root).unwrap();
    }

    fn set_age(path: &Path, age: Duration) {
        let f = fs::File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - age).unwrap();
    }

    fn age_of(path: &Path) -> Duration {
        let t = fs::metadata(path).unwrap().modified().unwrap();
        SystemTime::now().duration_since(t).unwrap_or_default()
    }

    const DAY: Duration = Duration::from_secs(24 * 60 * 60);

    #[test]
    fn pruning_removes_unused_entries_and_stale_temporaries_only() {
        let root = temp_dir("prune");
        let cache = Cache::open(&root).unwrap();
        let used = real_plan();
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../plans/iwaki-kihon-houshin.toml"
        );
        let unused = source("iwaki.toml", &fs::read_to_string(path).unwrap());
        through(&cache, 0, &used);
        through(&cache, 1, &unused);
        let used_entry = cache.entry_path(&used);
        let unused_entry = cache.entry_path(&unused);
        assert!(used_entry.is_file() && unused_entry.is_file());
        // An entry of another format, and two leftovers of killed runs.
        let other = root.join("plans-v0/ab");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("old.bin"), b"x").unwrap();
        let shard = unused_entry.parent().unwrap();
        let stale = shard.join(".entry-killed.tmp");
        let fresh = shard.join(".entry-writing.tmp");
        fs::write(&stale, b"x").unwrap();
        fs::write(&fresh, b"x").unwrap();
        let unrelated = shard.join("notes.txt");
        fs::write(&unrelated, b"x").unwrap();

        set_age(&used_entry, MAX_UNUSED - DAY);
        set_age(&unused_entry, MAX_UNUSED + DAY);
        set_age(&other.join("old.bin"), MAX_UNUSED + DAY);
        set_age(&stale, 2 * STALE_TEMPORARY);
        set_age(&unrelated, MAX_UNUSED + DAY);

        let stats = cache.prune().expect("never pruned before");
        assert_eq!((stats.entries, stats.temporary), (2, 1), "{stats}");
        assert!(used_entry.is_file());
        assert!(!unused_entry.exists());
        assert!(!stale.exists());
        assert!(fresh.exists(), "a run may still be writing it");
        assert!(unrelated.exists(), "not the cache's to remove");
        assert!(!root.join("plans-v0").exists(), "left empty");
        // Not again on the same day, by this run or the next.
        assert_eq!(cache.prune(), None);
        assert_eq!(Cache::open(&root).unwrap().prune(), None);
        // Two days later it looks again, and what has aged since is gone.
        let later = cache.prune_at(SystemTime::now() + 2 * DAY).unwrap();
        assert_eq!((later.entries, later.temporary), (1, 1), "{later}");
        assert!(!used_entry.exists() && !fresh.exists());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_hit_keeps_an_old_entry_from_being_pruned() {
        let root = temp_dir("refresh");
        let cache = Cache::open(&root).unwrap();
        let s = real_plan();
        through(&cache, 0, &s);
        let entry = cache.entry_path(&s);
        // Read recently: the hit does not write to the entry.
        set_age(&entry, DAY / 2);
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        assert!(age_of(&entry) >= DAY / 4);
        // Read long ago: the hit makes it new again.
        set_age(&entry, MAX_UNUSED + DAY);
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        assert!(age_of(&entry) < DAY / 4);
        assert_eq!(cache.stats().hits, 2);
        assert_eq!(cache.prune().map(|p| p.entries), Some(0));
        assert!(entry.is_file());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_file_with_diagnostics_is_parsed_every_time() {
        let root = temp_dir("diag");
        let cache = Cache::open(&root).unwrap();
        let s = source("bad.toml", "[plan]\nid = \"x\"\nnmae = \"typo\"\n");
        let expected = read(0, &s);
        assert!(expected.1 > 0);
        for _ in 0..2 {
            assert_eq!(through(&cache, 0, &s), expected);
        }
        let stats = cache.stats();
        assert_eq!(
            (stats.hits, stats.misses, stats.not_stored, stats.written),
            (0, 2, 2, 0)
        );
        assert!(!cache.entry_path(&s).exists());
        fs::remove_dir_all(&root).unwrap();
    }

    /// Every way an entry can be wrong is refused with its own reason, and
    /// never with a panic.
    #[test]
    fn damaged_entries_are_refused() {
        let s = real_plan();
        let mut diags = Vec::new();
        let draft = read::read_file(0, &s, &mut diags);
        let k = key(&s.text);
        let good = encode(k, 0, s.text.len(), &draft).unwrap();
        let len = s.text.len();
        let payload_at = HEADER_LEN;
        let check = |bytes: &[u8], reason: Reject| {
            assert_eq!(decode(bytes, k, 0, len).unwrap_err(), reason);
        };

        check(&[], Reject::Header);
        check(&good[..5], Reject::Header);
        check(&good[..payload_at - 3], Reject::Header);
        let mut b = good.clone();
        b[0] ^= 1;
        check(&b, Reject::Header);
        let mut b = good.clone();
        b[8] = b[8].wrapping_add(1);
        check(&b, Reject::Format);
        assert_eq!(decode(&good, k ^ 1, 0, len).unwrap_err(), Reject::Key);
        let mut b = good.clone();
        b[8 + 4 + 16 + 1] ^= 0x20; // a letter of the version
        check(&b, Reject::Version);
        let mut b = good.clone();
        b[8 + 4 + 16] = 200; // the version's length
        check(&b, Reject::Version);
        check(&good[..good.len() - 1], Reject::Length);
        let mut b = good.clone();
        b.push(0);
        check(&b, Reject::Length);
        for at in [
            payload_at,
            payload_at + 1,
            (payload_at + good.len()) / 2,
            good.len() - 1,
        ] {
            let mut b = good.clone();
            b[at] ^= 0x55;
            check(&b, Reject::Checksum);
        }

        // A payload that passes its checksum but does not decode: garbage,
        // a draft cut short, a draft with bytes after it, a span beyond
        // the text.
        let with_payload = |payload: &[u8]| {
            let mut b = good[..payload_at].to_vec();
            let n = b.len();
            b[n - 16..n - 8].copy_from_slice(&(payload.len() as u64).to_le_bytes());
            b[n - 8..].copy_from_slice(&xxh3_64(payload).to_le_bytes());
            b.extend_from_slice(payload);
            b
        };
        let payload = &good[payload_at..];
        check(&with_payload(&[0xff; 40]), Reject::Payload);
        check(
            &with_payload(&payload[..payload.len() / 2]),
            Reject::Payload,
        );
        let mut longer = payload.to_vec();
        longer.push(0);
        check(&with_payload(&longer), Reject::Payload);
        assert_eq!(decode(&good, k, 0, 10).unwrap_err(), Reject::Payload);
        assert!(decode(&with_payload(payload), k, 0, len).is_ok());
    }

    #[test]
    fn a_rejected_entry_is_counted_and_written_anew() {
        let root = temp_dir("reject");
        let cache = Cache::open(&root).unwrap();
        let s = real_plan();
        through(&cache, 0, &s);
        let path = cache.entry_path(&s);
        let good = fs::read(&path).unwrap();
        let mut bad = good.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        fs::write(&path, &bad).unwrap();
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        let stats = cache.stats();
        assert_eq!((stats.rejected, stats.misses, stats.written), (1, 2, 2));
        assert_eq!(fs::read(&path).unwrap(), good);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_deleted_directory_only_costs_the_hits() {
        let root = temp_dir("deleted");
        let cache = Cache::open(&root).unwrap();
        let s = real_plan();
        through(&cache, 0, &s);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        assert_eq!(cache.stats().written, 2);
        assert!(cache.take_write_error().is_none());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_unwritable_directory_reports_one_error_and_reads_on() {
        let root = temp_dir("unwritable");
        let cache = Cache::open(&root).unwrap();
        let s = real_plan();
        // A file where the entry's directory would go (permissions would
        // not stop a test run as root).
        fs::write(cache.entry_path(&s).parent().unwrap(), "").unwrap();
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        let e = cache.take_write_error().expect("a write error");
        assert_eq!(e.action, "write");
        assert!(
            e.to_string()
                .starts_with("cannot write the plan cache in `"),
            "{e}"
        );
        assert_eq!(through(&cache, 0, &s), read(0, &s));
        assert!(cache.take_write_error().is_none());
        assert_eq!(cache.stats().written, 0);

        let blocked = root.join(format!("plans-v{FORMAT}"));
        fs::remove_dir_all(&root).unwrap();
        fs::create_dir_all(&root).unwrap();
        fs::write(&blocked, "").unwrap();
        let e = Cache::open(&root).unwrap_err();
        assert_eq!(e.action, "create");
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_span_is_not_serialized_outside_the_cache() {
        let span = Span::new(1, 2..3);
        assert!(postcard::to_stdvec(&span).is_err());
        assert!(postcard::from_bytes::<Span>(&[2, 3]).is_err());
        let other_file = with_span_file(2, 10, || postcard::to_stdvec(&span));
        assert!(other_file.is_err());
        let bytes = with_span_file(1, 10, || postcard::to_stdvec(&span)).unwrap();
        let back = with_span_file(9, 10, || postcard::from_bytes::<Span>(&bytes)).unwrap();
        assert_eq!(back, Span::new(9, 2..3));
        assert!(SPAN_FILE.get().is_none());
    }

    #[test]
    fn the_key_depends_on_every_byte_of_the_text() {
        let a = key("[plan]\nid = \"a\"\n");
        assert_ne!(a, key("[plan]\nid = \"b\"\n"));
        assert_ne!(a, key("[plan]\nid = \"a\"\n\n"));
        assert_eq!(a, key("[plan]\nid = \"a\"\n"));
    }
}
