//! `hyoka-bench`: the command line of hyoka's large benchmarks.
//!
//! - `gen`   writes a synthetic corpus (deterministic) to a directory;
//! - `load`  hyoka's loader against plain `toml::from_str` + serde structs
//!   on the same files, in memory and from disk, on 1 and 2 threads;
//! - `scale` loading 1,000 and 10,000 plan files: time per MB;
//! - `check` end-to-end `hyoka check` (the release binary, as a child) on
//!   1, 10, 100 … 1,741 municipalities: wall time and peak RSS vs size;
//! - `zen`   the grade rule: hyoka vs a hand-written loop vs the GoRules ZEN
//!   engine on the same indicators (`zen.rs`; needs `--features zen`);
//!
//! Every figure is printed next to the baseline measured in the same run,
//! as a ratio. This file parses arguments, runs and prints; measuring is in
//! `measure.rs`, corpora in `corpus.rs`. It never asserts a goal (a miss is
//! printed, not a failure) and never writes outside its corpus root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use rayon::prelude::*;

use hyoka_bench::corpus::{self, Corpus, DEFAULT_ROOT};
use hyoka_bench::measure::{self, best, median, pool, thousands, time_on, time_on_cpu, Timed};
use hyoka_bench::plain;
use hyoka_engine::generate::{CorpusSpec, MUNICIPALITIES_OF_JAPAN};

mod zen;

#[derive(Parser, Debug)]
#[command(
    name = "hyoka-bench",
    about = "Benchmarks of hyoka (build with --release)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Write a synthetic corpus to a directory (deterministic per seed).
    Gen {
        /// Output directory (created; should be empty)
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        spec: SpecArgs,
    },
    /// Loading throughput: hyoka vs toml::from_str + plain serde structs.
    Load {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        common: CommonArgs,
        /// Repetitions of each case (the best is reported)
        #[arg(long, default_value_t = 5)]
        iterations: usize,
    },
    /// Loading 1,000 and 10,000 plan files: time per MB.
    Scale {
        /// File counts to load
        #[arg(long, value_delimiter = ',', default_values_t = [1000u64, 10000])]
        files: Vec<u64>,
        /// Indicators per plan file (the seeds hold 0–50, generated top
        /// plans about 170)
        #[arg(long, default_value_t = 40)]
        indicators_per_file: u32,
        /// Threads of the loader's pool
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, default_value_t = 3)]
        iterations: usize,
    },
    /// End-to-end `hyoka check` on corpora of N municipalities.
    Check {
        /// Municipality counts (1741 = all of Japan: ~1.7 M indicators,
        /// about 1 GB of TOML; generating and checking it takes minutes)
        #[arg(long, value_delimiter = ',', default_values_t = [1u32, 10, 100])]
        sizes: Vec<u32>,
        /// Indicators per municipality
        #[arg(long, default_value_t = 1000)]
        indicators: u32,
        /// Sectoral plans per municipality
        #[arg(long, default_value_t = 5)]
        sectoral: u32,
        #[arg(long, default_value_t = 0x6879_6f6b_6120_6265)]
        seed: u64,
        /// The hyoka binary (default: `hyoka` next to this executable)
        #[arg(long)]
        hyoka: Option<PathBuf>,
        /// Runs per size (the median wall time and the largest peak RSS
        /// are reported)
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Drop the page cache before each run (root only): a cold read
        #[arg(long)]
        drop_caches: bool,
        /// Arguments given to `hyoka check` after the corpus directory
        /// (by default only errors are printed in full: a big synthetic
        /// corpus has millions of warnings, and rendering them is not
        /// what is measured; and the plan cache is off, so every run
        /// parses every file)
        #[arg(long = "check-arg", allow_hyphen_values = true,
              default_values_t = ["--color".to_string(), "never".to_string(), "--show".to_string(), "error".to_string(), "--no-cache".to_string()])]
        check_args: Vec<String>,
        /// Also measure the plan cache, once per size: a cold run into an
        /// empty cache directory, a warm re-run, and a re-run after one
        /// plan file changed (a comment line appended, then taken out)
        #[arg(long)]
        cache: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Run one loader over and over, for a profiler
    /// (`perf record -g hyoka-bench profile …`).
    Profile {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        common: CommonArgs,
        /// hyoka (load_sources) or toml (from_str into plain structs)
        #[arg(long, default_value = "hyoka")]
        loader: String,
        #[arg(long, default_value_t = 5)]
        times: usize,
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// The grade rule: hyoka vs a hand-written loop vs the GoRules ZEN
    /// engine, same indicators, same run (build with `--features zen`).
    Zen(zen::ZenArgs),
}

