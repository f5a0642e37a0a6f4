//! `hyoka check` and `hyoka diff` in CI, end to end through the binary:
//!
//! - every output format on the bundled plans, snapshotted (human, JSON,
//!   SARIF, GitHub annotations, JUnit), and the exit codes of `--fail-on`;
//! - the SARIF output validated against the SARIF 2.1.0 schema subset in
//!   `tests/schemas/`, the JUnit XML parsed back;
//! - baselines: a moved line keeps every fingerprint, a new finding fails;
//! - waivers (`tests/ci/waivers/`): active, expired, unused, malformed;
//! - `--changed` and `--changed-since` (in a temporary git repository);
//! - `hyoka diff`: a changed target gives exactly the expected changes, in
//!   directories and between git revisions; the what-if mode.
//!
//! Every run passes `--today 2025-01-01`, so waiver expiry does not depend
//! on the day the tests run. Temporary directories hold copies of the
//! bundled plans; the binary runs inside them with relative paths, so
//! outputs name files as in a repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

const TODAY: [&str; 2] = ["--today", "2025-01-01"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `hyoka ARGS` in `dir`, without colour and without the user's git
/// configuration.
fn hyoka_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        // The cache of loaded plans goes to the build's scratch space, not
        // the home directory.
        .env(
            "HYOKA_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/hyoka-cache"),
        )
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run hyoka")
}

