//! Synthetic corpora on disk for the benchmarks: generated once per spec
//! with [`hyoka_engine::generate`] into a directory named after the spec,
//! and reused by later runs (a manifest file records what was written).
//!
//! It only ever creates, and on `--regen` removes, directories of its own
//! below the root it is given; it never touches anything else.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hyoka_engine::generate::{generate, CorpusSpec, GenStats};
use hyoka_engine::model::SourceFile;

/// Where corpora go unless `--root` says otherwise.
pub const DEFAULT_ROOT: &str = "/tmp/hyoka-bench";

/// Bump when the generator's output changes, so old caches are rebuilt.
const GENERATOR_VERSION: u32 = 1;

/// Hidden (the loader skips dot-files), written last: a directory without
/// it is an interrupted generation and is rebuilt.
const MANIFEST: &str = ".hyoka-bench-manifest";

/// A generated corpus on disk.
#[derive(Clone, Debug)]
pub struct Corpus {
    pub dir: PathBuf,
    pub spec: CorpusSpec,
    pub stats: GenStats,
    /// Seconds spent generating it in this run; `None` when reused.
    pub generated_in: Option<f64>,
}

impl Corpus {
    pub fn megabytes(&self) -> f64 {
        self.stats.bytes as f64 / 1e6
    }

    pub fn describe(&self) -> String {
        format!(
            "{} municipalities, {} files, {} indicators, {:.1} MB of TOML ({}){}",
            self.stats.municipalities,
            self.stats.files,
            self.stats.indicators,
            self.megabytes(),
            self.dir.display(),
            match self.generated_in {
                Some(s) => format!(", generated in {s:.1} s"),
                None => ", reused".to_string(),
            }
        )
    }
}

/// The directory of `spec` below `root`.
pub fn dir_of(root: &Path, spec: &CorpusSpec) -> PathBuf {
    root.join(format!(
        "corpus-v{GENERATOR_VERSION}-m{}-i{}-s{}-{:016x}",
        spec.municipalities, spec.indicators_per_municipality, spec.sectoral_plans, spec.seed
    ))
}

/// The corpus of `spec`, generating it unless an identical one is there.
pub fn ensure(root: &Path, spec: &CorpusSpec, regen: bool) -> io::Result<Corpus> {
    let dir = dir_of(root, spec);
    let manifest = dir.join(MANIFEST);
    if !regen {
        if let Some(stats) = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|t| parse_manifest(&t))
        {
            return Ok(Corpus {
                dir,
                spec: spec.clone(),
                stats,
                generated_in: None,
            });
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let start = Instant::now();
    let stats = generate(&dir, spec)?;
    let secs = start.elapsed().as_secs_f64();
    std::fs::write(&manifest, render_manifest(&stats))?;
    Ok(Corpus {
        dir,
        spec: spec.clone(),
        stats,
        generated_in: Some(secs),
    })
}

fn render_manifest(s: &GenStats) -> String {
    format!(
        "municipalities={}\nfiles={}\nplans={}\ngoals={}\npolicies={}\nmeasures={}\nprojects={}\nindicators={}\nlinks={}\nbytes={}\n",
        s.municipalities,
        s.files,
        s.plans,
        s.goals,
        s.policies,
        s.measures,
        s.projects,
        s.indicators,
        s.links,
        s.bytes
    )
}

fn parse_manifest(text: &str) -> Option<GenStats> {
    let mut s = GenStats::default();
    let mut seen = 0;
    for line in text.lines() {
        let (k, v) = line.split_once('=')?;
        let v: u64 = v.trim().parse().ok()?;
        let field = match k.trim() {
            "municipalities" => &mut s.municipalities,
            "files" => &mut s.files,
            "plans" => &mut s.plans,
            "goals" => &mut s.goals,
            "policies" => &mut s.policies,
            "measures" => &mut s.measures,
            "projects" => &mut s.projects,
            "indicators" => &mut s.indicators,
            "links" => &mut s.links,
            "bytes" => &mut s.bytes,
            _ => return None,
        };
        *field = v;
        seen += 1;
    }
    (seen == 10).then_some(s)
}

/// Every plan file of the corpus read into memory, in the loader's order.
pub fn read_sources(dir: &Path) -> io::Result<Vec<SourceFile>> {
    let files = hyoka_engine::load::find_plan_files(&[dir.to_path_buf()])
        .map_err(|d| io::Error::other(d.message))?;
    files
        .iter()
        .map(|p| {
            Ok(SourceFile {
                name: p.display().to_string(),
                text: Arc::from(std::fs::read_to_string(p)?),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_round_trips() {
        let s = GenStats {
            municipalities: 1,
            files: 6,
            plans: 6,
            goals: 30,
            policies: 90,
            measures: 200,
            projects: 300,
            indicators: 1000,
            links: 12,
            bytes: 654321,
        };
        assert_eq!(parse_manifest(&render_manifest(&s)), Some(s));
        assert_eq!(parse_manifest("files=3\n"), None);
    }
}