#[derive(Args, Debug, Clone)]
struct SpecArgs {
    /// Municipalities
    #[arg(long, default_value_t = 100)]
    municipalities: u32,
    /// Indicators per municipality, over all its plans
    #[arg(long, default_value_t = 1000)]
    indicators: u32,
    /// Sectoral plans per municipality besides the top plan
    #[arg(long, default_value_t = 5)]
    sectoral: u32,
    #[arg(long, default_value_t = 0x6879_6f6b_6120_6265)]
    seed: u64,
}

impl SpecArgs {
    fn spec(&self) -> CorpusSpec {
        CorpusSpec {
            seed: self.seed,
            municipalities: self.municipalities,
            indicators_per_municipality: self.indicators,
            sectoral_plans: self.sectoral,
        }
    }
}

#[derive(Args, Debug, Clone)]
struct CommonArgs {
    /// Where generated corpora are kept and reused
    #[arg(long, default_value = DEFAULT_ROOT)]
    root: PathBuf,
    /// Generate the corpora again even when present
    #[arg(long)]
    regen: bool,
    /// Before each timed run, wait up to this many seconds for the machine
    /// to be idle (other builds on a 2-core machine ruin thread scaling)
    #[arg(long, default_value_t = 30.0)]
    idle_wait: f64,
}

impl CommonArgs {
    /// Waits for an idle machine; returns the busy share seen.
    fn settle(&self) -> f64 {
        if self.idle_wait <= 0.0 {
            return 0.0;
        }
        measure::wait_until_idle(Duration::from_secs_f64(self.idle_wait), 0.15)
    }
}

/// The most busy the machine was just before a timed run.
#[derive(Default)]
struct Busy(f64);

impl Busy {
    fn see(&mut self, busy: f64) {
        self.0 = self.0.max(busy);
    }

