//! Criterion micro benchmark of loading: hyoka's `load_sources` against
//! `toml::from_str` into plain serde structs, on the same in-memory texts
//! (two generated municipalities, ~2,000 indicators), on one thread.
//!
//! Run with `cargo bench -p hyoka-bench`. The large runs (disk, 2 threads,
//! 10,000 files, end-to-end) are the `hyoka-bench` binary's; this file
//! only guards the per-file cost, and writes nothing to disk.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hyoka_bench::plain;
use hyoka_engine::generate::{generate_municipality, CorpusSpec};
use hyoka_engine::model::SourceFile;

fn sources() -> Vec<SourceFile> {
    let spec = CorpusSpec::new(2);
    let mut out = Vec::new();
    for m in 0..spec.municipalities {
        let (files, _) = generate_municipality(&spec, m);
        for (name, text) in files {
            out.push(SourceFile {
                name,
                text: Arc::from(text),
            });
        }
    }
    out
}

fn load(c: &mut Criterion) {
    let sources = sources();
    let bytes: usize = sources.iter().map(|s| s.text.len()).sum();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("pool");
    let mut g = c.benchmark_group("load-2-municipalities");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    // Results are dropped outside the timing in both cases, as in the
    // `hyoka-bench load` runs.
    g.bench_function("toml_from_str_plain_serde", |b| {
        b.iter_with_large_drop(|| {
            sources
                .iter()
                .map(|s| plain::parse(black_box(&s.text)).expect("parses"))
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("hyoka_load_sources_1_thread", |b| {
        b.iter_with_large_drop(|| {
            one.install(|| hyoka_engine::load_sources(black_box(sources.clone())))
        })
    });
    g.finish();
}

criterion_group!(benches, load);
criterion_main!(benches);
