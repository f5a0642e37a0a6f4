//! Throughput of [`hyoka_engine::eval::evaluate`] alone on a generated
//! corpus: loads the plans and compiles the packs once, then evaluates
//! `N` times on rayon pools of 1 and 2 threads.
//!
//! ```text
//! cargo run --release -- generate /tmp/corpus100 --municipalities 100
//! cargo run --release -p hyoka-engine --example bench_eval -- \
//!     [CORPUS_DIR] [--packs rates,grades|all] [--runs N] [--threads 1,2] [--year Y] [--compare]
//! ```
//!
//! Prints, per thread count, the median wall time of one evaluation, the
//! evaluations per second and indicators per second that gives, the CPU
//! time of the process per evaluation, and the speed-up over one thread.
//! Every run must give the same number of findings and failures (checked).
//!
//! `--compare` also times, in the same runs, the derive loop `evaluate` had
//! before derive groups and the batch evaluator: one derive at a time, one
//! [`hyoka_dsl::Program::eval_derive`] per entity in parallel, over the
//! corpus through `field` / `list_get` / `derived` only (the `Data`
//! defaults: `latest` walks the list, fields are read one by one). It
//! computes derives only, so it is comparable when the packs have no rules
//! (`rates,grades`); it checks that both give the same values.

use std::path::PathBuf;
use std::time::Instant;

use hyoka_dsl::{Ctx, Data, DeriveId, FieldId, ListRef, Obj, OwnedValue, Program, Value};
use hyoka_engine::config::{self, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::data::CorpusData;
use hyoka_engine::eval::{evaluate, latest_actual_year};
use hyoka_engine::model::Corpus;
use hyoka_engine::schema::PlanSchema;
use rayon::prelude::*;

/// The corpus through `field`, `list_get` and `derived` only.
struct Plain<'a, 'c>(&'a CorpusData<'c>);

impl Data for Plain<'_, '_> {
    fn field(&self, obj: Obj, field: FieldId) -> Value<'_> {
        self.0.field(obj, field)
    }
    fn list_get(&self, list: ListRef, i: u32) -> Value<'_> {
        self.0.list_get(list, i)
    }
    fn derived(&self, derive: DeriveId, obj: Obj) -> Value<'_> {
        self.0.derived(derive, obj)
    }
    fn describe(&self, obj: Obj) -> String {
        self.0.describe(obj)
    }
}

/// The derives as `evaluate` computed them before: a column at a time,
/// each in parallel over its entities.
fn derives_one_at_a_time<'c>(
    corpus: &'c Corpus,
    schema: &'c PlanSchema,
    program: &Program,
    year: i32,
) -> (CorpusData<'c>, usize) {
    let ctx = Ctx { year };
    let mut data = CorpusData::new(corpus, schema);
    let mut failures = 0;
    for (i, derive) in program.derives().iter().enumerate() {
        let d = DeriveId(i as u32);
        let len = data.count(derive.kind);
        let objs = data.entities(derive.kind);
        let plain = Plain(&data);
        let results: Vec<(u32, Option<OwnedValue>)> = objs
            .par_iter()
            .map(|&obj| {
                let v = program.eval_derive(d, obj, &plain, &ctx);
                (obj.index, v.ok().map(|v| v.to_owned_value()))
            })
            .collect();
        let mut column = vec![OwnedValue::Missing(None); len];
        for (index, v) in results {
            match v {
                Some(v) => column[index as usize] = v,
                None => failures += 1,
            }
        }
        data.push_derived(column);
    }
    (data, failures)
}

