//! The cache of loaded plans through the command line: the same output
//! with and without it, a re-run parses only what changed, damaged entries
//! are refused and rewritten, and a cache that cannot be used costs one
//! warning line and nothing else.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("cache-tests")
        .join(test);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// `hyoka ARGS` in `dir` with no cache location from the environment:
/// HOME points into the scratch directory, so nothing reaches the real one.
fn hyoka_env(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hyoka"));
    cmd.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("HYOKA_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", dir.join("home"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run hyoka")
}

fn hyoka(dir: &Path, args: &[&str]) -> Output {
    hyoka_env(dir, args, &[])
}

/// The plans of the repository and a small generated corpus: 17 files.
fn corpus(dir: &Path) -> PathBuf {
    let plans = dir.join("plans");
    fs::create_dir_all(&plans).unwrap();
    for entry in fs::read_dir(root().join("plans")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            fs::copy(&path, plans.join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = hyoka(
        dir,
        &[
            "generate",
            "plans/generated",
            "--municipalities",
            "2",
            "--indicators",
            "40",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    plans
}

fn plan_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "toml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The directory of the entries of this build's format (`plans-v<N>`).
fn format_dir(cache: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("plans-v")
        })
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.pop().unwrap()
}

/// The cache entries under `cache`, sorted.
fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![cache.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(list) = fs::read_dir(&d) else {
            continue;
        };
        for entry in list {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "bin") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What the cache did, from the `-v` line.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stats {
    hits: usize,
    misses: usize,
    written: usize,
    rejected: usize,
    not_stored: usize,
}

fn stats(o: &Output) -> Stats {
    let err = String::from_utf8_lossy(&o.stderr);
    let line = err
        .lines()
        .find(|l| l.starts_with("plan cache "))
        .unwrap_or_else(|| panic!("no cache line in:\n{err}"));
    let (_, counts) = line.rsplit_once(": ").unwrap();
    let n: Vec<usize> = counts
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse().unwrap())
        .collect();
    Stats {
        hits: n[0],
        misses: n[1],
        written: n[2],
        rejected: n[3],
        not_stored: n[4],
    }
}

/// Standard output, standard error without the cache's own lines, and the
/// exit code: everything that must not depend on the cache.
fn result(o: &Output) -> (String, String, Option<i32>) {
    let err: String = String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("plan cache") && !l.starts_with("warning: cannot "))
        .map(|l| format!("{l}\n"))
        .collect();
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        err,
        o.status.code(),
    )
}

/// Equal results, or a panic naming the first line that differs.
#[track_caller]
fn assert_same(a: &Output, b: &Output, what: &str) {
    let (a, b) = (result(a), result(b));
    for (name, x, y) in [("stdout", &a.0, &b.0), ("stderr", &a.1, &b.1)] {
        if x != y {
            let line = x
                .lines()
                .zip(y.lines())
                .position(|(l, r)| l != r)
                .unwrap_or(x.lines().count().min(y.lines().count()));
            panic!(
                "{what}: {name} differs at line {}:\n  {:?}\n  {:?}",
                line + 1,
                x.lines().nth(line),
                y.lines().nth(line)
            );
        }
    }
    assert_eq!(a.2, b.2, "{what}: exit code");
}

const CHECK: &[&str] = &[
    "check",
    "plans",
    "--format",
    "json",
    "--format",
    "human",
    "--today",
    "2025-01-01",
    "--color",
    "never",
    "--max-per-rule",
    "0",
    "-v",
];

fn check(dir: &Path, extra: &[&str]) -> Output {
    let args: Vec<&str> = CHECK.iter().chain(extra).copied().collect();
    hyoka(dir, &args)
}

fn counts(hits: usize, misses: usize, written: usize, rejected: usize) -> Stats {
    Stats {
        hits,
        misses,
        written,
        rejected,
        not_stored: 0,
    }
}

#[test]
fn a_warm_run_hits_every_file_and_gives_the_same_output() {
    let dir = scratch("warm");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    assert_eq!(n, 17);
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();

    let uncached = check(&dir, &["--no-cache"]);
    assert!(!uncached.stdout.is_empty());
    assert!(!cache.exists() && !dir.join("home").exists());
    assert!(String::from_utf8_lossy(&uncached.stderr).contains("plan cache: off"));

    let cold = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&cold), counts(0, n, n, 0));
    assert_eq!(entries(&cache).len(), n);
    let warm = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&warm), counts(n, 0, 0, 0));
    assert_same(&cold, &uncached, "cold");
    assert_same(&warm, &uncached, "warm");
    // The findings are real ones: the cache is not compared on an empty
    // result.
    assert!(result(&warm).0.contains("\"fingerprint\""));
}

