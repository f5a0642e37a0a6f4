//! `hyoka report`, end to end through the command line:
//!
//! - every format for the bundled `plans/` (evaluation year 2021), as insta
//!   snapshots. The HTML snapshot shows each chart as a one-line summary of
//!   its SVG elements (the charts themselves are checked to be non-empty by
//!   `html_charts_are_drawn`); hashes and byte counts of the plan and rule
//!   files are redacted, so editing a comment in a rule file does not touch
//!   five snapshots (the hashes are checked by `provenance_hashes_are_sha256`);
//! - the JSON report against its published schema, `docs/report-schema.json`;
//! - year over year on a small fixture plan whose grades change between
//!   2021 and 2022: exactly those changes are listed;
//! - determinism, the CSV byte-order mark, atomic replacement of a report
//!   file, and the usage errors.
//!
//! Paths are relative to the package root (the working directory of
//! `cargo test`), so the snapshots are the same on every machine.

use std::path::Path;
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

fn hyoka(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(args)
        .env("NO_COLOR", "1")
        // The cache of loaded plans goes to the build's scratch space, not
        // the home directory.
        .env(
            "HYOKA_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/hyoka-cache"),
        )
        .output()
        .expect("hyoka runs")
}

/// Standard output of a successful run.
fn report(args: &[&str]) -> String {
    let out = hyoka(args);
    assert!(
        out.status.success(),
        "hyoka {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn real(format: &str) -> String {
    report(&["report", "plans/", "--year", "2021", "--format", format])
}

/// Replaces SHA-256 digests and the byte counts next to them.
fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        let boundary = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        if run == 64 && boundary {
            out.push_str("[sha256]");
            i += 64;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out.lines()
        .map(|l| {
            if l.trim_start().starts_with("\"bytes\": ") {
                let indent = &l[..l.len() - l.trim_start().len()];
                let comma = if l.ends_with(',') { "," } else { "" };
                format!("{indent}\"bytes\": \"[bytes]\"{comma}")
            } else if l.starts_with("| ") && l.contains("| [sha256] |") {
                // Markdown: | path | 1234 | [sha256] |
                let cells: Vec<&str> = l.split(" | ").collect();
                if cells.len() == 3 && cells[1].chars().all(|c| c.is_ascii_digit()) {
                    format!("{} | [bytes] | {}", cells[0], cells[2])
                } else {
                    l.to_string()
                }
            } else if l.contains("<td>[sha256]</td>") {
                // HTML: <td class="num">1234</td><td>[sha256]</td>
                match l.rfind("<td class=\"num\">") {
                    Some(at) => {
                        let rest = &l[at..];
                        let end = rest.find("</td>").unwrap_or(0);
                        format!("{}<td class=\"num\">[bytes]{}", &l[..at], &rest[end..])
                    }
                    None => l.to_string(),
                }
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `<svg …>…</svg>` of an HTML page.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg ") {
        let Some(len) = rest[start..].find("</svg>") else {
            break;
        };
        out.push(&rest[start..start + len + "</svg>".len()]);
        rest = &rest[start + len..];
    }
    out
}

/// A one-line summary of an SVG: its size and how many of each element.
fn svg_summary(svg: &str) -> String {
    let attr = |name: &str| {
        svg.split_once(&format!(" {name}=\""))
            .and_then(|(_, r)| r.split_once('"'))
            .map_or("?", |(v, _)| v)
    };
    let mut counts: Vec<(String, usize)> = Vec::new();
    for part in svg.split('<').skip(2) {
        let tag: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if tag.is_empty() {
            continue;
        }
        match counts.iter_mut().find(|(t, _)| *t == tag) {
            Some((_, n)) => *n += 1,
            None => counts.push((tag, 1)),
        }
    }
    counts.sort();
    let elements: Vec<String> = counts.iter().map(|(t, n)| format!("{n} {t}")).collect();
    format!(
        "[svg {}x{} \"{}\": {}]",
        attr("width"),
        attr("height"),
        attr("aria-label"),
        elements.join(", ")
    )
}

/// The HTML with each chart replaced by its summary.
fn html_skeleton(html: &str) -> String {
    let mut out = html.to_string();
    for svg in svgs(html) {
        out = out.replacen(svg, &svg_summary(svg), 1);
    }
    out
}

#[test]
fn markdown_of_the_real_plans() {
    insta::assert_snapshot!("real_plans_md", redact(&real("md")));
}

#[test]
fn html_of_the_real_plans() {
    insta::assert_snapshot!("real_plans_html", redact(&html_skeleton(&real("html"))));
}

#[test]
fn csv_of_the_real_plans() {
    let csv = real("csv");
    assert!(!csv.starts_with('\u{feff}'), "no BOM unless asked for");
    assert!(
        csv.lines().count() > 1 && csv.split("\r\n").count() == csv.lines().count() + 1,
        "every record ends in CRLF (Excel)"
    );
    insta::assert_snapshot!("real_plans_csv", csv.replace("\r\n", "\n"));
}

#[test]
fn json_of_the_real_plans() {
    insta::assert_snapshot!("real_plans_json", redact(&real("json")));
}

#[test]
fn text_summary_of_the_real_plans() {
    insta::assert_snapshot!("real_plans_text", real("text"));
}

#[test]
fn json_validates_against_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("docs/report-schema.json").expect("the schema is published"),
    )
    .expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::draft202012::new(&schema).expect("a valid draft 2020-12 schema");
    for args in [
        vec!["report", "plans/", "--year", "2021", "--format", "json"],
        vec![
            "report",
            "plans/",
            "--format",
            "json",
            "--no-compare",
            "--date",
            "2024-06-30",
        ],
    ] {
        let doc: serde_json::Value = serde_json::from_str(&report(&args)).expect("JSON output");
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{args:?}:\n{}", errors.join("\n"));
        assert_eq!(doc["schema_version"], hyoka_engine::report::SCHEMA_VERSION);
    }
}

#[test]
fn html_charts_are_drawn() {
    let html = real("html");
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"ja\">"));
    assert!(
        !html.contains("http://") || !html.contains("src=\"http"),
        "nothing fetched"
    );
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("<link"), "no external style sheets");
    let charts = svgs(&html);
    // Per plan: grade shares and categories (hyoka's and the city's); per
    // indicator with a numeric target and a value: its trajectory.
    assert!(charts.len() >= 40, "only {} charts", charts.len());
    for svg in &charts {
        assert!(
            svg.contains("role=\"img\" aria-label=\""),
            "{}",
            svg_summary(svg)
        );
        let drawn = [
            "<rect",
            "<circle",
            "<polyline",
            "<polygon",
            "<line",
            "<path",
        ]
        .iter()
        .map(|t| svg.matches(t).count())
        .sum::<usize>();
        // Background and legend swatches alone are 4 or 5 rectangles.
        assert!(drawn > 8, "an empty chart: {}", svg_summary(svg));
        assert!(
            svg.contains("<text"),
            "a chart without labels: {}",
            svg_summary(svg)
        );
    }
    // The wide-area plan's category charts: hyoka's (one bar, 未分類) and
    // the city's published table (8 categories).
    assert!(html.contains("aria-label=\"市の公表値: 連携事業KPI達成状況（事業数）\""));
    // A trajectory: baseline 261 (2016) → 238 (2020), target 300 (2025).
    let m1 = charts
        .iter()
        .find(|s| s.contains("M1-1 きらめき出前講座実施件数"))
        .expect("the trajectory of M1-1");
    assert!(m1.contains("目標 300"));
    assert!(m1.contains("<circle"), "actual values are drawn as points");
}