    fn line(&self) -> String {
        let pct = self.0 * 100.0;
        if self.0 > 0.15 {
            format!("WARNING: the machine was up to {pct:.0}% busy with other work before some runs: figures are pessimistic")
        } else {
            format!("machine idle before every run (at most {pct:.0}% busy)")
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Gen { out, spec } => cmd_gen(&out, &spec.spec()),
        Cmd::Load {
            spec,
            common,
            iterations,
        } => cmd_load(&spec.spec(), &common, iterations.max(1)),
        Cmd::Scale {
            files,
            indicators_per_file,
            threads,
            common,
            iterations,
        } => cmd_scale(
            &files,
            indicators_per_file,
            threads,
            &common,
            iterations.max(1),
        ),
        Cmd::Check {
            sizes,
            indicators,
            sectoral,
            seed,
            hyoka,
            repeat,
            drop_caches,
            check_args,
            cache,
            common,
        } => {
            let template = CorpusSpec {
                seed,
                municipalities: 1,
                indicators_per_municipality: indicators,
                sectoral_plans: sectoral,
            };
            cmd_check(
                &sizes,
                &template,
                hyoka,
                &CheckRuns {
                    repeat: repeat.max(1),
                    drop_caches,
                    check_args: &check_args,
                    cache,
                },
                &common,
            )
        }
        Cmd::Profile {
            spec,
            common,
            loader,
            times,
            threads,
        } => cmd_profile(&spec.spec(), &common, &loader, times, threads),
        Cmd::Zen(args) => return zen::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hyoka-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("machine: {cpu}, {threads} hardware threads")
}

fn cmd_gen(out: &Path, spec: &CorpusSpec) -> Result<()> {
    let start = std::time::Instant::now();
    let stats = hyoka_engine::generate::generate(out, spec)?;
    println!(
        "wrote {} files ({} plans, {} projects, {} indicators, {} same_as links), {:.1} MB in {:.1} s to {}",
        thousands(stats.files),
        thousands(stats.plans),
        thousands(stats.projects),
        thousands(stats.indicators),
        thousands(stats.links),
        stats.bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Loads the corpus once with hyoka and the plain way, and refuses to
/// benchmark a corpus that does not load cleanly.
fn validate(c: &Corpus, sources: &[hyoka_engine::model::SourceFile]) -> Result<()> {
    let loaded = hyoka_engine::load_sources(sources.to_vec());
    if let Some(d) = loaded.diagnostics.first() {
        return Err(format!(
            "the generated corpus has {} diagnostics (first: {} {})",
            loaded.diagnostics.len(),
            d.code,
            d.message
        )
        .into());
    }
    if loaded.corpus.indicators.len() as u64 != c.stats.indicators {
        return Err("indicator count differs from the generator's".into());
    }
    for s in sources {
        plain::parse(&s.text).map_err(|e| format!("{}: {e}", s.name))?;
    }
    Ok(())
}

fn cmd_load(spec: &CorpusSpec, common: &CommonArgs, iterations: usize) -> Result<()> {
    println!("{}", machine_line());
    let c = corpus::ensure(&common.root, spec, common.regen)?;
    println!("corpus: {}", c.describe());
    let sources = corpus::read_sources(&c.dir)?;
    validate(&c, &sources)?;
    let files =
        hyoka_engine::load::find_plan_files(std::slice::from_ref(&c.dir)).map_err(|d| d.message)?;
    let paths = vec![c.dir.clone()];
    let threads = [1usize, 2];
    let pools: Vec<_> = threads.iter().map(|&t| pool(t)).collect();

    // case × threads → runs; cases interleaved so drift hits all alike.
    const CASES: [&str; 4] = [
        "toml::from_str, plain serde (memory)",
        "hyoka load_sources (memory)",
        "read + toml::from_str (disk)",
        "hyoka load (disk)",
    ];
    let mut runs: Vec<Vec<Vec<Timed>>> = vec![vec![Vec::new(); threads.len()]; CASES.len()];
    let mut busy = Busy::default();
    for _ in 0..iterations {
        for (ti, p) in pools.iter().enumerate() {
            busy.see(common.settle());
            runs[0][ti].push(time_on_cpu(p, || {
                sources
                    .par_iter()
                    .map(|s| plain::parse(&s.text).expect("validated"))
                    .collect::<Vec<_>>()
            }));
            let owned = sources.clone();
            busy.see(common.settle());
            runs[1][ti].push(time_on_cpu(p, move || hyoka_engine::load_sources(owned)));
            busy.see(common.settle());
            runs[2][ti].push(time_on_cpu(p, || {
                let files = hyoka_engine::load::find_plan_files(&paths).expect("listed");
                files
                    .par_iter()
                    .map(|f| {
                        let text = std::fs::read_to_string(f).expect("readable");
                        plain::parse(&text).expect("validated")
                    })
                    .collect::<Vec<_>>()
            }));
            busy.see(common.settle());
            runs[3][ti].push(time_on_cpu(p, || hyoka_engine::load(&paths)));
        }
    }
    // Best wall time, and best critical-path CPU time, per case and threads.
    let pick = |f: fn(&Timed) -> Duration| -> Vec<Vec<Duration>> {
        runs.iter()
            .map(|per| {
                per.iter()
                    .map(|r| best(&r.iter().map(f).collect::<Vec<_>>()))
                    .collect()
            })
            .collect()
    };
    let wall = pick(|t| t.wall);
    let crit = pick(|t| t.critical_cpu);

    let mb = c.megabytes();
    let ind = c.stats.indicators as f64;
    println!(
        "{} files, best of {iterations} runs each; ratio = throughput ÷ the toml+serde baseline of the same source and threads\n\
         wall = elapsed time; crit = CPU time of the busiest pool thread (the critical path: what the wall time\n\
         would be on otherwise idle cores; other processes lengthen wall but not crit)\n{}\n",
        files.len(),
        busy.line()
    );
    println!(
        "{:<38} {:>3} {:>8} {:>7} {:>11} {:>6} | {:>8} {:>7} {:>11} {:>6}",
        "case", "thr", "wall", "MB/s", "ind/s", "ratio", "crit", "MB/s", "ind/s", "ratio"
    );
    for (ci, name) in CASES.iter().enumerate() {
        let base = if ci < 2 { 0 } else { 2 };
        for (ti, t) in threads.iter().enumerate() {
            let w = wall[ci][ti].as_secs_f64();
            let c = crit[ci][ti].as_secs_f64();
            println!(
                "{:<38} {:>3} {:>6.0}ms {:>7.1} {:>11} {:>5.0}% | {:>6.0}ms {:>7.1} {:>11} {:>5.0}%",
                name,
                t,
                w * 1e3,
                mb / w,
                thousands((ind / w) as u64),
                wall[base][ti].as_secs_f64() / w * 100.0,
                c * 1e3,
                mb / c,
                thousands((ind / c) as u64),
                crit[base][ti].as_secs_f64() / c * 100.0,
            );
        }
    }
    println!();
    for (ci, name) in CASES.iter().enumerate() {
        let sw = wall[ci][0].as_secs_f64() / wall[ci][1].as_secs_f64();
        let sc = crit[ci][0].as_secs_f64() / crit[ci][1].as_secs_f64();
        println!("2 threads vs 1: {sw:.2}x wall, {sc:.2}x crit  {name}");
    }
    for (label, m) in [("wall", &wall), ("crit", &crit)] {
        let r1 = m[0][0].as_secs_f64() / m[1][0].as_secs_f64();
        let r2 = m[0][1].as_secs_f64() / m[1][1].as_secs_f64();
        let speedup = m[1][0].as_secs_f64() / m[1][1].as_secs_f64();
        println!(
            "\ngoal ({label}): loader >= 80% of toml+serde: {:.0}% on 1 thread, {:.0}% on 2 ({})",
            r1 * 100.0,
            r2 * 100.0,
            verdict(r1 >= 0.8 && r2 >= 0.8)
        );
        println!(
            "goal ({label}): loader on 2 threads >= 1.7x 1 thread: {speedup:.2}x ({})",
            verdict(speedup >= 1.7)
        );
    }
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

fn cmd_scale(
    file_counts: &[u64],
    per_file: u32,
    threads: usize,
    common: &CommonArgs,
    iterations: usize,
) -> Result<()> {
    println!("{}", machine_line());
    const SECTORAL: u32 = 4;
    let files_per_muni = 1 + SECTORAL as u64;
    let p = pool(threads);
    let mut rows = Vec::new();
    let mut busy = Busy::default();
    for &n in file_counts {
        let munis = n.div_ceil(files_per_muni) as u32;
        let spec = CorpusSpec {
            municipalities: munis,
            indicators_per_municipality: per_file * files_per_muni as u32,
            sectoral_plans: SECTORAL,
            ..CorpusSpec::new(munis)
        };
        let c = corpus::ensure(&common.root, &spec, common.regen)?;
        println!("corpus: {}", c.describe());
        let paths = vec![c.dir.clone()];
        let mut hyoka = Vec::new();
        let mut base = Vec::new();
        for _ in 0..iterations {
            busy.see(common.settle());
            base.push(time_on(&p, || {
                let files = hyoka_engine::load::find_plan_files(&paths).expect("listed");
                files
                    .par_iter()
                    .map(|f| {
                        let text = std::fs::read_to_string(f).expect("readable");
                        plain::parse(&text).expect("parses")
                    })
                    .collect::<Vec<_>>()
            }));
            let mut diagnostics = 0;
            busy.see(common.settle());
            hyoka.push(time_on(&p, || {
                let l = hyoka_engine::load(&paths);
                diagnostics = l.diagnostics.len();
                l
            }));
            if diagnostics > 0 {
                return Err(
                    format!("{diagnostics} diagnostics loading {}", c.dir.display()).into(),
                );
            }
        }
        rows.push((c, best(&hyoka), best(&base)));
    }
    println!(
        "\nhyoka load (disk) on {threads} threads, best of {iterations}; toml = read + toml::from_str into plain structs\n{}\n",
        busy.line()
    );
    println!(
        "{:>7} {:>9} {:>11} {:>10} {:>9} {:>10} {:>12} {:>8}",
        "files", "MB", "indicators", "hyoka", "ms/MB", "toml ms/MB", "hyoka÷toml", "ms/MB÷first"
    );
    let first = rows
        .first()
        .map(|(c, t, _)| t.as_secs_f64() * 1e3 / c.megabytes());
    for (c, t, b) in &rows {
        let per_mb = t.as_secs_f64() * 1e3 / c.megabytes();
        let base_per_mb = b.as_secs_f64() * 1e3 / c.megabytes();
        println!(
            "{:>7} {:>9.1} {:>11} {:>8.0}ms {:>9.2} {:>10.2} {:>11.0}% {:>10.2}",
            thousands(c.stats.files),
            c.megabytes(),
            thousands(c.stats.indicators),
            t.as_secs_f64() * 1e3,
            per_mb,
            base_per_mb,
            b.as_secs_f64() / t.as_secs_f64() * 100.0,
            per_mb / first.unwrap_or(per_mb)
        );
    }
    println!("\n(ms/MB÷first ≈ 1.00 means time grows in proportion to size)");
    Ok(())
}

fn default_hyoka() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or("no directory for the current executable")?;
    let p = dir.join("hyoka");
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found: build it first with `cargo build --release` (same CARGO_TARGET_DIR), or pass --hyoka",
            p.display()
        )
        .into())
    }
}

/// How `check` runs `hyoka check` on each corpus.
struct CheckRuns<'a> {
    repeat: usize,
    drop_caches: bool,
    check_args: &'a [String],
    cache: bool,
}