fn hyoka(args: &[&str]) -> Output {
    hyoka_in(root(), args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", stdout(o), stderr(o)))
}

/// The tool version is not part of what the snapshots claim.
fn unversioned(text: &str) -> String {
    text.replace(
        &format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        "\"[version]\"",
    )
}

/// Snapshots live in `tests/ci/snapshots/`.
fn snapshot(name: &str, value: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("ci/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, value));
}

/// A temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "hyoka-ci-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// A temporary directory with a copy of the bundled `plans/`.
    fn with_plans() -> TempDir {
        let t = TempDir::new();
        copy_dir(&root().join("plans"), &t.0.join("plans"));
        t
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Replaces `from` by `to` in a file, exactly once.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "`{from}` in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// The target of indicator M1-1 (きらめき出前講座実施件数) of the Koriyama
/// 協働推進基本計画: 300 in 2025, against a baseline of 261 in 2016 and
/// 238 in 2020 (rate 79.3 %, grade B).
const M1_1_TARGET: &str = "{ year = 2016, value = 261 }\nactuals = [\n  { year = 2020, value = 238 },\n]\ntarget = { year = 2025, value = 300 }";

fn lower_m1_1_target(plans: &Path) {
    edit(
        &plans.join("koriyama-kyodo-2.toml"),
        M1_1_TARGET,
        &M1_1_TARGET.replace("value = 300", "value = 200"),
    );
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=hyoka test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A git repository with the bundled plans committed.
fn repo_with_plans() -> TempDir {
    let t = TempDir::with_plans();
    git(t.path(), &["init", "-q"]);
    git(t.path(), &["add", "."]);
    git(t.path(), &["commit", "-q", "-m", "plans"]);
    t
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().expect("findings")
}

fn str_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no `{key}` in {v}"))
}

// ----- formats -------------------------------------------------------------

#[test]
fn every_format_on_the_bundled_plans() {
    for (format, name) in [
        ("json", "check_bundled.json"),
        ("sarif", "check_bundled.sarif"),
        ("github", "check_bundled.github"),
        ("junit", "check_bundled.junit.xml"),
    ] {
        let out = hyoka(&["check", "plans", TODAY[0], TODAY[1], "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        // Same input, same bytes.
        let again = hyoka(&["check", "plans", TODAY[0], TODAY[1], "--format", format]);
        assert_eq!(text, stdout(&again), "{format} is not deterministic");
        snapshot(name, &unversioned(&text));
    }
    let out = hyoka(&["check", "plans", TODAY[0], TODAY[1], "--color", "never"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    snapshot("check_bundled.human", &stderr(&out));
}

#[test]
fn json_counts_match_the_human_summary() {
    let out = hyoka(&["check", "plans", TODAY[0], TODAY[1], "--format", "json"]);
    let v = json(&out);
    let s = &v["summary"];
    let line = format!(
        "{} errors, {} warnings, {} infos",
        s["errors"], s["warnings"], s["infos"]
    );
    assert!(stderr(&out).contains(&line), "{line}\n{}", stderr(&out));
    assert_eq!(s["warnings"], 50);
    assert_eq!(s["infos"], 95);
    assert_eq!(findings(&v).len(), 145);
    // Fingerprints identify findings: no two alike.
    let mut fps: Vec<&str> = findings(&v)
        .iter()
        .map(|f| str_of(f, "fingerprint"))
        .collect();
    fps.sort();
    fps.dedup();
    assert_eq!(fps.len(), 145);
}

#[test]
fn fail_on_picks_what_fails() {
    let code = |fail_on: &str| {
        hyoka(&[
            "check",
            "plans",
            TODAY[0],
            TODAY[1],
            "--format",
            "json",
            "--fail-on",
            fail_on,
        ])
        .status
        .code()
    };
    assert_eq!(code("error"), Some(0));
    assert_eq!(code("warning"), Some(1));
    assert_eq!(code("info"), Some(1));
    assert_eq!(code("never"), Some(0));
}

#[test]
fn load_errors_exit_2_in_every_format() {
    let bad = "tests/plans/bad/06-unknown-indicator-key.toml";
    for format in ["human", "json", "sarif", "github", "junit"] {
        let out = hyoka(&["check", "--fail-on", "never", "--format", format, bad]);
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
    }
    let out = hyoka(&["check", "--format", "sarif", bad]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
    let result = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "hyoka::plan::unknown_key")
        .expect("the load error is a result");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        14
    );
    let out = hyoka(&["check", "--format", "github", bad]);
    assert!(
        stdout(&out).starts_with(&format!("::error file={bad},line=14,col=1,")),
        "{}",
        stdout(&out)
    );
    // A missing path is a load error too.
    assert_eq!(hyoka(&["check", "no/such/plans"]).status.code(), Some(2));
    // Two formats on standard output is a usage error.
    let out = hyoka(&["check", "plans", "--format", "json", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("more than one format"));
}

#[test]
fn formats_can_go_to_files_in_one_run() {
    let t = TempDir::with_plans();
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            TODAY[0],
            TODAY[1],
            "--format",
            "github",
            "--format",
            "sarif=out.sarif",
            "--format",
            "junit=out.xml",
            "--format",
            "json=out.json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("::warning file=plans/"));
    for file in ["out.sarif", "out.xml", "out.json"] {
        assert!(t.path().join(file).is_file(), "{file}");
    }
}

// ----- SARIF -----------------------------------------------------------------

/// The official OASIS SARIF 2.1.0 schema (as shipped in the `serde-sarif`
/// crate on crates.io) and hyoka's stricter subset, which also refuses
/// properties it does not list.
fn sarif_validator() -> Vec<jsonschema::Validator> {
    ["sarif-schema-2.1.0.json", "sarif-2.1.0-subset.json"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(root().join("tests/schemas").join(name)).unwrap();
            let mut schema: Value = serde_json::from_str(&text).unwrap();
            // The official file's `language` patterns have a stray `]`
            // (`…-[a-zA-Z]{2}]?$`) that the meta-schema's `format: regex`
            // refuses; they are replaced in memory by the pattern meant.
            fix_language_patterns(&mut schema);
            jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .expect("the schema compiles")
        })
        .collect()
}

fn fix_language_patterns(v: &mut Value) {
    const STRAY: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match v {
        Value::String(s) if s == STRAY => *s = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".to_string(),
        Value::Array(items) => items.iter_mut().for_each(fix_language_patterns),
        Value::Object(map) => map.values_mut().for_each(fix_language_patterns),
        _ => {}
    }
}

fn assert_valid_sarif(validators: &[jsonschema::Validator], v: &Value, what: &str) {
    let errors: Vec<String> = validators
        .iter()
        .flat_map(|validator| validator.iter_errors(v))
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: SARIF is not valid:\n{}",
        errors.join("\n")
    );
}

#[test]
fn sarif_validates_against_the_schema() {
    let validator = sarif_validator();
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("bundled plans", vec!["check", "plans"]),
        (
            "waivers",
            vec!["check", "plans", "--waivers", "tests/ci/waivers/mixed.toml"],
        ),
        (
            "malformed waivers",
            vec![
                "check",
                "plans",
                "--waivers",
                "tests/ci/waivers/malformed.toml",
            ],
        ),
        ("group finding", vec!["check", "tests/ci/group"]),
        (
            "load error",
            vec!["check", "tests/plans/bad/06-unknown-indicator-key.toml"],
        ),
    ];
    for (what, mut args) in runs {
        args.extend(["--format", "sarif", TODAY[0], TODAY[1]]);
        let out = hyoka(&args);
        let v = json(&out);
        assert_valid_sarif(&validator, &v, what);
    }
    // The validator does reject what the schema forbids.
    let out = hyoka(&["check", "plans", "--format", "sarif", TODAY[0], TODAY[1]]);
    let mut v = json(&out);
    v["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(validator.iter().all(|s| !s.is_valid(&v)));
    let mut v = json(&out);
    v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(validator.iter().all(|s| !s.is_valid(&v)));
    // Only the subset refuses properties SARIF does not define.
    let mut v = json(&out);
    v["runs"][0]["results"][0]["fingerprint"] = Value::from("x");
    assert!(!validator[1].is_valid(&v));
}

#[test]
fn sarif_points_at_the_plan_file_line() {
    let out = hyoka(&["check", "plans", "--format", "sarif", TODAY[0], TODAY[1]]);
    let v = json(&out);
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let results = run["results"].as_array().unwrap();
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 30);
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let fp = r["partialFingerprints"]["hyokaFinding/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fp.len(), 16);
    }
    // review.target_met_early on indicator M3-6 of the Koriyama plan:
    // line 509, `id = "M3-6"`, the id's value from column 6.
    let m3_6 = results
        .iter()
        .find(|r| {
            r["ruleId"] == "review.target_met_early"
                && r["properties"]["entity"] == "koriyama-kyodo-2/M3-6"
        })
        .unwrap();
    let loc = &m3_6["locations"][0]["physicalLocation"];
    assert_eq!(
        loc["artifactLocation"]["uri"],
        "plans/koriyama-kyodo-2.toml"
    );
    assert_eq!(loc["region"]["startLine"], 509);
    assert_eq!(loc["region"]["startColumn"], 6);
    assert_eq!(loc["region"]["endColumn"], 12);
    let rule = &rules[m3_6["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(
        rule["shortDescription"]["text"],
        "目標を計画終了より早く達成"
    );
    assert!(rule["help"]["text"]
        .as_str()
        .unwrap()
        .contains("Rationale: "));
    // A group finding: the other member is a related location in the other file.
    let out = hyoka(&[
        "check",
        "tests/ci/group",
        "--format",
        "sarif",
        TODAY[0],
        TODAY[1],
    ]);
    let v = json(&out);
    let r = &v["runs"][0]["results"][0];
    assert_eq!(r["ruleId"], "consistency.same_name_targets_differ");
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/ci/group/city-a.toml"
    );
    assert_eq!(
        r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/ci/group/city-b.toml"
    );
}

// ----- JUnit -------------------------------------------------------------------

/// A JUnit document read back with an XML parser: how many `<testcase>`,
/// `<failure>`, `<error>` and `<skipped>` elements it has, and the
/// attributes of `<testsuites>`.
#[derive(Default)]
struct Junit {
    cases: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
    attrs: Vec<(String, String)>,
}

fn read_junit(xml: &str) -> Junit {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut j = Junit::default();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().0 {
                "testsuites" => {
                    for a in e.attributes() {
                        let a = a.unwrap();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                            .unwrap()
                            .into_owned();
                        j.attrs.push((a.key.0.to_string(), value));
                    }
                }
                "testcase" => j.cases += 1,
                "failure" => j.failures += 1,
                "error" => j.errors += 1,
                "skipped" => j.skipped += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    j
}

#[test]
fn junit_parses_back() {
    for (args, expect_failures) in [
        (vec!["--fail-on", "error"], false),
        (vec!["--fail-on", "warning"], true),
    ] {
        let mut all = vec!["check", "plans", "--format", "junit", TODAY[0], TODAY[1]];
        all.extend(args);
        let out = hyoka(&all);
        let j = read_junit(&stdout(&out));
        let (cases, failures, errors, skipped) = (j.cases, j.failures, j.errors, j.skipped);
        let attr = |k: &str| {
            j.attrs
                .iter()
                .find(|(a, _)| a == k)
                .unwrap()
                .1
                .parse::<usize>()
                .unwrap()
        };
        assert_eq!(attr("tests"), cases);
        assert_eq!(attr("failures"), failures);
        assert_eq!(attr("errors"), errors);
        assert_eq!(attr("skipped"), skipped);
        // 5 files × 30 rules, and the `waivers` and `evaluation` cases.
        assert_eq!(cases, 5 * 30 + 2);
        assert_eq!(errors, 0);
        assert_eq!(failures > 0, expect_failures);
    }
    // Waived findings are skipped cases; a load error is an error case.
    let out = hyoka(&[
        "check",
        "plans",
        "--format",
        "junit",
        TODAY[0],
        TODAY[1],
        "--waivers",
        "tests/ci/waivers/mixed.toml",
    ]);
    assert_eq!(
        read_junit(&stdout(&out)).skipped,
        2,
        "relisted_has_indicators and missing_without_reason (aizuwakamatsu)"
    );
    let out = hyoka(&[
        "check",
        "--format",
        "junit",
        "tests/plans/bad/06-unknown-indicator-key.toml",
    ]);
    assert_eq!(read_junit(&stdout(&out)).errors, 1);
}

// ----- GitHub annotations ----------------------------------------------------------

#[test]
fn github_escaping_follows_the_toolkit() {
    use hyoka_engine::ci::github::{escape_data, escape_property};
    assert_eq!(
        escape_data("50% done\r\nnext: a, b"),
        "50%25 done%0D%0Anext: a, b"
    );
    assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    let out = hyoka(&["check", "plans", "--format", "github", TODAY[0], TODAY[1]]);
    let text = stdout(&out);
    // One line per warning (the default --show hides the 95 infos).
    assert_eq!(text.lines().count(), 50);
    for line in text.lines() {
        assert!(line.starts_with("::warning file=plans/"), "{line}");
        let (props, message) = line[2..].split_once("::").unwrap();
        assert!(!message.contains('\n'));
        assert!(props.contains(",line=") && props.contains(",col=") && props.contains(",title="));
    }
    let out = hyoka(&[
        "check", "plans", "--format", "github", "--show", "info", TODAY[0], TODAY[1],
    ]);
    assert_eq!(
        stdout(&out)
            .lines()
            .filter(|l| l.starts_with("::notice "))
            .count(),
        95
    );
}

// ----- baselines -------------------------------------------------------------------

fn fingerprints_and_lines(v: &Value) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = findings(v)
        .iter()
        .map(|f| {
            (
                str_of(f, "fingerprint").to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_moved_line_keeps_its_fingerprint() {
    let t = TempDir::with_plans();
    let before = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            "--write-baseline",
            "baseline.json",
            TODAY[0],
            TODAY[1],
        ],
    );
    assert_eq!(before.status.code(), Some(0));
    // The baseline is the JSON output itself.
    assert_eq!(
        std::fs::read_to_string(t.path().join("baseline.json")).unwrap(),
        stdout(&before)
    );
    // Move every line of the Koriyama plan down: comments at the top, and a
    // blank line in the middle of the file.
    let plan = t.path().join("plans/koriyama-kyodo-2.toml");
    let text = std::fs::read_to_string(&plan).unwrap();
    std::fs::write(
        &plan,
        format!(
            "# 改訂案\n# 2025-01 作業中\n\n{}",
            text.replacen("\n[[indicator]]\n", "\n\n[[indicator]]\n", 1)
        ),
    )
    .unwrap();
    let after = hyoka_in(
        t.path(),
        &["check", "plans", "--format", "json", TODAY[0], TODAY[1]],
    );
    let (a, b) = (
        fingerprints_and_lines(&json(&before)),
        fingerprints_and_lines(&json(&after)),
    );
    let fa: Vec<&String> = a.iter().map(|(f, _)| f).collect();
    let fb: Vec<&String> = b.iter().map(|(f, _)| f).collect();
    assert_eq!(fa, fb, "same findings, same fingerprints");
    assert_ne!(a, b, "but on other lines");
    // Against the baseline nothing is new, even failing on infos.
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            "--baseline",
            "baseline.json",
            "--fail-on",
            "info",
            TODAY[0],
            TODAY[1],
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert!(findings(&v).is_empty());
    assert_eq!(v["summary"]["in_baseline"], 145);
    assert!(stderr(&out).contains("145 known in the baseline"));
}

#[test]
fn a_new_finding_fails_against_the_baseline() {
    let t = TempDir::with_plans();
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--write-baseline",
            "baseline.json",
            TODAY[0],
            TODAY[1],
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    lower_m1_1_target(&t.path().join("plans"));
    for baseline in ["baseline.json", "baseline.sarif"] {
        if baseline.ends_with("sarif") {
            // A SARIF result is a baseline too.
            let sarif = hyoka_in(
                t.path(),
                &[
                    "check",
                    "plans",
                    "--format",
                    "sarif=baseline.sarif",
                    TODAY[0],
                    TODAY[1],
                ],
            );
            assert_eq!(sarif.status.code(), Some(0));
            // …taken after the change: nothing is new then.
            let out = hyoka_in(
                t.path(),
                &[
                    "check",
                    "plans",
                    "--baseline",
                    baseline,
                    "--fail-on",
                    "info",
                    TODAY[0],
                    TODAY[1],
                ],
            );
            assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
            continue;
        }
        let out = hyoka_in(
            t.path(),
            &[
                "check",
                "plans",
                "--format",
                "json",
                "--baseline",
                baseline,
                "--fail-on",
                "warning",
                TODAY[0],
                TODAY[1],
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let v = json(&out);
        let new: Vec<(&str, &str, &str)> = findings(&v)
            .iter()
            .map(|f| {
                (
                    str_of(f, "rule"),
                    str_of(f, "entity"),
                    str_of(f, "severity"),
                )
            })
            .collect();
        assert_eq!(
            new,
            [
                ("quality.direction_contradicts_target", "M1-1", "warning"),
                ("review.target_met_early", "M1-1", "warning"),
            ]
        );
        assert_eq!(v["summary"]["in_baseline"], 145);
        // The SARIF output marks them new.
        let out = hyoka_in(
            t.path(),
            &[
                "check",
                "plans",
                "--format",
                "sarif",
                "--baseline",
                baseline,
                TODAY[0],
                TODAY[1],
            ],
        );
        let v = json(&out);
        for r in v["runs"][0]["results"].as_array().unwrap() {
            assert_eq!(r["baselineState"], "new");
        }
    }
}

#[test]
fn an_unreadable_baseline_is_a_usage_error() {
    let t = TempDir::with_plans();
    std::fs::write(t.path().join("b.json"), "{\"findings\": [{\"rule\": 1}]}").unwrap();
    std::fs::write(t.path().join("c.json"), "{\"findings\": [").unwrap();
    for (file, says) in [
        ("b.json", "has no `fingerprint`"),
        ("c.json", "is not JSON"),
        ("missing.json", "cannot read the baseline"),
    ] {
        let out = hyoka_in(
            t.path(),
            &["check", "plans", "--baseline", file, "--color", "never"],
        );
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
    }
}

// ----- waivers -------------------------------------------------------------------------

/// `(rule, entity, status)` of the findings that are not open, and the
/// codes of the diagnostics.
fn statuses(v: &Value) -> (Vec<(String, String, String)>, Vec<String>) {
    let mut out: Vec<(String, String, String)> = findings(v)
        .iter()
        .filter(|f| f["status"] != "open")
        .map(|f| {
            (
                str_of(f, "rule").to_string(),
                format!("{}/{}", str_of(f, "plan"), str_of(f, "entity")),
                str_of(f, "status").to_string(),
            )
        })
        .collect();
    out.sort();
    let codes = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| str_of(d, "code").to_string())
        .collect();
    (out, codes)
}

#[test]
fn waivers_active_expired_and_unused() {
    let args = |today: &str, fail_on: &str| -> Output {
        hyoka(&[
            "check",
            "plans",
            "--format",
            "json",
            "--waivers",
            "tests/ci/waivers/mixed.toml",
            "--today",
            today,
            "--fail-on",
            fail_on,
        ])
    };
    let out = args("2025-01-01", "error");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let (waived, codes) = statuses(&v);
    let expect = |rule: &str, entity: &str, status: &str| {
        (rule.to_string(), entity.to_string(), status.to_string())
    };
    assert_eq!(
        waived,
        [
            expect(
                "consistency.relisted_has_indicators",
                "aizuwakamatsu-sousei-2/G4-P3",
                "waived"
            ),
            expect(
                "quality.direction_contradicts_target",
                "koriyama-kyodo-2/M4-7",
                "expired"
            ),
            expect(
                "quality.missing_without_reason",
                "aizuwakamatsu-sousei-2/G1-N1",
                "waived"
            ),
            expect(
                "quality.missing_without_reason",
                "aizuwakamatsu-sousei-2/G1-N2",
                "waived"
            ),
            expect(
                "quality.missing_without_reason",
                "aizuwakamatsu-sousei-2/G1-N3",
                "waived"
            ),
            expect("review.target_met_early", "koriyama-kyodo-2/M3-6", "waived"),
        ]
    );
    assert_eq!(codes, ["hyoka::waiver::unused"]);
    let s = &v["summary"];
    assert_eq!(
        (
            s["waived"].as_u64(),
            s["expired"].as_u64(),
            s["unused_waivers"].as_u64()
        ),
        (Some(5), Some(1), Some(1))
    );
    // The expired finding is back, with a note that names the date and the waiver.
    let expired = findings(&v)
        .iter()
        .find(|f| f["status"] == "expired")
        .unwrap();
    assert_eq!(
        str_of(expired, "note"),
        "the waiver of this finding expired on 2024-12-31 (tests/ci/waivers/mixed.toml:12); owner: 市民・NPO活動推進課; reason: 開催数の目標は会場の統合に合わせて減らした"
    );
    assert_eq!(expired["waiver"]["line"], 12);
    // The unused waiver is a warning at the waiver, with a did-you-mean.
    let unused = &v["diagnostics"][0];
    assert_eq!(
        (unused["severity"].as_str(), unused["line"].as_u64()),
        (Some("warning"), Some(36))
    );
    assert!(str_of(unused, "help").contains("plan `koriyama-kyodo-2` has no entity `M9-9`"));
    // Warnings fail: the expired waiver's finding and the unused waiver.
    assert_eq!(args("2025-01-01", "warning").status.code(), Some(1));
    // A waiver holds through its expiry date.
    let v = json(&args("2024-12-31", "error"));
    let (waived, _) = statuses(&v);
    assert!(waived.contains(&expect(
        "quality.direction_contradicts_target",
        "koriyama-kyodo-2/M4-7",
        "waived"
    )));
    // Human output: the expired finding with its note; waived ones only counted.
    let out = hyoka(&[
        "check",
        "plans",
        "--waivers",
        "tests/ci/waivers/mixed.toml",
        TODAY[0],
        TODAY[1],
        "--color",
        "never",
    ]);
    let text = stderr(&out);
    assert!(text.contains("the waiver of this finding expired on 2024-12-31"));
    assert!(
        !text.contains("indicator M3-6 公衆無線LANへのアクセス件数"),
        "waived, not shown"
    );
    assert!(
        text.ends_with("5 waived, 1 with an expired waiver, 1 unused waiver\n"),
        "{text}"
    );
    // SARIF: waived results carry an accepted external suppression.
    let out = hyoka(&[
        "check",
        "plans",
        "--format",
        "sarif",
        "--waivers",
        "tests/ci/waivers/mixed.toml",
        TODAY[0],
        TODAY[1],
    ]);
    let v = json(&out);
    let suppressed: Vec<&Value> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 5);
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
}

#[test]
fn malformed_waivers_are_errors_with_their_place() {
    let out = hyoka(&[
        "check",
        "plans",
        "--waivers",
        "tests/ci/waivers/malformed.toml",
        TODAY[0],
        TODAY[1],
        "--color",
        "never",
        "--show",
        "error",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert!(
        text.contains("[tests/ci/waivers/malformed.toml:2:8]"),
        "{text}"
    );
    assert!(text.contains("did you mean `review.target_met_early`?"));
    assert!(text.contains("did you mean `reason`?"));
    snapshot("waivers_malformed.human", &text);
    let out = hyoka(&[
        "check",
        "plans",
        "--waivers",
        "tests/ci/waivers/malformed.toml",
        TODAY[0],
        TODAY[1],
        "--format",
        "json",
    ]);
    let v = json(&out);
    let found: Vec<(&str, u64, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                str_of(d, "code"),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("hyoka::waiver::unknown_rule", 2, 8),
            ("hyoka::waiver::missing_key", 8, 1),
            ("hyoka::waiver::unknown_key", 11, 1),
            ("hyoka::waiver::bad_date", 20, 11),
            ("hyoka::waiver::missing_key", 22, 1),
            ("hyoka::waiver::both_targets", 25, 15),
        ]
    );
    // Nothing was waived by a malformed waiver.
    assert_eq!(v["summary"]["waived"], 0);
}

#[test]
fn the_waivers_file_is_found_next_to_the_config() {
    let t = TempDir::with_plans();
    std::fs::write(t.path().join("hyoka.toml"), "# defaults\n").unwrap();
    std::fs::write(
        t.path().join("hyoka-waivers.toml"),
        "[[waiver]]\nrule = \"review.target_met_early\"\nentity = \"koriyama-kyodo-2/M3-6\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
    )
    .unwrap();
    let out = hyoka_in(
        t.path(),
        &["check", "plans", "--format", "json", TODAY[0], TODAY[1]],
    );
    let v = json(&out);
    assert_eq!(v["summary"]["waived"], 1, "{}", stderr(&out));
    let waived = findings(&v)
        .iter()
        .find(|f| f["status"] == "waived")
        .unwrap();
    assert_eq!(waived["waiver"]["file"], "hyoka-waivers.toml");
}

// ----- changed files ---------------------------------------------------------------------

fn files_of(v: &Value) -> Vec<String> {
    let mut files: Vec<String> = findings(v)
        .iter()
        .map(|f| str_of(f, "file").to_string())
        .collect();
    files.sort();
    files.dedup();
    files
}

#[test]
fn changed_files_restrict_the_findings_not_the_plans() {
    let out = hyoka(&[
        "check",
        "plans",
        "--format",
        "json",
        TODAY[0],
        TODAY[1],
        "--changed",
        "plans/koriyama-kyodo-2.toml",
    ]);
    let v = json(&out);
    assert_eq!(files_of(&v), ["plans/koriyama-kyodo-2.toml"]);
    let shown = findings(&v).len() as u64;
    assert!(shown > 0);
    assert_eq!(
        v["summary"]["outside_changes"].as_u64().unwrap() + shown,
        145
    );
    // Every plan is still loaded: a group finding whose first member is in
    // an unchanged file is reported when another member's file changed.
    let out = hyoka(&[
        "check",
        "tests/ci/group",
        "--format",
        "json",
        TODAY[0],
        TODAY[1],
        "--changed",
        "tests/ci/group/city-b.toml",
    ]);
    let v = json(&out);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(
        str_of(&findings(&v)[0], "file"),
        "tests/ci/group/city-a.toml"
    );
    assert_eq!(
        findings(&v)[0]["members"],
        serde_json::json!(["city-a/K-1", "city-b/S-3"])
    );
}

#[test]
fn changed_since_a_git_revision() {
    let t = repo_with_plans();
    lower_m1_1_target(&t.path().join("plans"));
    git(
        t.path(),
        &["commit", "-q", "-a", "-m", "lower M1-1's target"],
    );
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            TODAY[0],
            TODAY[1],
            "--changed-since",
            "HEAD~1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(files_of(&v), ["plans/koriyama-kyodo-2.toml"]);
    // The working tree counts, untracked files included.
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            TODAY[0],
            TODAY[1],
            "--changed-since",
            "HEAD",
        ],
    );
    assert!(findings(&json(&out)).is_empty());
    for file in ["city-a.toml", "city-b.toml"] {
        std::fs::copy(
            root().join("tests/ci/group").join(file),
            t.path().join("plans").join(file),
        )
        .unwrap();
    }
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            TODAY[0],
            TODAY[1],
            "--changed-since",
            "HEAD",
        ],
    );
    assert_eq!(files_of(&json(&out)), ["plans/city-a.toml"]);
    // A range.
    let out = hyoka_in(
        t.path(),
        &[
            "check",
            "plans",
            "--format",
            "json",
            TODAY[0],
            TODAY[1],
            "--changed-since",
            "HEAD~1..HEAD",
        ],
    );
    assert_eq!(files_of(&json(&out)), ["plans/koriyama-kyodo-2.toml"]);
    let out = hyoka_in(
        t.path(),
        &["check", "plans", "--changed-since", "no-such-rev"],
    );
    assert_eq!(out.status.code(), Some(2));
}

// ----- diff ------------------------------------------------------------------------------------

/// What the lowered target of M1-1 changes, as `hyoka diff --format json`
/// reports it (entities and findings; labels left out).
fn expected_m1_1_diff(file: &str) -> Value {
    serde_json::json!({
        "entities": [
            {
                "kind": "measure", "plan": "koriyama-kyodo-2", "id": "M1",
                "name": "協働を支える人材の育成と協働意識の醸成", "change": "changed",
                "inputs": [],
                "values": [{ "name": "rate", "old": "77.5%", "new": "81.6%" }],
                "summary": "measure koriyama-kyodo-2/M1 協働を支える人材の育成と協働意識の醸成: changes its rate from 77.5% to 81.6%"
            },
            {
                "kind": "indicator", "plan": "koriyama-kyodo-2", "id": "M1-1",
                "name": "きらめき出前講座実施件数", "change": "changed",
                "inputs": [{ "name": "target", "old": "300 (2025)", "new": "200 (2025)", "note": "below its 2016 baseline 261" }],
                "values": [
                    { "name": "grade", "old": "B", "new": "A" },
                    { "name": "rate", "old": "79.3%", "new": "119%" }
                ],
                "summary": "indicator koriyama-kyodo-2/M1-1 きらめき出前講座実施件数: this change lowers the 2025 target from 300 to 200 (below its 2016 baseline 261) and turns its grade from B to A and its rate from 79.3% to 119%"
            }
        ],
        "new_findings": [
            {
                "fingerprint": "ac99c175188a7373", "rule": "quality.direction_contradicts_target",
                "severity": "warning", "entity": "koriyama-kyodo-2/M1-1",
                "message": "きらめき出前講座実施件数: 方向は increase だが、目標値 200 が基準値 261（2016年度）の下にある",
                "file": file, "line": 208, "column": 6
            },
            {
                "fingerprint": "d254137a8d087c02", "rule": "review.target_met_early",
                "severity": "warning", "entity": "koriyama-kyodo-2/M1-1",
                "message": "きらめき出前講座実施件数: 現況値 238件（2020年度）が 2025年度の目標値 200件 に既に到達。目標値の上方修正（より高い水準への見直し）を検討",
                "file": file, "line": 208, "column": 6
            }
        ],
        "resolved_findings": [],
        "changed_findings": []
    })
}

fn without_labels(mut v: Value) -> Value {
    let map = v.as_object_mut().unwrap();
    for key in ["tool", "version", "mode", "old", "new", "year", "summary"] {
        map.remove(key);
    }
    v
}

#[test]
fn diff_of_a_changed_target_between_directories() {
    let t = TempDir::new();
    copy_dir(&root().join("plans"), &t.path().join("old"));
    copy_dir(&root().join("plans"), &t.path().join("new"));
    lower_m1_1_target(&t.path().join("new"));
    let out = hyoka_in(t.path(), &["diff", "old", "new", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["mode"], "directories");
    assert_eq!(v["year"], 2021);
    assert_eq!(
        v["summary"]["text"],
        "1 grade, 2 rates, 0 review outcomes and 2 findings differ (2 new, 0 resolved, 0 changed); plan data changed for 1 entity"
    );
    assert_eq!(
        without_labels(v),
        expected_m1_1_diff("new/koriyama-kyodo-2.toml")
    );
    let out = hyoka_in(t.path(), &["diff", "old", "new"]);
    snapshot("diff_m1_1.text", &stdout(&out));
    // --exit-code: 1 when something differs, 0 when nothing does.
    assert_eq!(
        hyoka_in(t.path(), &["diff", "old", "new", "--exit-code"])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        hyoka_in(t.path(), &["diff", "old", "old", "--exit-code"])
            .status
            .code(),
        Some(0)
    );
    let out = hyoka_in(t.path(), &["diff", "old", "old"]);
    assert!(stdout(&out)
        .ends_with("nothing differs: no grade, rate, review outcome or finding changes\n"));
}

#[test]
fn diff_of_a_changed_target_between_git_revisions() {
    let t = repo_with_plans();
    lower_m1_1_target(&t.path().join("plans"));
    // Uncommitted: one revision compares it with the working tree.
    let out = hyoka_in(t.path(), &["diff", "HEAD", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        (v["old"].as_str(), v["new"].as_str()),
        (Some("HEAD"), Some("working tree"))
    );
    assert_eq!(
        without_labels(v),
        expected_m1_1_diff("plans/koriyama-kyodo-2.toml")
    );
    git(
        t.path(),
        &["commit", "-q", "-a", "-m", "lower M1-1's target"],
    );
    // Two revisions, from a subdirectory with the paths after `--`.
    let out = hyoka_in(
        &t.path().join("plans"),
        &["diff", "HEAD~1", "HEAD", "--format", "json", "--", "."],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["mode"], "git");
    assert_eq!(
        without_labels(v),
        expected_m1_1_diff("koriyama-kyodo-2.toml")
    );
    let out = hyoka_in(t.path(), &["diff", "main~1", "main", "--", "plans/"]);
    assert!(stdout(&out).starts_with("hyoka diff (git): main~1 → main, evaluated for 2021\n"));
    // Errors: no such revision, no plan files.
    let out = hyoka_in(t.path(), &["diff", "nope", "HEAD", "--color", "never"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`nope` is neither a directory nor a git revision here"));
    let out = hyoka_in(
        t.path(),
        &[
            "diff",
            "HEAD~1",
            "HEAD",
            "--color",
            "never",
            "--",
            "no-such-dir",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no plan files under `no-such-dir`"));
}

#[test]
fn what_if_compares_parameters_on_the_same_plans() {
    let out = hyoka(&[
        "diff",
        "--set",
        "grades.a_min=85%",
        "--format",
        "json",
        "plans",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["mode"], "what-if");
    assert_eq!(v["new"], "grades.a_min=85%");
    // Only grades move: the rates do not depend on the cut-offs, and with
    // these plans no finding does either.
    assert!(v["new_findings"].as_array().unwrap().is_empty());
    assert!(v["resolved_findings"].as_array().unwrap().is_empty());
    for e in v["entities"].as_array().unwrap() {
        assert!(e["inputs"].as_array().unwrap().is_empty());
        for value in e["values"].as_array().unwrap() {
            assert_eq!(value["name"], "grade");
            // Lowering A's bound from 90 % to 85 % only promotes B to A.
            assert_eq!(
                (value["old"].as_str(), value["new"].as_str()),
                (Some("B"), Some("A"))
            );
        }
    }
    let out = hyoka(&["diff", "--set", "grades.a_min=85%", "plans"]);
    snapshot("diff_what_if.text", &stdout(&out));
    let out = hyoka(&[
        "diff",
        "--set",
        "grades.a_min=85%",
        "--value",
        "no_such_value",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

// ----- fingerprints of group findings ---------------------------------------------------

#[test]
fn group_fingerprints_do_not_depend_on_file_order() {
    let t = TempDir::new();
    copy_dir(&root().join("tests/ci/group"), &t.path().join("a"));
    // The same plans with the files the other way round (and lines moved).
    std::fs::create_dir_all(t.path().join("b")).unwrap();
    let a = std::fs::read_to_string(root().join("tests/ci/group/city-a.toml")).unwrap();
    let b = std::fs::read_to_string(root().join("tests/ci/group/city-b.toml")).unwrap();
    std::fs::write(t.path().join("b/1-city-b.toml"), format!("\n\n{b}")).unwrap();
    std::fs::write(t.path().join("b/2-city-a.toml"), a).unwrap();
    let fp = |dir: &str| {
        let v = json(&hyoka_in(
            t.path(),
            &["check", dir, "--format", "json", TODAY[0], TODAY[1]],
        ));
        let f = &findings(&v)[0];
        (
            str_of(f, "fingerprint").to_string(),
            str_of(f, "file").to_string(),
        )
    };
    let (fa, file_a) = fp("a");
    let (fb, file_b) = fp("b");
    assert_eq!(fa, fb);
    assert_ne!(file_a, file_b);
}