#[test]
fn output_is_the_same_every_time() {
    for format in ["md", "html", "csv", "json", "text"] {
        assert_eq!(real(format), real(format), "{format} differs between runs");
    }
}

#[test]
fn provenance_hashes_are_sha256() {
    let doc: serde_json::Value = serde_json::from_str(&real("json")).unwrap();
    let files = doc["provenance"]["plan_files"].as_array().unwrap();
    assert_eq!(files.len(), 5);
    for f in files {
        let path = f["path"].as_str().unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        let digest: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], digest, "{path}");
        assert_eq!(f["bytes"], text.len(), "{path}");
    }
    let packs: Vec<&str> = doc["provenance"]["rule_packs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        packs,
        ["rates", "grades", "review", "consistency", "quality"]
    );
    assert_eq!(
        doc["provenance"]["command"],
        "hyoka report plans/ --year=2021 --compare-year=2020"
    );
    let params = doc["provenance"]["parameters"].as_array().unwrap();
    assert!(params
        .iter()
        .any(|p| p["name"] == "grades.a_min" && p["value"] == "0.9" && p["set_by"] == "default"));
}

#[test]
fn the_wide_area_plan_counts_projects_once_and_shows_the_citys_table() {
    let doc: serde_json::Value = serde_json::from_str(&real("json")).unwrap();
    let plan = doc["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "koriyama-kouiki-vision-2")
        .unwrap();
    let c = &plan["projects_counted"];
    // 80 numbered projects and 7 new ones; 4 re-listings counted once
    // (under their originals), 3 completed: vision 2.0's 84 projects less
    // the 4 re-listings.
    let count = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(
        [
            count("listed"),
            count("relisted"),
            count("completed"),
            count("counted")
        ],
        [87, 4, 3, 80]
    );
    // hyoka's table: no categories and no KPI values in the source.
    let t = &plan["category_table"];
    assert_eq!(t["rows"].as_array().unwrap().len(), 1);
    assert_eq!(t["rows"][0]["category"], "未分類");
    assert_eq!(t["column_totals"], serde_json::json!([0, 0, 0, 80]));
    // The city's published table, as transcribed: 76 projects.
    let city = &plan["recorded"][0]["table"];
    assert_eq!(city["total"], 76);
    assert_eq!(city["column_totals"], serde_json::json!([26, 8, 39, 3]));
    assert_eq!(city["rows"].as_array().unwrap().len(), 8);
    let md = real("md");
    assert!(md.contains("全87事業のうち再掲4事業・完了3事業を除く80事業"));
    assert!(md.contains("市の公表値（原資料の転記、hyokaの算出ではない）: 連携事業KPI達成状況"));
}

#[test]
fn rates_are_percentages_rounded_to_one_decimal() {
    let md = real("md");
    // Seed 002: 238 / 300 = 79.3 %.
    assert!(md.contains(
        "| M1-1 きらめき出前講座実施件数 | 件 | 増加 | 261 (2016) | 238 (2020) | 300 (2025) | 79.3% | B |"
    ));
}

// ---------------------------------------------------------------------------
// Year over year
// ---------------------------------------------------------------------------

/// A plan whose grades change between 2021 and 2022 (targets 100, or 10
/// for the decrease indicator; A ≥ 90 %, B ≥ 70 %, C below).
const YOY_PLAN: &str = r#"
[plan]
id = "yoy"
name = "年度比較の試験計画"
municipality = "試験市"
kind = "sectoral"
period = { from = 2020, to = 2025 }

[[measure]]
id = "M1"
name = "変化が打ち消し合う施策"

[[measure]]
id = "M2"
name = "悪化する施策"

# A → B, and away from the target.
[[indicator]]
id = "I1"
under = "M1"
name = "下がった指標"
unit = "件"
direction = "increase"
department = "企画課"
baseline = { year = 2020, value = 90 }
actuals = [ { year = 2021, value = 95 }, { year = 2022, value = 80 } ]
target = { year = 2025, value = 100 }

# C → A.
[[indicator]]
id = "I2"
under = "M1"
name = "上がった指標"
unit = "件"
direction = "increase"
department = "企画課"
baseline = { year = 2020, value = 50 }
actuals = [ { year = 2021, value = 60 }, { year = 2022, value = 92 } ]
target = { year = 2025, value = 100 }

# B → B: moved, but not across a band.
[[indicator]]
id = "I3"
under = "M2"
name = "同じ評価の指標"
unit = "件"
direction = "increase"
department = "企画課"
baseline = { year = 2020, value = 70 }
actuals = [ { year = 2021, value = 75 }, { year = 2022, value = 78 } ]
target = { year = 2025, value = 100 }

# Never graded.
[[indicator]]
id = "I4"
under = "M2"
name = "モニタリング指標"
unit = "人"
direction = "increase"
monitoring = true
actuals = [ { year = 2021, value = 10 }, { year = 2022, value = 3 } ]

# No value yet for 2022: the 2021 value carries, the grade stays.
[[indicator]]
id = "I5"
under = "M1"
name = "集計中の指標"
unit = "件"
direction = "increase"
department = "財政課"
actuals = [ { year = 2021, value = 85 }, { year = 2022, value = "集計中" } ]
target = { year = 2025, value = 100 }

# Lower is better: 10 / 12 = 83.3 % (B) → 10 / 20 = 50 % (C), away.
[[indicator]]
id = "I6"
under = "M2"
name = "増えた事故件数"
unit = "件"
direction = "decrease"
department = "財政課"
baseline = { year = 2020, value = 15 }
actuals = [ { year = 2021, value = 12 }, { year = 2022, value = 20 } ]
target = { year = 2025, value = 10 }

[[project]]
id = "P1"
under = "M1"
name = "伸びた事業"
category = "事業補助"
department = "企画課"

[[project]]
id = "P2"
under = "M2"
name = "伸びた事業"
relisted_from = "P1"
category = "事業補助"
department = "企画課"

# C → A.
[[indicator]]
id = "I7"
under = "P1"
name = "伸びた事業の指標"
unit = "人"
direction = "increase"
actuals = [ { year = 2021, value = 50 }, { year = 2022, value = 95 } ]
target = { year = 2025, value = 100 }
"#;

fn yoy_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("yoy.toml"), YOY_PLAN).unwrap();
    dir
}

