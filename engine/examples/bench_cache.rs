//! The load phase alone with and without the cache of loaded plans:
//! [`hyoka_engine::load`] (no cache), then [`load_with`] on an empty cache
//! (cold), on a full one (warm), and on a full one but for one entry (as
//! after a change to one file). Best of `--runs` each.
//!
//! ```text
//! cargo run --release -- generate /tmp/corpus100 --municipalities 100
//! cargo run --release -p hyoka-engine --example bench_cache -- \
//!     /tmp/corpus100 [--cache DIR] [--runs N]
//! ```
//!
//! The cache directory (default: a directory under the system's temporary
//! directory) is deleted before the cold runs and at the end. Every run
//! must give the same corpus and diagnostics as the uncached load
//! (checked on their debug text). `--profile cold|warm` runs only the
//! cold or warm loads, `--runs` times, unchecked: for `perf record`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyoka_engine::load::{self, Cache, CacheStats, LoadOptions, Loaded};
use hyoka_engine::model::SourceFile;

fn fingerprint(l: &Loaded) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{:?}", l.corpus).hash(&mut h);
    format!("{:?}", l.diagnostics).hash(&mut h);
    h.finish()
}

/// CPU time of the process (user + system), from /proc: Linux only, in
/// clock ticks of 10 ms.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

/// The least wall time and the least CPU time over the runs of a case.
struct Best {
    wall: Duration,
    cpu: Duration,
}

impl Best {
    fn new() -> Best {
        Best {
            wall: Duration::MAX,
            cpu: Duration::MAX,
        }
    }

    fn add(&mut self, (wall, cpu): (Duration, Duration)) {
        self.wall = self.wall.min(wall);
        self.cpu = self.cpu.min(cpu);
    }
}

fn size_of_dir(dir: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(list) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in list.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(m) = e.metadata() {
                bytes += m.len();
                files += 1;
            }
        }
    }
    (bytes, files)
}

/// Loads through `cache` and records what the cache did.
fn load_through(paths: &[PathBuf], cache: &Cache, last: &mut Option<CacheStats>) -> Loaded {
    let loaded = load::load_with(paths, &LoadOptions { cache: Some(cache) });
    *last = Some(cache.stats());
    loaded
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut corpus = None;
    let mut cache_dir =
        std::env::temp_dir().join(format!("hyoka-bench-cache-{}", std::process::id()));
    let mut runs = 3;
    let mut profile = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--profile" => profile = args.next(),
            "--cache" => cache_dir = PathBuf::from(args.next().expect("--cache DIR")),
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            _ => corpus = Some(PathBuf::from(a)),
        }
    }
    let corpus = corpus.unwrap_or_else(|| PathBuf::from("/tmp/corpus100"));
    let paths = vec![corpus.clone()];
    let files = load::find_plan_files(&paths).expect("corpus readable");
    let (toml_bytes, _) = size_of_dir(&corpus);
    println!(
        "{}: {} files, {:.1} MB; {} threads; best of {runs}",
        corpus.display(),
        files.len(),
        toml_bytes as f64 / 1e6,
        rayon::current_num_threads()
    );

    if let Some(case) = profile {
        let cold = case == "cold";
        if !cold {
            let cache = Cache::open(&cache_dir).expect("cache directory");
            load::load_with(
                &paths,
                &LoadOptions {
                    cache: Some(&cache),
                },
            );
        }
        for _ in 0..runs {
            if cold {
                let _ = std::fs::remove_dir_all(&cache_dir);
            }
            let cache = Cache::open(&cache_dir).expect("cache directory");
            let t = Instant::now();
            let loaded = load::load_with(
                &paths,
                &LoadOptions {
                    cache: Some(&cache),
                },
            );
            println!(
                "{case}: {:.0} ms [{}]",
                t.elapsed().as_secs_f64() * 1e3,
                cache.stats()
            );
            std::mem::forget(loaded);
        }
        let _ = std::fs::remove_dir_all(&cache_dir);
        return;
    }

    let time = |f: &mut dyn FnMut() -> Loaded| -> ((Duration, Duration), u64) {
        let cpu = cpu_time();
        let t = Instant::now();
        let loaded = f();
        let elapsed = (t.elapsed(), cpu_time().saturating_sub(cpu));
        let fp = fingerprint(&loaded);
        (elapsed, fp)
    };
    println!("{:<28} {:>8} {:>8}", "", "wall", "CPU");
    let report = |name: &str, best: Best, stats: Option<CacheStats>| {
        let stats = stats.map(|s| format!("  [{s}]")).unwrap_or_default();
        println!(
            "{name:<28} {:>5.0} ms {:>5.0} ms{stats}",
            best.wall.as_secs_f64() * 1e3,
            best.cpu.as_secs_f64() * 1e3
        );
    };

    let mut expected = None;
    let mut best = Best::new();
    for _ in 0..runs {
        let (t, fp) = time(&mut || load::load(&paths));
        assert_eq!(*expected.get_or_insert(fp), fp);
        best.add(t);
    }
    report("no cache (load)", best, None);
    let expected = expected.expect("at least one run");

    let mut best = Best::new();
    let mut last = None;
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(&cache_dir);
        let (t, fp) = time(&mut || {
            let cache = Cache::open(&cache_dir).expect("cache directory");
            load_through(&paths, &cache, &mut last)
        });
        assert_eq!(fp, expected, "cold");
        best.add(t);
    }
    report("cold cache", best, last);
    let (entry_bytes, entries) = size_of_dir(&cache_dir);

    let mut best = Best::new();
    for _ in 0..runs {
        let (t, fp) = time(&mut || {
            let cache = Cache::open(&cache_dir).expect("cache directory");
            load_through(&paths, &cache, &mut last)
        });
        assert_eq!(fp, expected, "warm");
        best.add(t);
    }
    report("warm cache", best, last);

    // A change to one file is, for the cache, one entry it does not have.
    let text = std::fs::read_to_string(&files[files.len() / 2]).expect("plan file");
    let one = SourceFile {
        name: String::new(),
        text: text.into(),
    };
    let mut best = Best::new();
    for _ in 0..runs {
        let cache = Cache::open(&cache_dir).expect("cache directory");
        std::fs::remove_file(cache.entry_path(&one)).expect("the entry exists");
        let (t, fp) = time(&mut || load_through(&paths, &cache, &mut last));
        assert_eq!(fp, expected, "one changed");
        best.add(t);
    }
    report("warm, one file changed", best, last);
    println!(
        "cache: {entries} entries, {:.1} MB ({:.0} % of the TOML)",
        entry_bytes as f64 / 1e6,
        entry_bytes as f64 * 100.0 / toml_bytes as f64
    );
    let _ = std::fs::remove_dir_all(&cache_dir);
}
