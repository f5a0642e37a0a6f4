//! Live heap bytes after each phase of a check, against the plan files'
//! size on disk: where the memory goes.
//!
//! ```text
//! cargo run --release -p hyoka-engine --example mem_phases -- CORPUS_DIR
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use hyoka_engine::config::{self, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::eval::{evaluate, latest_actual_year};
use hyoka_engine::schema::PlanSchema;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now =
                    LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    kb("VmRSS:") / 1024.0
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("CORPUS_DIR"));
    let files = hyoka_engine::load::find_plan_files(std::slice::from_ref(&dir)).expect("files");
    let disk: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let mb = |b: usize| b as f64 / 1e6;
    let report = |phase: &str| {
        let live = LIVE.load(Relaxed);
        let peak = PEAK.swap(live, Relaxed);
        println!(
            "{phase:<28} live {:>9.1} MB ({:>5.2}× disk)  peak since last {:>9.1} MB ({:>5.2}×)  RSS {:>9.1} MB",
            mb(live),
            live as f64 / disk as f64,
            mb(peak),
            peak as f64 / disk as f64,
            rss_mb()
        );
    };
    println!("{} files, {:.1} MB on disk", files.len(), disk as f64 / 1e6);
    report("start");
    let loaded = hyoka_engine::load(std::slice::from_ref(&dir));
    report("loaded (texts + model)");
    let texts: usize = loaded.corpus.files.iter().map(|f| f.text.len()).sum();
    println!("  of which source texts {:.1} MB", mb(texts));
    let c = &loaded.corpus;
    println!(
        "  {} indicators, size_of Indicator {} B, Observation {} B, Project {} B, Node {} B",
        c.indicators.len(),
        std::mem::size_of::<hyoka_engine::model::Indicator>(),
        std::mem::size_of::<hyoka_engine::model::Observation>(),
        std::mem::size_of::<hyoka_engine::model::Project>(),
        std::mem::size_of::<hyoka_engine::model::Node>(),
    );
    let schema = PlanSchema::new();
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let packs: Vec<_> = DEFAULT_PACKS
        .iter()
        .map(|n| config::read_pack(&rules.join(n)).expect("pack"))
        .collect();
    let program = hyoka_engine::rules::compile(&packs, &ProjectConfig::default(), &[], &schema)
        .unwrap_or_else(|_| panic!("packs compile"));
    report("compiled");
    let year = latest_actual_year(&loaded.corpus).unwrap_or(2024);
    let e = evaluate(&loaded.corpus, &schema, &program, year);
    report("evaluated");
    println!(
        "  {} findings, size_of Finding {} B",
        e.findings.len(),
        std::mem::size_of::<hyoka_engine::finding::Finding>()
    );
    let findings = e.findings;
    drop(e.data);
    report("derived values dropped");
    drop(findings);
    report("findings dropped");
}
