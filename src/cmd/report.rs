//! `hyoka report`: load the plans, run the rule packs for the evaluation
//! year and the year before, and write the annual review report as
//! Markdown, HTML, CSV, JSON or a terminal summary.
//!
//! Output goes to standard output (one format), to a file (format from
//! `--format` or the file's extension) or to a directory (every format
//! asked for, all four by default, as `report-YEAR.EXT`). Files are
//! written atomically: to a temporary file in the same directory, synced,
//! then renamed over the old one, so a crash never leaves half a report
//! and an existing report is replaced only by a complete one.
//!
//! Exit codes: 0 written; 1 the plan files have errors (nothing written);
//! 2 usage, configuration or rule-pack errors, or a file could not be
//! written.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use hyoka_engine::report::{self, Format, RenderOptions, Sources};
use hyoka_engine::schema::PlanSchema;
use hyoka_engine::Severity;
use indicatif::{ProgressBar, ProgressStyle};

use crate::output::{self, Color};
use crate::setup;

/// Arguments of `hyoka report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// Plan files or directories (default: plans/)
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: setup::RuleOptions,
    #[command(flatten)]
    pub cache: setup::CacheOptions,
    /// Evaluation year (default: the configured year, else the latest year with actuals)
    #[arg(long)]
    pub year: Option<i32>,
    /// Year to compare with, for the changes since then (default: the year before)
    #[arg(long, value_name = "YEAR")]
    pub compare_year: Option<i32>,
    /// Leave out the year-over-year comparison
    #[arg(long, conflicts_with = "compare_year")]
    pub no_compare: bool,
    /// Output formats, comma-separated (default: text on standard output; all
    /// of md, html, csv, json into a directory; from the extension for a file)
    #[arg(long, value_enum, value_delimiter = ',')]
    pub format: Vec<FormatArg>,
    /// Write to FILE, or into directory DIR as report-YEAR.EXT (a path ending
    /// in / is created as a directory)
    #[arg(short, long, value_name = "FILE|DIR")]
    pub output: Option<PathBuf>,
    /// Start CSV files with a UTF-8 byte-order mark (for Excel)
    #[arg(long)]
    pub bom: bool,
    /// A date to print in the report (reports carry no timestamp otherwise)
    #[arg(long, value_name = "TEXT")]
    pub date: Option<String>,
    /// Colour the terminal summary: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

/// A format as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Md,
    Html,
    Csv,
    Json,
    Text,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Md => Format::Markdown,
            FormatArg::Html => Format::Html,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Text => Format::Text,
        }
    }
}

/// Where the report goes.
enum Target {
    Stdout(Format),
    File(PathBuf, Format),
    Dir(PathBuf, Vec<Format>),
}

fn usage(message: &str) -> ExitCode {
    output::eprint(&format!("error: {message}\n"));
    output::usage_error()
}

fn format_of_extension(path: &Path) -> Option<Format> {
    match path.extension()?.to_str()? {
        "md" | "markdown" => Some(Format::Markdown),
        "html" | "htm" => Some(Format::Html),
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        "txt" => Some(Format::Text),
        _ => None,
    }
}

fn target(args: &ReportArgs) -> Result<Target, String> {
    let mut formats: Vec<Format> = args.format.iter().map(|f| f.format()).collect();
    formats.dedup();
    match &args.output {
        None => match formats.as_slice() {
            [] => Ok(Target::Stdout(Format::Text)),
            [f] => Ok(Target::Stdout(*f)),
            _ => Err("several formats need -o DIR (standard output takes one)".into()),
        },
        Some(p) => {
            let as_dir = p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/');
            if as_dir {
                if formats.is_empty() {
                    formats = vec![Format::Markdown, Format::Html, Format::Csv, Format::Json];
                }
                formats.sort();
                formats.dedup();
                Ok(Target::Dir(p.clone(), formats))
            } else {
                match formats.as_slice() {
                    [] => format_of_extension(p)
                        .map(|f| Target::File(p.clone(), f))
                        .ok_or_else(|| {
                            format!(
                                "cannot tell the format of `{}`: give --format, or a name ending in .md, .html, .csv, .json or .txt",
                                p.display()
                            )
                        }),
                    [f] => Ok(Target::File(p.clone(), *f)),
                    _ => Err(format!(
                        "several formats need a directory, and `{}` is a file name (end it with / to make a directory)",
                        p.display()
                    )),
                }
            }
        }
    }
}