/// CPU time of the whole process (all threads), in seconds.
fn process_cpu_time() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two C longs on the 64-bit
    // Linux targets this benchmark runs on) to the pointer it is given.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn main() {
    let mut corpus_dir = PathBuf::from("/tmp/corpus100");
    let mut packs = "rates,grades".to_string();
    let mut runs = 9usize;
    let mut threads = vec![1usize, 2];
    let mut year: Option<i32> = None;
    let mut compare = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--packs" => packs = value(),
            "--runs" => runs = value().parse().expect("--runs N"),
            "--threads" => {
                threads = value()
                    .split(',')
                    .map(|t| t.parse().expect("--threads 1,2"))
                    .collect()
            }
            "--year" => year = Some(value().parse().expect("--year YYYY")),
            "--compare" => compare = true,
            _ => corpus_dir = PathBuf::from(a),
        }
    }
    let rules_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let names: Vec<&str> = if packs == "all" {
        DEFAULT_PACKS.to_vec()
    } else {
        packs.split(',').collect()
    };

    let t = Instant::now();
    let loaded = hyoka_engine::load(&[corpus_dir.clone()]);
    assert!(
        !loaded.has_errors(),
        "{}: the corpus has errors",
        corpus_dir.display()
    );
    let corpus = loaded.corpus;
    let load_time = t.elapsed().as_secs_f64();
    let schema = PlanSchema::new();
    let pack_files: Vec<_> = names
        .iter()
        .map(|n| config::read_pack(&rules_dir.join(n)).expect("rule pack"))
        .collect();
    let program =
        match hyoka_engine::rules::compile(&pack_files, &ProjectConfig::default(), &[], &schema) {
            Ok(p) => p,
            Err(errors) => {
                for e in errors {
                    eprintln!("{:?}", miette::Report::new(e));
                }
                std::process::exit(1);
            }
        };
    let year = year.or_else(|| latest_actual_year(&corpus)).unwrap_or(2024);
    println!(
        "corpus: {} ({} plans, {} projects, {} indicators, loaded in {:.2} s)",
        corpus_dir.display(),
        corpus.plans.len(),
        corpus.projects.len(),
        corpus.indicators.len(),
        load_time
    );
    println!(
        "packs: {} ({} derives, {} rules), year {year}, {runs} runs per thread count",
        names.join(", "),
        program.derives().len(),
        program.rules().len()
    );

    let mut expected: Option<(usize, usize)> = None;
    let mut one_thread = None;
    for &n in &threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("thread pool");
        let mut wall = Vec::with_capacity(runs);
        let mut cpu = Vec::with_capacity(runs);
        let mut old_wall = Vec::with_capacity(runs);
        let mut old_cpu = Vec::with_capacity(runs);
        pool.install(|| {
            // One run to warm up (page faults, allocator, caches).
            let e = evaluate(&corpus, &schema, &program, year);
            let counts = (e.findings.len(), e.failures.len());
            if compare {
                let (old, failures) = derives_one_at_a_time(&corpus, &schema, &program, year);
                assert_eq!(failures, e.failures.len());
                for (i, d) in program.derives().iter().enumerate() {
                    for index in 0..old.count(d.kind) as u32 {
                        let d = DeriveId(i as u32);
                        assert_eq!(old.derived_value(d, index), e.data.derived_value(d, index));
                    }
                }
            }
            drop(e);
            assert_eq!(*expected.get_or_insert(counts), counts);
            for _ in 0..runs {
                let (t, c) = (Instant::now(), process_cpu_time());
                let e = evaluate(&corpus, &schema, &program, year);
                wall.push(t.elapsed().as_secs_f64());
                cpu.push(process_cpu_time() - c);
                assert_eq!(expected, Some((e.findings.len(), e.failures.len())));
                drop(e);
                if compare {
                    let (t, c) = (Instant::now(), process_cpu_time());
                    let old = derives_one_at_a_time(&corpus, &schema, &program, year);
                    old_wall.push(t.elapsed().as_secs_f64());
                    old_cpu.push(process_cpu_time() - c);
                    drop(old);
                }
            }
        });
        let w = median(&mut wall);
        let c = median(&mut cpu);
        let speedup = match one_thread {
            None => {
                one_thread = Some(w);
                String::new()
            }
            Some(w1) => format!(", {:.2}× one thread", w1 / w),
        };
        println!(
            "{n} thread{}: {:7.1} ms per evaluation ({:5.2} evaluations/s, {:5.2} M indicators/s), CPU {:7.1} ms{speedup}",
            if n == 1 { " " } else { "s" },
            w * 1e3,
            1.0 / w,
            corpus.indicators.len() as f64 / w / 1e6,
            c * 1e3,
        );
        if compare {
            let ow = median(&mut old_wall);
            let oc = median(&mut old_cpu);
            println!(
                "  derives one at a time (before): {:7.1} ms ({:5.2} evaluations/s), CPU {:7.1} ms: {:.2}× the time",
                ow * 1e3,
                1.0 / ow,
                oc * 1e3,
                ow / w
            );
        }
    }
    if compare && !program.rules().is_empty() {
        println!("(--compare times derives only; these packs also have rules)");
    }
    let (f, e) = expected.unwrap_or_default();
    println!("findings: {f}, failures: {e}");
}
