//! `hyoka check --format sarif`: SARIF 2.1.0, for code-scanning UIs.
//!
//! One run; the tool's rules are the rules in use (id, title as short
//! description, doc comment, help with rationale and reference, tags,
//! default level), plus one descriptor per diagnostic code that occurs
//! (plan files that cannot be loaded, malformed or unused waivers).
//! Each finding is a result at its first place in the plan file (relative
//! URI, line and column region in Unicode code points), its other places as
//! related locations, and its [`crate::finding::Finding::fingerprint`] as
//! the partial fingerprint `hyokaFinding/v1`, so code scanning follows a
//! finding when lines move. Waived findings carry an external, accepted
//! suppression with the waiver's reason; with a baseline every result is
//! `baselineState: new`. Rules that could not be evaluated are tool
//! execution notifications.

use std::collections::BTreeMap;

use miette::Diagnostic;
use serde_json::{json, Value};

use super::outcome::{diagnostic_place, Outcome, Place, Status};
use crate::diagnostic::{PlanDiagnostic, Severity};

/// The key of hyoka's fingerprint in `partialFingerprints`.
pub const FINGERPRINT_KEY: &str = "hyokaFinding/v1";

/// The SARIF level of a severity.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// GitHub's `problem.severity` of a severity.
fn problem_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "recommendation",
    }
}

