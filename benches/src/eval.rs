//! EVALUATION BENCHMARKS — NOT WIRED YET.
//!
//! This is the marked spot for the evaluation benchmarks, to be filled when
//! the evaluator of hyoka-engine lands (the rule language crate, `dsl`, is
//! still being written). What goes here, per the performance issue:
//!
//! 1. hyoka: evaluate the standard packs (`rules/rates`, `rules/grades`)
//!    over a loaded corpus, on pools of 1 and 2 threads
//!    ([`crate::measure::pool`]); indicators graded per second.
//! 2. a hand-written Rust loop computing the same grade (rates.hyk's "auto"
//!    form, the abc scale: A ≥ 90 %, B 70–90 %, C < 70 %, 未算出 when
//!    missing) straight over [`hyoka_engine::Corpus`]: the floor hyoka's
//!    interpreter is measured against. Both must agree on every indicator
//!    (count the grades and compare) before any time is printed.
//! 3. zen-engine's decision table with the same bands, fed the rates as
//!    JSON: the off-the-shelf alternative. zen-engine is NOT a dependency
//!    (356 crates, ~5 min clean release build on 2 cores, needs a C
//!    toolchain for QuickJS and aws-lc; see docs/performance.md): add it
//!    behind an off-by-default cargo feature of this crate if wanted.
//!
//! Must not: change the corpus, or time the loading (that is `load`).

use std::time::Duration;

use hyoka_engine::Corpus;

/// What the evaluation benchmarks report, per thread count.
#[derive(Clone, Debug)]
pub struct EvalReport {
    pub threads: usize,
    pub indicators: u64,
    /// hyoka's evaluator over the standard packs.
    pub hyoka: Duration,
    /// The hand-written Rust loop of the grade rule.
    pub handwritten: Duration,
    /// zen-engine's decision table, when built with it.
    pub zen: Option<Duration>,
}

/// Runs the evaluation benchmarks on `corpus`. Returns `None` until the
/// evaluator is wired: `hyoka-bench eval` then prints "evaluation not
/// wired yet".
pub fn evaluation_benchmarks(_corpus: &Corpus, _threads: &[usize]) -> Option<Vec<EvalReport>> {
    // TODO(lead): once hyoka_engine exposes the evaluator, compile the
    // standard packs once, then for each thread count: time hyoka's
    // evaluation and the hand-written loop (check both give the same grade
    // counts), and zen-engine when the feature is on.
    None
}