/// Quotes an argument for a POSIX shell when it needs it.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || "-_./=:%,+@".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line that makes the same report (formats and output aside).
fn command_line(args: &ReportArgs, paths: &[PathBuf], year: i32, compare: Option<i32>) -> String {
    let mut words = vec!["hyoka".to_string(), "report".to_string()];
    words.extend(paths.iter().map(|p| p.display().to_string()));
    words.push(format!("--year={year}"));
    match compare {
        Some(c) => words.push(format!("--compare-year={c}")),
        None => words.push("--no-compare".into()),
    }
    if let Some(c) = &args.rules.config {
        words.push(format!("--config={}", c.display()));
    }
    for r in &args.rules.rules {
        words.push(format!("--rules={}", r.display()));
    }
    for (k, v) in &args.rules.set {
        words.push(format!("--set={k}={v}"));
    }
    if let Some(d) = &args.date {
        words.push(format!("--date={d}"));
    }
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn progress(steps: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(steps);
    if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:24}] {pos}/{len} {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

pub fn run(args: ReportArgs) -> ExitCode {
    let target = match target(&args) {
        Ok(t) => t,
        Err(e) => return usage(&e),
    };
    let paths = crate::cmd::check::default_paths(args.paths.clone());
    let handler = output::handler(args.color);
    let schema = PlanSchema::new();
    let bar = progress(6);

    bar.set_message("compiling the rule packs");
    let rules = match setup::rules(&paths, &args.rules, &schema) {
        Ok(r) => r,
        Err(e) => {
            bar.finish_and_clear();
            return output::setup_failed(e, &handler);
        }
    };
    bar.inc(1);
    bar.set_message("loading the plans");
    let (loaded, cache_notes) = setup::load_plans(&paths, &args.cache);
    bar.suspend(|| output::eprint(&cache_notes));
    bar.inc(1);
    if loaded.has_errors() {
        bar.finish_and_clear();
        let mut out = String::new();
        let mut errors = 0;
        for d in &loaded.diagnostics {
            if d.severity == Severity::Error {
                errors += 1;
                output::render_one(d, &handler, &mut out);
            }
        }
        out.push_str(&format!(
            "the plan files have {errors} errors; no report was written (see `hyoka check`)\n"
        ));
        output::eprint(&out);
        return ExitCode::from(1);
    }
    let c = &loaded.corpus;
    let year = args
        .year
        .or(rules.config.year)
        .or_else(|| hyoka_engine::eval::latest_actual_year(c))
        .unwrap_or(0);
    let compare = if args.no_compare {
        None
    } else {
        Some(args.compare_year.unwrap_or(year - 1))
    };

    bar.set_message(format!("evaluating {year}"));
    let evaluation = hyoka_engine::eval::evaluate(c, &schema, &rules.program, year);
    bar.inc(1);
    bar.set_message("evaluating the year compared with");
    let previous = compare.map(|y| hyoka_engine::eval::evaluate(c, &schema, &rules.program, y));
    bar.inc(1);

    bar.set_message("building the report");
    let sources = Sources {
        packs: &rules.packs,
        config: rules.config.source.as_ref(),
        load_diagnostics: &loaded.diagnostics,
        command: Some(command_line(&args, &paths, year, compare)),
        date: args.date.clone(),
    };
    let data = report::build(&rules.program, &evaluation, previous.as_ref(), &sources);
    bar.inc(1);

    bar.set_message("writing");
    let to_file_color = matches!(args.color, Color::Always);
    let result = match &target {
        Target::Stdout(f) => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let bytes = report::render(
                &data,
                *f,
                RenderOptions {
                    bom: args.bom,
                    color,
                },
            );
            bar.finish_and_clear();
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)
                .and_then(|()| out.flush())
                .map(|()| Vec::new())
        }
        Target::File(p, f) => {
            write_report(&data, p, *f, args.bom, to_file_color).map(|()| vec![p.clone()])
        }
        Target::Dir(dir, formats) => (|| {
            std::fs::create_dir_all(dir)?;
            let mut written = Vec::new();
            for f in formats {
                let p = dir.join(format!("report-{year}.{}", f.extension()));
                write_report(&data, &p, *f, args.bom, to_file_color)?;
                written.push(p);
            }
            Ok(written)
        })(),
    };
    bar.inc(1);
    bar.finish_and_clear();
    match result {
        Ok(written) => {
            for p in written {
                output::eprint(&format!("wrote {}\n", p.display()));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            let what = match &target {
                Target::Stdout(_) => "standard output".to_string(),
                Target::File(p, _) | Target::Dir(p, _) => p.display().to_string(),
            };
            output::eprint(&format!("error: cannot write the report to {what}: {e}\n"));
            output::usage_error()
        }
    }
}

fn write_report(
    data: &report::ReportData,
    path: &Path,
    format: Format,
    bom: bool,
    color: bool,
) -> std::io::Result<()> {
    let bytes = report::render(data, format, RenderOptions { bom, color });
    write_atomic(path, &bytes)
}

/// Writes `bytes` to `path` so that `path` is always either the old file or
/// the complete new one: a temporary file in the same directory, written
/// and synced, then renamed over `path`, and the directory synced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".hyoka-report-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.flush()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Keep the old file's permissions; a new report is world-readable
        // like any other file the user writes (tempfile makes it 0600).
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    {
        // The rename itself is durable only once the directory is synced.
        std::fs::File::open(&dir)?.sync_all()?;
    }
    Ok(())
}