/// A file name as a URI reference: relative paths stay relative, with
/// every byte outside the unreserved set percent-encoded; absolute paths
/// become `file://` URIs.
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    let absolute = path.starts_with('/');
    let windows_drive =
        path.len() > 2 && path.as_bytes()[1] == b':' && path.as_bytes()[0].is_ascii_alphabetic();
    if absolute {
        out.push_str("file://");
    } else if windows_drive {
        out.push_str("file:///");
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b':' if windows_drive => out.push(':'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn physical(p: &Place) -> Value {
    json!({
        "artifactLocation": { "uri": uri(&p.file), "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": p.line,
            "startColumn": p.column,
            "endLine": p.end_line,
            "endColumn": p.end_column.max(if p.end_line == p.line { p.column } else { 1 }),
        }
    })
}

fn location(p: &Place, id: Option<usize>) -> Value {
    let mut loc = json!({ "physicalLocation": physical(p) });
    if !p.label.is_empty() {
        loc["message"] = json!({ "text": p.label });
    }
    if let Some(id) = id {
        loc["id"] = json!(id);
    }
    loc
}

/// What a diagnostic code is about, for its rule descriptor.
fn describe_code(code: &str) -> &'static str {
    if code == "hyoka::waiver::unused" {
        "A waiver matches no finding"
    } else if code.starts_with("hyoka::waiver::") {
        "Malformed waiver"
    } else if code.starts_with("hyoka::plan::") {
        "The plan file cannot be loaded"
    } else {
        "hyoka diagnostic"
    }
}

fn rule_descriptor(r: &hyoka_dsl::Rule) -> Value {
    let severity = Severity::from(r.severity);
    let id = r.qualified_id();
    let title = r.title.clone().unwrap_or_else(|| id.clone());
    let mut help = Vec::new();
    if let Some(h) = &r.help {
        help.push(h.clone());
    }
    if let Some(s) = &r.suggest {
        help.push(format!("Suggested review outcome: {s}"));
    }
    if let Some(x) = &r.rationale {
        help.push(format!("Rationale: {x}"));
    }
    if let Some(x) = &r.reference {
        help.push(format!("Reference: {x}"));
    }
    if help.is_empty() {
        help.push(title.clone());
    }
    let mut tags: Vec<String> = r.tags.clone();
    tags.sort();
    tags.dedup();
    let mut properties = json!({
        "tags": tags,
        "pack": r.pack,
        "problem.severity": problem_severity(severity),
    });
    if let Some(x) = &r.rationale {
        properties["rationale"] = json!(x);
    }
    if let Some(x) = &r.reference {
        properties["reference"] = json!(x);
    }
    json!({
        "id": id,
        "name": id,
        "shortDescription": { "text": title },
        "fullDescription": { "text": r.doc.clone().unwrap_or_else(|| title.clone()) },
        "help": { "text": help.join("\n\n"), "markdown": help.join("\n\n") },
        "defaultConfiguration": { "level": level(severity) },
        "properties": properties,
    })
}

fn diagnostic_result(d: &PlanDiagnostic, index: usize, baseline: bool) -> Value {
    let mut text = d.message.clone();
    if let Some(h) = &d.help {
        text = format!("{text}\nhelp: {h}");
    }
    let mut result = json!({
        "ruleId": d.code,
        "ruleIndex": index,
        "level": level(d.severity),
        "message": { "text": text },
    });
    if let Some(p) = diagnostic_place(d) {
        result["locations"] = json!([location(&p, None)]);
    }
    if baseline {
        result["baselineState"] = json!("new");
    }
    result
}

/// The check's result as a SARIF 2.1.0 log, pretty-printed, ending with a
/// newline.
pub fn render(o: &Outcome<'_>) -> String {
    let mut rules: Vec<&hyoka_dsl::Rule> = o.program.rules().iter().collect();
    rules.sort_by_key(|r| r.qualified_id());
    let mut descriptors: Vec<Value> = rules.iter().map(|r| rule_descriptor(r)).collect();
    let mut index: BTreeMap<String, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.qualified_id(), i))
        .collect();
    let mut codes: BTreeMap<&str, Severity> = BTreeMap::new();
    for d in &o.diagnostics {
        let s = codes.entry(&d.code).or_insert(d.severity);
        *s = (*s).min(d.severity);
    }
    for (code, severity) in codes {
        index.insert(code.to_string(), descriptors.len());
        descriptors.push(json!({
            "id": code,
            "name": code,
            "shortDescription": { "text": describe_code(code) },
            "defaultConfiguration": { "level": level(severity) },
            "properties": { "problem.severity": problem_severity(severity) },
        }));
    }

    let mut results = Vec::new();
    for r in o.shown() {
        let f = &r.finding;
        let places = o.places(f);
        let mut text = f.message.clone();
        if let Some(note) = o.expiry_note(r) {
            text = format!("{text}\n{note}");
        }
        let mut result = json!({
            "ruleId": f.rule,
            "level": level(f.severity),
            "message": { "text": text },
            "partialFingerprints": { FINGERPRINT_KEY: r.fingerprint },
        });
        if let Some(&i) = index.get(&*f.rule) {
            result["ruleIndex"] = json!(i);
        }
        if let Some(first) = places.first() {
            result["locations"] = json!([location(first, None)]);
        }
        if places.len() > 1 {
            let related: Vec<Value> = places[1..]
                .iter()
                .enumerate()
                .map(|(i, p)| location(p, Some(i + 1)))
                .collect();
            result["relatedLocations"] = json!(related);
        }
        let mut properties = json!({
            "entity": format!("{}/{}", f.entity.plan_id(o.corpus), f.entity.id(o.corpus)),
            "status": r.status.as_str(),
        });
        if let Some(s) = &f.suggest {
            properties["suggest"] = json!(s);
        }
        if let Some(w) = o.waiver_of(r) {
            if r.status == Status::Waived {
                let mut suppression = json!({
                    "kind": "external",
                    "status": "accepted",
                    "justification": w.reason,
                    "properties": { "owner": w.owner, "expires": w.expires.to_string() },
                });
                if let (Some((file, line)), Some(source)) = (o.waiver_place(w), &o.waivers_source) {
                    let (_, col) = crate::diagnostic::line_col(&source.text, w.span.start);
                    let p = Place {
                        file,
                        line,
                        column: col,
                        end_line: line,
                        end_column: col,
                        label: String::new(),
                    };
                    suppression["location"] = location(&p, None);
                }
                result["suppressions"] = json!([suppression]);
            } else {
                properties["waiverExpired"] = json!(w.expires.to_string());
            }
        }
        result["properties"] = properties;
        if o.baseline {
            result["baselineState"] = json!("new");
        }
        results.push(result);
    }
    for d in &o.diagnostics {
        results.push(diagnostic_result(d, index[&d.code], o.baseline));
    }
    let notifications: Vec<Value> = o
        .failures
        .iter()
        .map(|e| {
            let mut text = e.to_string();
            if let Some(h) = e.help() {
                text = format!("{text}\nhelp: {h}");
            }
            let mut n = json!({ "level": "error", "message": { "text": text } });
            if let Some(code) = e.code() {
                n["descriptor"] = json!({ "id": code.to_string() });
            }
            n
        })
        .collect();
    let exit_code = o.exit_code();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "hyoka",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "invocations": [{
                "executionSuccessful": exit_code != 2,
                "exitCode": exit_code,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "year": o.settings.year,
                "today": o.settings.today.to_string(),
                "failOn": o.settings.fail_on.as_str(),
            },
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}