#[test]
fn year_over_year_lists_exactly_the_grades_that_changed() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let plan = plan.to_str().unwrap();
    // The default evaluation year is the latest with actuals (2022), and the
    // default compare year the year before.
    let doc: serde_json::Value =
        serde_json::from_str(&report(&["report", plan, "--format", "json"])).unwrap();
    assert_eq!(doc["year"], 2022);
    assert_eq!(doc["compare_year"], 2021);
    let changes: Vec<String> = doc["changes"]["grades"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{} {} {}→{} {}",
                c["kind"].as_str().unwrap(),
                c["id"].as_str().unwrap(),
                c["from"].as_str().unwrap(),
                c["to"].as_str().unwrap(),
                c["direction"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            "measure M2 B→C worsened",
            "project P1 C→A improved",
            "indicator I1 A→B worsened",
            "indicator I2 C→A improved",
            "indicator I6 B→C worsened",
            "indicator I7 C→A improved",
        ]
    );
    let away: Vec<&str> = doc["changes"]["moved_away"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(away, ["I1", "I6"]);

    // Comparing a year with itself changes nothing.
    let same: serde_json::Value = serde_json::from_str(&report(&[
        "report",
        plan,
        "--format",
        "json",
        "--year",
        "2022",
        "--compare-year",
        "2022",
    ]))
    .unwrap();
    assert_eq!(same["changes"]["grades"], serde_json::json!([]));
    assert_eq!(same["changes"]["moved_away"], serde_json::json!([]));

    // Without a comparison there is no changes section.
    let none: serde_json::Value = serde_json::from_str(&report(&[
        "report",
        plan,
        "--format",
        "json",
        "--no-compare",
    ]))
    .unwrap();
    assert_eq!(none["changes"], serde_json::Value::Null);

    // The Markdown section, as a committee reads it.
    let md = report(&["report", plan, "--format", "md"]);
    let section = md
        .split("## 前年度からの変化")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a changes section");
    insta::assert_snapshot!("yoy_changes_md", format!("## 前年度からの変化{section}"));
}

