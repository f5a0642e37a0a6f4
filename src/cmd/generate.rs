//! `hyoka generate`: writes a deterministic corpus of realistic plan files
//! (the seeds' mix of directions, missing values, cumulative and re-listed
//! entries, links between plans) for benchmarks and load tests.

use std::path::PathBuf;
use std::process::ExitCode;

use hyoka_engine::generate::{generate, CorpusSpec};

use crate::output;

/// Arguments of `hyoka generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// Directory to write into (created if missing)
    pub out: PathBuf,
    /// Number of municipalities (Japan has 1,741)
    #[arg(long, default_value_t = 10)]
    pub municipalities: u32,
    /// Indicators per municipality, over its top plan and sectoral plans
    #[arg(long)]
    pub indicators: Option<u32>,
    /// Seed of the generator (default: a fixed one): the same seed writes the same bytes
    #[arg(long)]
    pub seed: Option<u64>,
}

pub fn run(args: GenerateArgs) -> ExitCode {
    let mut spec = CorpusSpec::new(args.municipalities);
    if let Some(seed) = args.seed {
        spec.seed = seed;
    }
    if let Some(n) = args.indicators {
        spec.indicators_per_municipality = n;
    }
    match generate(&args.out, &spec) {
        Ok(stats) => {
            output::eprint(&format!(
                "wrote {} plan files ({} plans, {} projects, {} indicators, {:.1} MB) to {}\n",
                stats.files,
                stats.plans,
                stats.projects,
                stats.indicators,
                stats.bytes as f64 / 1e6,
                args.out.display()
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            output::eprint(&format!(
                "error: cannot write the corpus to `{}`: {e}\n",
                args.out.display()
            ));
            output::usage_error()
        }
    }
}