fn cmd_check(
    sizes: &[u32],
    template: &CorpusSpec,
    hyoka: Option<PathBuf>,
    runs: &CheckRuns<'_>,
    common: &CommonArgs,
) -> Result<()> {
    let CheckRuns {
        repeat,
        drop_caches,
        check_args,
        cache,
    } = *runs;
    println!("{}", machine_line());
    let hyoka = match hyoka {
        Some(p) => p,
        None => default_hyoka()?,
    };
    println!(
        "hyoka: {} check DIR {}",
        hyoka.display(),
        check_args.join(" ")
    );
    if sizes.contains(&MUNICIPALITIES_OF_JAPAN) {
        println!("(the 1,741-municipality corpus is ~1 GB: generating it once and checking it take minutes)");
    }
    let mut rows = Vec::new();
    let mut cache_rows = Vec::new();
    let mut busy = Busy::default();
    for &n in sizes {
        let spec = CorpusSpec {
            municipalities: n,
            ..template.clone()
        };
        let c = corpus::ensure(&common.root, &spec, common.regen)?;
        println!("corpus: {}", c.describe());
        let mut walls = Vec::new();
        let mut peak = 0u64;
        let mut cpu = Duration::ZERO;
        let mut cold = None;
        for _ in 0..repeat {
            busy.see(common.settle());
            if drop_caches {
                cold = Some(measure::drop_page_cache());
            }
            let (run, summary) = run_check(&hyoka, &c.dir, check_args)?;
            if !summary.contains(&format!("{} indicators", c.stats.indicators)) {
                println!(
                    "  warning: summary does not show {} indicators: {summary}",
                    c.stats.indicators
                );
            } else if walls.is_empty() {
                println!("  {summary}");
            }
            walls.push(run.wall);
            peak = peak.max(run.max_rss);
            cpu = run.user + run.system;
        }
        if cache {
            cache_rows.push((
                c.stats.municipalities,
                cache_runs(&hyoka, &c, check_args, common, &mut busy)?,
            ));
        }
        rows.push((c, median(&walls), peak, cpu, cold));
    }
    println!(
        "\n`hyoka check` as a child process; wall = median of {repeat}, peak = ru_maxrss\n{}\n",
        busy.line()
    );
    println!(
        "{:>6} {:>7} {:>11} {:>9} {:>9} {:>9} {:>12} {:>9} {:>10} {:>10}",
        "munis",
        "files",
        "indicators",
        "MB",
        "wall",
        "cpu",
        "µs/indicator",
        "peak MB",
        "peak÷disk",
        "growth"
    );
    let mut prev: Option<(f64, f64)> = None;
    for (c, wall, peak, cpu, _) in &rows {
        let secs = wall.as_secs_f64();
        let per = secs * 1e6 / c.stats.indicators as f64;
        let growth = match prev {
            Some((pi, ps)) => format!("{:.2}", (secs / ps) / (c.stats.indicators as f64 / pi)),
            None => "—".to_string(),
        };
        prev = Some((c.stats.indicators as f64, secs));
        println!(
            "{:>6} {:>7} {:>11} {:>9.1} {:>8.2}s {:>8.2}s {:>12.2} {:>9.0} {:>9.2}x {:>10}",
            thousands(c.stats.municipalities),
            thousands(c.stats.files),
            thousands(c.stats.indicators),
            c.megabytes(),
            secs,
            cpu.as_secs_f64(),
            per,
            *peak as f64 / 1e6,
            *peak as f64 / c.stats.bytes as f64,
            growth
        );
    }
    if let Some((_, _, _, _, Some(cold))) = rows.first() {
        println!(
            "\npage cache {} before each run",
            if *cold {
                "dropped"
            } else {
                "could NOT be dropped (not root?): runs are warm"
            }
        );
    }
    println!("growth = (time ratio) ÷ (indicator ratio) against the previous row: 1.00 is linear");
    println!("goal: peak RSS under 3x the size of the plan files on disk");
    if !cache_rows.is_empty() {
        println!("\nthe plan cache (`--cache-dir`, one run each): wall / cpu / peak MB");
        println!(
            "{:>6} {:>26} {:>26} {:>26}",
            "munis", "cold (empty cache)", "warm", "one file changed"
        );
        for (n, runs) in &cache_rows {
            let cell = |r: &measure::ChildRun| {
                format!(
                    "{:.2}s / {:.2}s / {:.0}",
                    r.wall.as_secs_f64(),
                    (r.user + r.system).as_secs_f64(),
                    r.max_rss as f64 / 1e6
                )
            };
            println!(
                "{:>6} {:>26} {:>26} {:>26}",
                thousands(*n),
                cell(&runs[0]),
                cell(&runs[1]),
                cell(&runs[2])
            );
        }
        println!("goal: a re-run after one changed plan file under 3 s at 1,741 municipalities");
    }
    Ok(())
}

