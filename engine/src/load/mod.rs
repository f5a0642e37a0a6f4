//! Loading plan files into a [`Corpus`]: the only part of hyoka that reads
//! plan files from disk.
//!
//! Files are found (sorted, so the corpus is the same on every machine),
//! read and parsed in parallel, one [`read::FileDraft`] each, then resolved
//! together. Every problem of every file is reported; nothing is skipped in
//! silence and nothing panics on bad input.
//!
//! With a [`Cache`] ([`load_with`]), a file whose text was read before
//! skips parsing: its draft comes from the cache. Everything else — reading
//! the texts, resolving, the diagnostics — is the same, and so is the result.

pub mod cache;
pub mod read;
pub mod resolve;

pub use cache::{Cache, CacheError, CacheStats};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::{Corpus, FileId, SourceFile};

/// A loaded corpus and everything that was wrong with its files.
#[derive(Debug)]
pub struct Loaded {
    pub corpus: Corpus,
    pub diagnostics: Vec<PlanDiagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// The name of the project configuration file, which is not a plan.
pub const CONFIG_FILE: &str = "hyoka.toml";

/// Finds the plan files under `paths` (files are taken as given, directories
/// are walked for `*.toml`), sorted and without duplicates.
pub fn find_plan_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Box<PlanDiagnostic>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| io_error(p, &e))?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Box<PlanDiagnostic>> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, &e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let ty = entry.file_type().map_err(|e| io_error(&path, &e))?;
        if ty.is_dir() {
            walk(&path, out)?;
        } else if name.ends_with(".toml") && name != CONFIG_FILE {
            out.push(path);
        }
    }
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> Box<PlanDiagnostic> {
    Box::new(
        PlanDiagnostic::new(
            "hyoka::plan::io",
            Severity::Error,
            format!("cannot read `{}`: {e}", path.display()),
        )
        .help("check that the path exists and is readable"),
    )
}

/// Reads one file's text, refusing what is not UTF-8.
fn read_text(path: &Path) -> Result<String, Box<PlanDiagnostic>> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, &e))?;
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    String::from_utf8(bytes).map_err(|e| {
        // Shown with the bad bytes replaced, so the label can point at the
        // line of the first one (everything before it is unchanged).
        let at = e.utf8_error().valid_up_to();
        let shown = SourceFile {
            name: path.display().to_string(),
            text: Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        };
        let replacement = char::REPLACEMENT_CHARACTER.len_utf8();
        Box::new(
            PlanDiagnostic::new(
                "hyoka::plan::encoding",
                Severity::Error,
                "plan file is not UTF-8",
            )
            .in_file(&shown)
            .label(at..at + replacement, "first byte that is not UTF-8")
            .help("save the file as UTF-8; files saved from Excel as Shift_JIS must be converted (for example `iconv -f SHIFT_JIS -t UTF-8`)"),
        )
    })
}

/// How to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions<'a> {
    /// Where drafts of files read before are kept; `None` parses every
    /// file. Its counters tell what it did ([`Cache::stats`]).
    pub cache: Option<&'a Cache>,
}

/// Loads every plan file under `paths`.
pub fn load(paths: &[PathBuf]) -> Loaded {
    load_with(paths, &LoadOptions::default())
}

/// Loads every plan file under `paths`, through the cache when there is
/// one. The corpus and the diagnostics are those of [`load`].
pub fn load_with(paths: &[PathBuf], options: &LoadOptions<'_>) -> Loaded {
    let files = match find_plan_files(paths) {
        Ok(f) => f,
        Err(d) => {
            return Loaded {
                corpus: Corpus::default(),
                diagnostics: vec![*d],
            }
        }
    };
    let mut diagnostics = Vec::new();
    let mut sources = Vec::with_capacity(files.len());
    let texts: Vec<_> = files.par_iter().map(|p| read_text(p)).collect();
    for (path, text) in files.iter().zip(texts) {
        match text {
            Ok(text) => sources.push(SourceFile {
                name: path.display().to_string(),
                text: Arc::from(text),
            }),
            Err(d) => diagnostics.push(*d),
        }
    }
    let mut loaded = load_sources_with(sources, options);
    diagnostics.append(&mut loaded.diagnostics);
    let names: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    sort_by_place(&mut diagnostics, &names);
    loaded.diagnostics = diagnostics;
    loaded
}

/// Loads plans from texts already in memory (tests, editors, caches).
pub fn load_sources(sources: Vec<SourceFile>) -> Loaded {
    load_sources_with(sources, &LoadOptions::default())
}

/// [`load_sources`] through the cache when there is one.
pub fn load_sources_with(sources: Vec<SourceFile>, options: &LoadOptions<'_>) -> Loaded {
    let results: Vec<_> = sources
        .par_iter()
        .enumerate()
        .map(|(i, source)| {
            let mut diags = Vec::new();
            let draft = match options.cache {
                Some(cache) => cache.read_file(i as FileId, source, &mut diags),
                None => read::read_file(i as FileId, source, &mut diags),
            };
            (draft, diags)
        })
        .collect();
    let mut diagnostics = Vec::new();
    let mut drafts = Vec::with_capacity(results.len());
    for (draft, mut diags) in results {
        diagnostics.append(&mut diags);
        drafts.push(draft);
    }
    let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
    let corpus = resolve::resolve(sources, drafts, &mut diagnostics);
    sort_by_place(&mut diagnostics, &names);
    Loaded {
        corpus,
        diagnostics,
    }
}

/// Orders diagnostics by file (in the order of `names`) and by place in the
/// file, so each file's problems read from top to bottom, whichever stage
/// found them. Diagnostics without a place come first; the sort is stable.
fn sort_by_place(diagnostics: &mut [PlanDiagnostic], names: &[String]) {
    if diagnostics.len() < 2 {
        return;
    }
    // A messy corpus can have as many diagnostics as files: look the file
    // up by name once per diagnostic, not by a scan of every name.
    let mut order: rustc_hash::FxHashMap<&str, usize> = Default::default();
    for (i, n) in names.iter().enumerate() {
        order.entry(n.as_str()).or_insert(i);
    }
    diagnostics.sort_by_cached_key(|d| {
        let Some(file) = &d.file else {
            return (0, 0, 0);
        };
        let index = order.get(file.name()).copied().unwrap_or(names.len());
        let start = d.labels.first().map_or(0, |(r, _)| r.start);
        (1, index, start)
    });
}
