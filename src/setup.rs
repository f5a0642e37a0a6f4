//! What every command needs before it can evaluate: the plan paths, the
//! project configuration, the rule packs (built-in or from directories) and
//! the compiled program.

use std::path::{Path, PathBuf};

use hyoka_dsl::Program;
use hyoka_engine::config::{self, PackFiles, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::load::{Cache, LoadOptions};
use hyoka_engine::rules::CompileError;
use hyoka_engine::schema::PlanSchema;
use hyoka_engine::PlanDiagnostic;

include!(concat!(env!("OUT_DIR"), "/standard_packs.rs"));

/// Options shared by the commands that evaluate.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RuleOptions {
    /// Rule pack directories to use instead of the configured ones (repeatable)
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Project configuration (default: hyoka.toml found from the plans' directory upwards)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override a parameter: --set grades.a_min=85% (repeatable)
    #[arg(long = "set", value_name = "PACK.PARAM=VALUE", value_parser = parse_set)]
    pub set: Vec<(String, String)>,
}

/// The cache of loaded plans, shared by the commands that load every plan.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CacheOptions {
    /// Directory of the cache of loaded plans (default: $HYOKA_CACHE_DIR, else
    /// $XDG_CACHE_HOME/hyoka, else ~/.cache/hyoka); safe to delete
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Parse every plan file, without reading or writing the cache
    #[arg(long, conflicts_with = "cache_dir")]
    pub no_cache: bool,
    /// Say on standard error what the cache did (hits, misses, entries written and rejected)
    #[arg(short, long)]
    pub verbose: bool,
}

/// The cache directory: `--cache-dir`, else `HYOKA_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/hyoka`, else `$HOME/.cache/hyoka`; `None` with
/// `--no-cache` or when none of these is set.
pub fn cache_dir(opts: &CacheOptions) -> Option<PathBuf> {
    if opts.no_cache {
        return None;
    }
    if let Some(dir) = &opts.cache_dir {
        return Some(dir.clone());
    }
    // Empty variables count as unset, as shells and CI templates often
    // leave them; the XDG base directory spec ignores a relative
    // XDG_CACHE_HOME.
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("HYOKA_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CACHE_HOME").map(PathBuf::from) {
        if dir.is_absolute() {
            return Some(dir.join("hyoka"));
        }
    }
    var("HOME").map(|home| PathBuf::from(home).join(".cache").join("hyoka"))
}

/// Loads the plans through the cache of `opts`. The cache never changes the
/// result: when it cannot be used the plans are read without it, and the
/// lines returned (a warning, and with `--verbose` what the cache did) are
/// for standard error.
pub fn load_plans(paths: &[PathBuf], opts: &CacheOptions) -> (hyoka_engine::Loaded, String) {
    let mut notes = String::new();
    let cache = cache_dir(opts).and_then(|dir| match Cache::open(dir) {
        Ok(cache) => Some(cache),
        Err(e) => {
            notes.push_str(&format!("warning: {e}; reading the plans without it\n"));
            None
        }
    });
    let loaded = hyoka_engine::load::load_with(
        paths,
        &LoadOptions {
            cache: cache.as_ref(),
        },
    );
    crate::alloc::release_free_memory();
    if let Some(cache) = &cache {
        if let Some(e) = cache.take_write_error() {
            notes.push_str(&format!(
                "warning: {e}; no more entries are written in this run\n"
            ));
        }
    }
    let pruned = cache.as_ref().and_then(Cache::prune);
    if opts.verbose {
        match &cache {
            Some(cache) => notes.push_str(&format!(
                "plan cache {}: {}\n",
                cache.root().display(),
                cache.stats()
            )),
            None => notes.push_str("plan cache: off\n"),
        }
        if let Some(pruned) = pruned {
            notes.push_str(&format!("plan cache pruned: {pruned}\n"));
        }
    }
    (loaded, notes)
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!(
            "`{s}` is not PACK.PARAM=VALUE, e.g. grades.a_min=85%"
        )),
    }
}

/// Why the rules could not be made ready.
pub enum SetupError {
    Config(Box<PlanDiagnostic>),
    Compile(Vec<CompileError>),
}