#[test]
fn a_changed_file_is_the_only_one_parsed_again() {
    let dir = scratch("changed");
    let plans = corpus(&dir);
    let files = plan_files(&plans);
    let n = files.len();
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();
    check(&dir, &["--cache-dir", cache_arg]);

    let changed = &files[n / 2];
    let mut text = fs::read_to_string(changed).unwrap();
    text.push_str("# a comment added to the file\n");
    fs::write(changed, text).unwrap();
    let after = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&after), counts(n - 1, 1, 1, 0));
    assert_eq!(entries(&cache).len(), n + 1);
    assert_same(&after, &check(&dir, &["--no-cache"]), "after the change");
    assert_eq!(
        stats(&check(&dir, &["--cache-dir", cache_arg])),
        counts(n, 0, 0, 0)
    );
}

/// Entry layout (engine/src/load/cache.rs): magic 8, format 4, key 16,
/// version length 1, version, payload length 8, checksum 8, payload.
const VERSION_AT: usize = 8 + 4 + 16;

#[test]
fn damaged_entries_are_refused_and_rewritten() {
    let dir = scratch("damaged");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();
    let expected = check(&dir, &["--cache-dir", cache_arg]);
    let all = entries(&cache);
    let good: Vec<Vec<u8>> = all.iter().map(|p| fs::read(p).unwrap()).collect();

    let version = env!("CARGO_PKG_VERSION").as_bytes();
    type Damage = fn(&mut Vec<u8>);
    let damage: [(&str, Damage); 5] = [
        ("truncated", |b| b.truncate(b.len() / 2)),
        ("empty", |b| b.clear()),
        ("a payload byte flipped", |b| {
            let at = b.len() - 10;
            b[at] ^= 0x01;
        }),
        ("another version", |b| {
            let len = b[VERSION_AT] as usize;
            for c in &mut b[VERSION_AT + 1..VERSION_AT + 1 + len] {
                if c.is_ascii_digit() {
                    *c = b'9';
                }
            }
        }),
        ("garbage", |b| *b = b"not an entry at all".to_vec()),
    ];
    for (i, (what, f)) in damage.iter().enumerate() {
        let target = &all[i * 3];
        let mut bytes = good[i * 3].clone();
        if *what == "another version" {
            assert_eq!(
                &bytes[VERSION_AT + 1..VERSION_AT + 1 + version.len()],
                version
            );
        }
        f(&mut bytes);
        fs::write(target, &bytes).unwrap();
        let run = check(&dir, &["--cache-dir", cache_arg]);
        assert_eq!(stats(&run), counts(n - 1, 1, 1, 1), "{what}");
        assert_same(&run, &expected, what);
        assert_eq!(fs::read(target).unwrap(), good[i * 3], "{what}: rewritten");
    }
    // A directory where an entry should be: refused, and left alone.
    fs::remove_file(&all[1]).unwrap();
    fs::create_dir(&all[1]).unwrap();
    let run = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&run).rejected, 1);
    assert_same(&run, &expected, "");
}

#[test]
fn deleting_the_cache_only_costs_the_hits() {
    let dir = scratch("deleted");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();
    let expected = check(&dir, &["--cache-dir", cache_arg]);
    fs::remove_dir_all(&cache).unwrap();
    let run = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&run), counts(0, n, n, 0));
    assert_same(&run, &expected, "");
    // Only the entry directories go, the rest of the tree stays.
    for shard in fs::read_dir(format_dir(&cache)).unwrap() {
        fs::remove_dir_all(shard.unwrap().path()).unwrap();
    }
    let run = check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(stats(&run), counts(0, n, n, 0));
    assert_same(&run, &expected, "");
}

/// Only drafts read without a diagnostic are stored, so a file's problems
/// are always found by the reader of the running version. (The reader's
/// diagnostics are all errors today; a warning would be kept out the same
/// way.)
#[test]
fn a_file_with_diagnostics_is_not_stored() {
    let dir = scratch("diagnostics");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    let bad = plans.join("zz-bad.toml");
    let text = fs::read_to_string(plans.join("koriyama-budget-2021.toml")).unwrap();
    let text = text.replacen("[plan]\n", "[plan]\nnmae = \"typo\"\n", 1);
    let text = text.replace("koriyama-budget-2021", "koriyama-budget-2021-copy");
    fs::write(&bad, text).unwrap();
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().unwrap();

    let uncached = check(&dir, &["--no-cache"]);
    assert_eq!(uncached.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&uncached.stderr).contains("unknown key `nmae`"));
    for _ in 0..2 {
        let run = check(&dir, &["--cache-dir", cache_arg]);
        let s = stats(&run);
        assert_eq!(
            (s.misses - s.not_stored, s.not_stored),
            (s.written, 1),
            "{s:?}"
        );
        assert_eq!(s.hits + s.misses, n + 1);
        assert_same(&run, &uncached, "with the cache");
    }
    assert_eq!(entries(&cache).len(), n);
}

