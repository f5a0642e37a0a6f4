//! `hyoka check --format junit`: JUnit XML, for CI systems that show test
//! reports (GitLab, Jenkins, Azure Pipelines …).
//!
//! One `<testsuite>` per plan file, one `<testcase>` per rule in use on
//! that file (`classname` the file, `name` the rule): it fails when the
//! rule reports a finding at or above `--fail-on` in the file, and the
//! failure's text lists them (`line:column`, severity, message,
//! fingerprint). Findings below the threshold pass, listed in
//! `<system-out>`; a case whose findings are all waived is `<skipped>`. A
//! file that could not be loaded has a `load` case with an `<error>`. A
//! last suite, `hyoka`, holds the `waivers` case (malformed or unused
//! waivers) and the `evaluation` case (rules that could not be
//! evaluated). A finding belongs to the file of its first place.

use std::collections::BTreeMap;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::outcome::{diagnostic_place, display_path, Outcome, Reported, Status};
use crate::diagnostic::PlanDiagnostic;

/// What a test case reports.
#[derive(Default)]
struct Case {
    name: String,
    classname: String,
    file: Option<String>,
    /// `(type, message, text)`.
    failure: Option<(String, String, String)>,
    error: Option<(String, String, String)>,
    skipped: Option<String>,
    out: Vec<String>,
}

struct Suite {
    name: String,
    cases: Vec<Case>,
}

impl Suite {
    fn count(&self, f: impl Fn(&Case) -> bool) -> usize {
        self.cases.iter().filter(|c| f(c)).count()
    }
}

/// `1 finding`, `2 findings`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Characters XML 1.0 cannot hold are dropped.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || c >= ' ')
        .collect()
}

fn finding_line(o: &Outcome<'_>, r: &Reported) -> String {
    let f = &r.finding;
    let at = o
        .places(f)
        .first()
        .map(|p| format!("{}:{}:{}", p.file, p.line, p.column))
        .unwrap_or_default();
    let mut line = format!("{at}: {}: {} [{}]", f.severity, f.message, r.fingerprint);
    if let Some(note) = o.expiry_note(r) {
        line = format!("{line}\n  {note}");
    }
    if r.status == Status::Waived {
        if let Some(w) = o.waiver_of(r) {
            line = format!(
                "{line}\n  waived until {} by {}: {}",
                w.expires, w.owner, w.reason
            );
        }
    }
    line
}

fn diagnostic_line(d: &PlanDiagnostic) -> String {
    let at = diagnostic_place(d)
        .map(|p| format!("{}:{}:{}: ", p.file, p.line, p.column))
        .unwrap_or_default();
    let mut line = format!("{at}{}: {} [{}]", d.severity, d.message, d.code);
    if let Some(h) = &d.help {
        line = format!("{line}\n  help: {h}");
    }
    line
}