#[test]
fn year_over_year_in_the_terminal_summary() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let text = report(&["report", plan.to_str().unwrap()]);
    let tail = text
        .split("前年度からの変化")
        .nth(1)
        .expect("a changes line");
    insta::assert_snapshot!("yoy_changes_text", format!("前年度からの変化{tail}"));
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------

#[test]
fn a_directory_gets_every_format_and_csv_a_bom_on_request() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let out = dir.path().join("out/");
    let run = hyoka(&[
        "report",
        plan.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--bom",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "report-2022.csv",
            "report-2022.html",
            "report-2022.json",
            "report-2022.md"
        ]
    );
    let csv = std::fs::read(out.join("report-2022.csv")).unwrap();
    assert!(csv.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM for Excel");
    let md = std::fs::read(out.join("report-2022.md")).unwrap();
    assert!(
        !md.starts_with(&[0xEF, 0xBB, 0xBF]),
        "the BOM is for CSV only"
    );
}

#[test]
fn a_report_file_is_replaced_whole() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let file = dir.path().join("report.md");
    std::fs::write(&file, "an old report\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let run = hyoka(&[
        "report",
        plan.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# 年次評価報告書 2022年度"), "{text}");
    assert_eq!(
        text,
        report(&["report", plan.to_str().unwrap(), "--format", "md"]),
        "the file holds the whole report"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "the old file's permissions are kept");
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn a_report_that_cannot_be_written_leaves_nothing_behind() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let file = dir.path().join("missing-dir").join("report.md");
    let run = hyoka(&[
        "report",
        plan.to_str().unwrap(),
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot write the report"));
    assert!(!file.exists());
}

#[test]
fn usage_errors() {
    let dir = yoy_dir();
    let plan = dir.path().join("yoy.toml");
    let plan = plan.to_str().unwrap();
    // Several formats need a directory.
    let run = hyoka(&["report", plan, "--format", "md,json"]);
    assert_eq!(run.status.code(), Some(2));
    // A file name that names no format.
    let file = dir.path().join("report.pdf");
    let run = hyoka(&["report", plan, "-o", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("cannot tell the format"));
    // Broken plan files: no report.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[plan]\nid = \"x\"\n").unwrap();
    let out = dir.path().join("r.md");
    let run = hyoka(&["report", bad.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1));
    assert!(!Path::new(&out).exists());
}