#[test]
fn a_cache_that_cannot_be_used_costs_one_warning_line() {
    let dir = scratch("unusable");
    corpus(&dir);
    let expected = check(&dir, &["--no-cache"]);
    // A file where the directory would be (permissions would not stop a
    // test run as root).
    let blocker = dir.join("blocker");
    fs::write(&blocker, "").unwrap();

    let under_file = blocker.join("cache");
    let run = check(&dir, &["--cache-dir", under_file.to_str().unwrap()]);
    assert_same(&run, &expected, "");
    let err = String::from_utf8_lossy(&run.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with("warning: cannot create the plan cache in `")
            && warnings[0].ends_with("; reading the plans without it"),
        "{}",
        warnings[0]
    );
    assert!(err.contains("plan cache: off"));

    // From the environment, without -v: the warning alone.
    let args: Vec<&str> = CHECK.iter().copied().filter(|a| *a != "-v").collect();
    let run = hyoka_env(&dir, &args, &[("HYOKA_CACHE_DIR", &under_file)]);
    assert_same(&run, &expected, "");
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(err.lines().filter(|l| l.starts_with("warning:")).count(), 1);

    // A cache directory whose entry directories cannot be made: every
    // write fails, one warning for all of them.
    let cache = dir.join("cache");
    check(&dir, &["--cache-dir", cache.to_str().unwrap()]);
    let entries_dir = format_dir(&cache);
    fs::remove_dir_all(&entries_dir).unwrap();
    fs::create_dir_all(&entries_dir).unwrap();
    for i in 0..=255u8 {
        fs::write(entries_dir.join(format!("{i:02x}")), "").unwrap();
    }
    let run = check(&dir, &["--cache-dir", cache.to_str().unwrap()]);
    assert_same(&run, &expected, "");
    let err = String::from_utf8_lossy(&run.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].starts_with("warning: cannot write the plan cache in `"),
        "{}",
        warnings[0]
    );
    assert_eq!(stats(&run).written, 0);
}

#[test]
fn the_cache_directory_comes_from_the_flag_then_the_environment() {
    let dir = scratch("location");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    let check_args: Vec<&str> = CHECK.to_vec();

    let home = dir.join("home");
    hyoka(&dir, &check_args);
    assert_eq!(entries(&home.join(".cache/hyoka")).len(), n);

    let xdg = dir.join("xdg");
    hyoka_env(&dir, &check_args, &[("XDG_CACHE_HOME", &xdg)]);
    assert_eq!(entries(&xdg.join("hyoka")).len(), n);

    let env_dir = dir.join("env");
    hyoka_env(
        &dir,
        &check_args,
        &[("XDG_CACHE_HOME", &xdg), ("HYOKA_CACHE_DIR", &env_dir)],
    );
    assert_eq!(entries(&env_dir).len(), n);

    let flag = dir.join("flag");
    let mut args = check_args.clone();
    args.extend(["--cache-dir", flag.to_str().unwrap()]);
    hyoka_env(&dir, &args, &[("HYOKA_CACHE_DIR", &env_dir)]);
    assert_eq!(entries(&flag).len(), n);

    // --no-cache reads and writes nothing, whatever the environment says.
    let none = dir.join("none");
    let mut args = check_args.clone();
    args.push("--no-cache");
    hyoka_env(&dir, &args, &[("HYOKA_CACHE_DIR", &none)]);
    assert!(!none.exists());

    // --no-cache and --cache-dir contradict each other.
    args.extend(["--cache-dir", "x"]);
    assert_eq!(hyoka(&dir, &args).status.code(), Some(2));
}

#[test]
fn report_uses_the_cache_too() {
    let dir = scratch("report");
    let plans = corpus(&dir);
    let n = plan_files(&plans).len();
    let cache = dir.join("cache");
    let args = [
        "report",
        "plans",
        "--format",
        "json",
        "--no-compare",
        "-v",
        "--cache-dir",
        cache.to_str().unwrap(),
    ];
    let cold = hyoka(&dir, &args);
    assert_eq!(
        cold.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&cold.stderr)
    );
    assert_eq!(stats(&cold), counts(0, n, n, 0));
    let warm = hyoka(&dir, &args);
    assert_eq!(stats(&warm), counts(n, 0, 0, 0));
    assert_same(&warm, &cold, "warm");
    let uncached = hyoka(&dir, &[&args[..5], &["--no-cache"]].concat());
    assert_eq!(uncached.stdout, warm.stdout);
}