fn suites(o: &Outcome<'_>) -> Vec<Suite> {
    let fail_on = o.settings.fail_on;
    let mut rules: Vec<String> = o.program.rules().iter().map(|r| r.qualified_id()).collect();
    rules.sort();
    // Files: those of the corpus in order, then any other file a load
    // diagnostic points into.
    let mut files: Vec<String> = o
        .corpus
        .files
        .iter()
        .map(|f| display_path(&f.name))
        .collect();
    for d in o.load_diagnostics() {
        if let Some(p) = diagnostic_place(d) {
            if !files.contains(&p.file) {
                files.push(p.file);
            }
        }
    }
    let mut by_file: BTreeMap<(String, String), Vec<&Reported>> = BTreeMap::new();
    for r in o.shown() {
        let file = o
            .places(&r.finding)
            .first()
            .map(|p| p.file.clone())
            .unwrap_or_default();
        by_file
            .entry((file, r.finding.rule.to_string()))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for file in &files {
        let mut cases = Vec::new();
        let load: Vec<&PlanDiagnostic> = o
            .load_diagnostics()
            .iter()
            .filter(|d| diagnostic_place(d).is_some_and(|p| &p.file == file))
            .collect();
        if !load.is_empty() {
            let mut case = Case {
                name: "load".into(),
                classname: file.clone(),
                file: Some(file.clone()),
                ..Case::default()
            };
            let text = load
                .iter()
                .map(|d| diagnostic_line(d))
                .collect::<Vec<_>>()
                .join("\n");
            let errors = load
                .iter()
                .filter(|d| d.severity == crate::Severity::Error)
                .count();
            if errors > 0 {
                case.error = Some(("hyoka::plan".into(), count(errors, "load error"), text));
            } else if load.iter().any(|d| fail_on.fails(d.severity)) {
                case.failure = Some((
                    "hyoka::plan".into(),
                    count(load.len(), "load warning"),
                    text,
                ));
            } else {
                case.out.push(text);
            }
            cases.push(case);
        }
        for rule in &rules {
            let found = by_file
                .remove(&(file.clone(), rule.clone()))
                .unwrap_or_default();
            let mut case = Case {
                name: rule.clone(),
                classname: file.clone(),
                file: Some(file.clone()),
                ..Case::default()
            };
            let reported: Vec<&&Reported> = found
                .iter()
                .filter(|r| r.status != Status::Waived)
                .collect();
            let failing = reported
                .iter()
                .filter(|r| fail_on.fails(r.finding.severity))
                .count();
            let lines: Vec<String> = found.iter().map(|r| finding_line(o, r)).collect();
            if failing > 0 {
                case.failure = Some((
                    rule.clone(),
                    format!(
                        "{} at or above {}",
                        count(failing, "finding"),
                        fail_on.as_str()
                    ),
                    lines.join("\n"),
                ));
            } else if reported.is_empty() && !found.is_empty() {
                case.skipped = Some(format!("{} waived", count(found.len(), "finding")));
                case.out = lines;
            } else {
                case.out = lines;
            }
            cases.push(case);
        }
        out.push(Suite {
            name: file.clone(),
            cases,
        });
    }
    // Findings whose first place is in no listed file (there should be none).
    let mut hyoka = Vec::new();
    for ((file, rule), found) in by_file {
        let lines: Vec<String> = found.iter().map(|r| finding_line(o, r)).collect();
        hyoka.push(Case {
            name: rule.clone(),
            classname: file,
            out: lines,
            ..Case::default()
        });
    }
    let waiver_diags: Vec<&PlanDiagnostic> =
        o.diagnostics[o.load_diagnostics().len()..].iter().collect();
    let mut waivers = Case {
        name: "waivers".into(),
        classname: "hyoka".into(),
        file: o.waivers_source.as_ref().map(|s| display_path(&s.name)),
        ..Case::default()
    };
    if !waiver_diags.is_empty() {
        let text = waiver_diags
            .iter()
            .map(|d| diagnostic_line(d))
            .collect::<Vec<_>>()
            .join("\n");
        let errors = waiver_diags
            .iter()
            .filter(|d| d.severity == crate::Severity::Error)
            .count();
        if errors > 0 {
            waivers.error = Some((
                "hyoka::waiver".into(),
                count(errors, "malformed waiver"),
                text,
            ));
        } else if waiver_diags.iter().any(|d| fail_on.fails(d.severity)) {
            waivers.failure = Some((
                "hyoka::waiver::unused".into(),
                count(waiver_diags.len(), "unused waiver"),
                text,
            ));
        } else {
            waivers.out.push(text);
        }
    }
    hyoka.push(waivers);
    let mut evaluation = Case {
        name: "evaluation".into(),
        classname: "hyoka".into(),
        ..Case::default()
    };
    if !o.failures.is_empty() {
        let text = o
            .failures
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        evaluation.error = Some((
            "hyoka::eval".into(),
            format!("{} failed", count(o.failures.len(), "rule evaluation")),
            text,
        ));
    }
    hyoka.push(evaluation);
    out.push(Suite {
        name: "hyoka".into(),
        cases: hyoka,
    });
    out
}

fn write_case(w: &mut Writer<Vec<u8>>, case: &Case) -> std::io::Result<()> {
    let mut el = w
        .create_element("testcase")
        .with_attribute(("name", clean(&case.name).as_str()))
        .with_attribute(("classname", clean(&case.classname).as_str()));
    if let Some(f) = &case.file {
        el = el.with_attribute(("file", clean(f).as_str()));
    }
    let empty = case.failure.is_none()
        && case.error.is_none()
        && case.skipped.is_none()
        && case.out.is_empty();
    if empty {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        if let Some(message) = &case.skipped {
            w.create_element("skipped")
                .with_attribute(("message", clean(message).as_str()))
                .write_empty()?;
        }
        for (tag, item) in [("failure", &case.failure), ("error", &case.error)] {
            if let Some((ty, message, text)) = item {
                w.create_element(tag)
                    .with_attribute(("type", clean(ty).as_str()))
                    .with_attribute(("message", clean(message).as_str()))
                    .write_text_content(BytesText::new(&clean(text)))?;
            }
        }
        if !case.out.is_empty() {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&clean(&case.out.join("\n"))))?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write(o: &Outcome<'_>) -> std::io::Result<Vec<u8>> {
    let suites = suites(o);
    let total = |f: &dyn Fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>().to_string();
    let tests = total(&|s| s.cases.len());
    let failures = total(&|s| s.count(|c| c.failure.is_some()));
    let errors = total(&|s| s.count(|c| c.error.is_some()));
    let skipped = total(&|s| s.count(|c| c.skipped.is_some()));
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites")
        .with_attribute(("name", "hyoka check"))
        .with_attribute(("tests", tests.as_str()))
        .with_attribute(("failures", failures.as_str()))
        .with_attribute(("errors", errors.as_str()))
        .with_attribute(("skipped", skipped.as_str()))
        .write_inner_content(|w| {
            for s in &suites {
                w.create_element("testsuite")
                    .with_attribute(("name", clean(&s.name).as_str()))
                    .with_attribute(("tests", s.cases.len().to_string().as_str()))
                    .with_attribute((
                        "failures",
                        s.count(|c| c.failure.is_some()).to_string().as_str(),
                    ))
                    .with_attribute((
                        "errors",
                        s.count(|c| c.error.is_some()).to_string().as_str(),
                    ))
                    .with_attribute((
                        "skipped",
                        s.count(|c| c.skipped.is_some()).to_string().as_str(),
                    ))
                    .write_inner_content(|w| {
                        for case in &s.cases {
                            write_case(w, case)?;
                        }
                        Ok(())
                    })?;
            }
            Ok(())
        })?;
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

/// The check's result as JUnit XML, ending with a newline.
pub fn render(o: &Outcome<'_>) -> String {
    match write(o) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_default(),
        Err(_) => String::new(),
    }
}
