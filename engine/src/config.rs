//! The project configuration (`hyoka.toml`) and rule pack manifests
//! (`pack.toml`): which packs to run, with which parameters and rule
//! overrides. Reads those files and the packs' rule sources; compiling them
//! is the dsl crate's job.
//!
//! With no `hyoka.toml`, the standard packs and their defaults apply, so
//! `hyoka check` in a directory of plans just works.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::SourceFile;

/// Settings keyed `PACK.NAME`, with where each is written.
pub type Settings = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// `hyoka.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Rule packs: a standard pack's name (`grades-abcd`) or a directory,
    /// relative to the configuration file.
    #[serde(default)]
    pub packs: Vec<String>,
    /// The evaluation year, when not given on the command line.
    pub year: Option<i32>,
    /// Parameter overrides: `"grades.a_min" = "85%"`.
    #[serde(default)]
    pub params: Settings,
    /// Rule overrides: `"review.merge_candidates" = "off"`.
    #[serde(default)]
    pub rules: Settings,
    /// The configuration file itself, for error locations.
    #[serde(skip)]
    pub source: Option<SourceFile>,
}

/// `pack.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub extends: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub params: Settings,
    #[serde(default)]
    pub rules: Settings,
}

/// A rule pack read from disk.
#[derive(Debug)]
pub struct PackFiles {
    pub dir: PathBuf,
    pub manifest: PackManifest,
    /// The manifest's own source, for provenance.
    pub manifest_source: SourceFile,
    /// The `.hyk` files, sorted by name.
    pub files: Vec<SourceFile>,
}

/// The packs that run when no configuration names any.
pub const DEFAULT_PACKS: &[&str] = &["rates", "grades", "review", "consistency", "quality"];

/// A parameter value as text the dsl parses (`"85%"`, `"0.9"`, `"true"`).
pub fn param_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn config_error(path: &Path, message: String, help: &str) -> Box<PlanDiagnostic> {
    Box::new(
        PlanDiagnostic::new(
            "hyoka::config",
            Severity::Error,
            format!("{}: {message}", path.display()),
        )
        .help(help.to_string()),
    )
}

/// Reads a TOML file into `T`, with errors pointing into the file.
fn read_toml<T: for<'de> Deserialize<'de>>(
    path: &Path,
) -> Result<(T, SourceFile), Box<PlanDiagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        config_error(
            path,
            format!("cannot read: {e}"),
            "check that the file exists",
        )
    })?;
    let source = SourceFile {
        name: path.display().to_string(),
        text: Arc::from(text.as_str()),
    };
    parse_toml::<T>(&source).map(|v| (v, source))
}

fn parse_toml<T: for<'de> Deserialize<'de>>(source: &SourceFile) -> Result<T, Box<PlanDiagnostic>> {
    match toml::from_str::<T>(&source.text) {
        Ok(v) => Ok(v),
        Err(e) => {
            let range = e.span().unwrap_or(0..0);
            Err(PlanDiagnostic::new(
                "hyoka::config",
                Severity::Error,
                e.message().trim_end().to_string(),
            )
            .in_file(source)
            .label(range, "here")
            .help("see docs/rule-language.md, \"Rule packs\", for the keys of hyoka.toml and pack.toml")
            .into())
        }
    }
}

/// Reads `hyoka.toml` at `path`.
pub fn read_config(path: &Path) -> Result<ProjectConfig, Box<PlanDiagnostic>> {
    read_toml::<ProjectConfig>(path).map(|(mut c, source)| {
        c.source = Some(source);
        c
    })
}

/// Reads a pack from texts in memory (the standard packs built into the
/// binary, tests).
pub fn pack_from_texts(
    dir: &str,
    manifest: &str,
    files: &[(&str, &str)],
) -> Result<PackFiles, Box<PlanDiagnostic>> {
    let manifest_source = SourceFile {
        name: format!("{dir}/pack.toml"),
        text: Arc::from(manifest),
    };
    let manifest = parse_toml::<PackManifest>(&manifest_source)?;
    Ok(PackFiles {
        dir: PathBuf::from(dir),
        manifest,
        manifest_source,
        files: files
            .iter()
            .map(|(name, text)| SourceFile {
                name: format!("{dir}/{name}"),
                text: Arc::from(*text),
            })
            .collect(),
    })
}

/// Reads a pack directory: its manifest and its `.hyk` files.
pub fn read_pack(dir: &Path) -> Result<PackFiles, Box<PlanDiagnostic>> {
    let manifest_path = dir.join("pack.toml");
    if !manifest_path.is_file() {
        return Err(config_error(
            dir,
            "is not a rule pack: it has no pack.toml".into(),
            "a rule pack is a directory with a pack.toml (name, version, description, extends) and .hyk files",
        ));
    }
    let (manifest, manifest_source) = read_toml::<PackManifest>(&manifest_path)?;
    let mut paths = Vec::new();
    collect_rule_files(dir, &mut paths).map_err(|e| {
        config_error(
            dir,
            format!("cannot read the pack: {e}"),
            "check the directory's permissions",
        )
    })?;
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        let text = std::fs::read_to_string(&p).map_err(|e| {
            config_error(
                &p,
                format!("cannot read: {e}"),
                "rule files must be UTF-8 text",
            )
        })?;
        files.push(SourceFile {
            name: p.display().to_string(),
            text: Arc::from(text),
        });
    }
    Ok(PackFiles {
        dir: dir.to_path_buf(),
        manifest,
        manifest_source,
        files,
    })
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_file() && path.extension().is_some_and(|e| e == "hyk") {
            out.push(path);
        }
    }
    Ok(())
}

/// Finds `hyoka.toml` for a set of plan paths: in the first path (when it
/// is a directory), its parents, or the working directory.
pub fn find_config(plan_paths: &[PathBuf]) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(first) = plan_paths.first() {
        let start = if first.is_dir() {
            Some(first.clone())
        } else {
            first.parent().map(Path::to_path_buf)
        };
        let mut dir = start.and_then(|d| d.canonicalize().ok());
        while let Some(d) = dir {
            candidates.push(d.join(crate::load::CONFIG_FILE));
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    candidates.push(PathBuf::from(crate::load::CONFIG_FILE));
    candidates.into_iter().find(|c| c.is_file())
}