/// The project configuration for `paths` (empty when there is none).
pub fn project_config(
    paths: &[PathBuf],
    opts: &RuleOptions,
) -> Result<(ProjectConfig, Option<PathBuf>), Box<PlanDiagnostic>> {
    let path = match &opts.config {
        Some(p) => Some(p.clone()),
        None => config::find_config(paths),
    };
    match &path {
        Some(p) => Ok((config::read_config(p)?, path)),
        None => Ok((ProjectConfig::default(), None)),
    }
}

/// A standard pack by name.
pub fn standard_pack(name: &str) -> Option<Result<PackFiles, Box<PlanDiagnostic>>> {
    STANDARD_PACKS
        .iter()
        .find(|(dir, _, _)| *dir == name)
        .map(|(dir, manifest, files)| {
            config::pack_from_texts(&format!("rules/{dir}"), manifest, files)
        })
}

/// The names of the standard packs built into this binary.
pub fn standard_pack_names() -> Vec<&'static str> {
    STANDARD_PACKS.iter().map(|(d, _, _)| *d).collect()
}

/// Reads a pack directory, or every pack directory inside it.
fn packs_in(dir: &Path, out: &mut Vec<PackFiles>) -> Result<(), Box<PlanDiagnostic>> {
    if dir.join("pack.toml").is_file() {
        out.push(config::read_pack(dir)?);
        return Ok(());
    }
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            PlanDiagnostic::new(
                "hyoka::config",
                hyoka_engine::Severity::Error,
                format!("{}: cannot read the rule directory: {e}", dir.display()),
            )
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("pack.toml").is_file())
        .collect();
    subdirs.sort();
    if subdirs.is_empty() {
        return Err(PlanDiagnostic::new(
            "hyoka::config",
            hyoka_engine::Severity::Error,
            format!("{}: no rule pack here (no pack.toml)", dir.display()),
        )
        .help("a rule pack is a directory with pack.toml and .hyk files")
        .into());
    }
    for d in subdirs {
        out.push(config::read_pack(&d)?);
    }
    Ok(())
}

/// The packs to run: `--rules` directories, else the configuration's
/// `packs`, else the default standard packs.
pub fn select_packs(
    opts: &RuleOptions,
    config: &ProjectConfig,
    config_path: Option<&Path>,
) -> Result<Vec<PackFiles>, Box<PlanDiagnostic>> {
    let mut packs = Vec::new();
    if !opts.rules.is_empty() {
        for dir in &opts.rules {
            packs_in(dir, &mut packs)?;
        }
        return Ok(packs);
    }
    let names: Vec<String> = if config.packs.is_empty() {
        DEFAULT_PACKS.iter().map(|s| s.to_string()).collect()
    } else {
        config.packs.clone()
    };
    let base = config_path.and_then(Path::parent).unwrap_or(Path::new("."));
    for name in names {
        let dir = base.join(&name);
        if dir.is_dir() {
            packs_in(&dir, &mut packs)?;
        } else if let Some(p) = standard_pack(&name) {
            packs.push(p?);
        } else {
            let known = standard_pack_names();
            let help = match hyoka_engine::load::read::did_you_mean(&name, &known) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("standard packs: {}; or give a directory", known.join(", ")),
            };
            return Err(PlanDiagnostic::new(
                "hyoka::config",
                hyoka_engine::Severity::Error,
                format!("rule pack `{name}` is neither a standard pack nor a directory"),
            )
            .help(help)
            .into());
        }
    }
    Ok(packs)
}

/// Everything needed to evaluate.
pub struct Rules {
    pub config: ProjectConfig,
    pub packs: Vec<PackFiles>,
    pub program: Program,
}

/// Configuration, packs and compilation in one step.
pub fn rules(
    paths: &[PathBuf],
    opts: &RuleOptions,
    schema: &PlanSchema,
) -> Result<Rules, SetupError> {
    let (config, config_path) = project_config(paths, opts).map_err(SetupError::Config)?;
    let packs = select_packs(opts, &config, config_path.as_deref()).map_err(SetupError::Config)?;
    let program = hyoka_engine::rules::compile(&packs, &config, &opts.set, schema)
        .map_err(SetupError::Compile)?;
    Ok(Rules {
        config,
        packs,
        program,
    })
}