/// One `hyoka check DIR ARGS…` as a child process, and its summary line.
fn run_check(
    hyoka: &Path,
    dir: &Path,
    check_args: &[String],
) -> Result<(measure::ChildRun, String)> {
    let mut args: Vec<&OsStr> = vec!["check".as_ref(), dir.as_os_str()];
    args.extend(check_args.iter().map(|a| OsStr::new(a.as_str())));
    let (run, stderr) = measure::run_child(hyoka, &args)?;
    let summary = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("checked "))
        .unwrap_or("")
        .to_string();
    // 0: clean, 1: findings at or above --fail-on (normal for a synthetic
    // corpus); anything else is a failure to check.
    if !matches!(run.exit_code, Some(0 | 1)) {
        let skip = stderr.chars().count().saturating_sub(2000);
        let tail: String = stderr.chars().skip(skip).collect();
        return Err(format!(
            "hyoka check exited with {:?} on {}:\n{tail}",
            run.exit_code,
            dir.display()
        )
        .into());
    }
    Ok((run, summary))
}

/// Cold, warm and one-file-changed runs with a cache directory of their
/// own under the bench root (emptied first). The changed file gets a
/// comment line, which is taken out again afterwards, also on error, so
/// the corpus stays the generated one.
fn cache_runs(
    hyoka: &Path,
    c: &corpus::Corpus,
    check_args: &[String],
    common: &CommonArgs,
    busy: &mut Busy,
) -> Result<[measure::ChildRun; 3]> {
    let dir = common
        .root
        .join(format!("cache-m{}", c.stats.municipalities));
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot empty {}: {e}", dir.display()).into()),
    }
    let mut args: Vec<String> = check_args
        .iter()
        .filter(|a| *a != "--no-cache")
        .cloned()
        .collect();
    args.push("--cache-dir".into());
    args.push(dir.display().to_string());
    busy.see(common.settle());
    let (cold, _) = run_check(hyoka, &c.dir, &args)?;
    busy.see(common.settle());
    let (warm, _) = run_check(hyoka, &c.dir, &args)?;
    let changed = hyoka_engine::load::find_plan_files(std::slice::from_ref(&c.dir))
        .map_err(|d| d.message.clone())?
        .into_iter()
        .next()
        .ok_or("the corpus has no plan file")?;
    let original = std::fs::read(&changed)?;
    let mut edited = original.clone();
    edited.extend_from_slice(b"\n# changed by hyoka-bench check --cache\n");
    std::fs::write(&changed, &edited)?;
    busy.see(common.settle());
    let result = run_check(hyoka, &c.dir, &args);
    std::fs::write(&changed, &original)?;
    let (one, _) = result?;
    Ok([cold, warm, one])
}

fn cmd_profile(
    spec: &CorpusSpec,
    common: &CommonArgs,
    loader: &str,
    times: usize,
    threads: usize,
) -> Result<()> {
    let c = corpus::ensure(&common.root, spec, common.regen)?;
    let sources = corpus::read_sources(&c.dir)?;
    let p = pool(threads);
    for _ in 0..times {
        common.settle();
        let cpu0 = measure::own_cpu_time();
        let t = match loader {
            "hyoka" => {
                let owned = sources.clone();
                time_on(&p, move || hyoka_engine::load_sources(owned))
            }
            "toml" => time_on(&p, || {
                sources
                    .par_iter()
                    .map(|s| plain::parse(&s.text).expect("parses"))
                    .collect::<Vec<_>>()
            }),
            other => return Err(format!("unknown loader `{other}` (hyoka | toml)").into()),
        };
        let cpu = measure::own_cpu_time().saturating_sub(cpu0);
        println!(
            "{loader}: {:.0} ms wall, {:.0} ms cpu, {:.1} MB/s",
            t.as_secs_f64() * 1e3,
            cpu.as_secs_f64() * 1e3,
            c.megabytes() / t.as_secs_f64()
        );
    }
    Ok(())
}
