//! `hyoka check --format json`: the whole result as one JSON document,
//! which is also the baseline format (`--baseline`, `--write-baseline`).
//!
//! Shape (keys are stable; optional keys are left out when empty):
//!
//! ```json
//! { "tool": "hyoka", "version": "0.1.0", "format": 1,
//!   "year": 2021, "today": "2025-04-01", "fail_on": "error", "exit_code": 0,
//!   "summary": { "files": 5, "plans": 5, "projects": 112, "indicators": 84, "rules": 30,
//!                "errors": 0, "warnings": 50, "infos": 95, "waived": 0, "expired": 0,
//!                "unused_waivers": 0, "in_baseline": 0, "outside_changes": 0 },
//!   "findings": [ { "fingerprint": "…", "rule": "…", "severity": "warning", "status": "open",
//!                   "title": "…", "message": "…", "help": "…", "suggest": "…",
//!                   "plan": "…", "entity": "…", "entity_name": "…", "key": "…", "members": ["plan/id"],
//!                   "file": "plans/….toml", "line": 12, "column": 6, "end_line": 12, "end_column": 12,
//!                   "places": [ { "file": "…", "line": 12, "column": 6, "end_line": 12, "end_column": 12, "label": "…" } ],
//!                   "waiver": { "reason": "…", "owner": "…", "expires": "2025-03-31", "expired": false, "file": "…", "line": 3 } } ],
//!   "diagnostics": [ { "code": "…", "severity": "error", "message": "…", "help": "…", "file": "…", "line": 1, "column": 1, … } ],
//!   "failures": [ { "code": "…", "message": "…", "help": "…" } ] }
//! ```
//!
//! Findings are in the evaluator's order (rule, then place); the same input
//! gives the same bytes.

use miette::Diagnostic;
use serde::Serialize;

use super::outcome::{diagnostic_place, Outcome, Place, Reported, Status};
use crate::diagnostic::PlanDiagnostic;

/// Version of the JSON shape; raised when a key changes meaning.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    tool: &'static str,
    version: &'static str,
    format: u32,
    year: i32,
    today: String,
    fail_on: &'static str,
    exit_code: u8,
    summary: Summary,
    findings: Vec<JsonFinding<'a>>,
    diagnostics: Vec<JsonDiagnostic>,
    failures: Vec<JsonFailure>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    plans: usize,
    projects: usize,
    indicators: usize,
    rules: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    waived: usize,
    expired: usize,
    unused_waivers: usize,
    in_baseline: usize,
    outside_changes: usize,
}

#[derive(Serialize)]
struct JsonPlace {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    #[serde(skip_serializing_if = "String::is_empty")]
    label: String,
}

impl From<Place> for JsonPlace {
    fn from(p: Place) -> Self {
        JsonPlace {
            file: p.file,
            line: p.line,
            column: p.column,
            end_line: p.end_line,
            end_column: p.end_column,
            label: p.label,
        }
    }
}

#[derive(Serialize)]
struct JsonWaiver {
    reason: String,
    owner: String,
    expires: String,
    expired: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    fingerprint: &'a str,
    rule: &'a str,
    severity: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggest: Option<&'a str>,
    plan: &'a str,
    entity: &'a str,
    entity_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    members: Vec<String>,
    #[serde(flatten)]
    primary: Option<Primary>,
    places: Vec<JsonPlace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<JsonWaiver>,
}

#[derive(Serialize)]
struct Primary {
    file: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
}

#[derive(Serialize)]
struct JsonDiagnostic {
    code: String,
    severity: &'static str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    #[serde(flatten)]
    primary: Option<Primary>,
}

#[derive(Serialize)]
struct JsonFailure {
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
}

fn primary(p: &Place) -> Primary {
    Primary {
        file: p.file.clone(),
        line: p.line,
        column: p.column,
        end_line: p.end_line,
        end_column: p.end_column,
    }
}

fn finding<'a>(o: &'a Outcome<'_>, r: &'a Reported) -> JsonFinding<'a> {
    let f = &r.finding;
    let c = o.corpus;
    let places = o.places(f);
    let waiver = o.waiver_of(r).map(|w| {
        let at = o.waiver_place(w);
        JsonWaiver {
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            expires: w.expires.to_string(),
            expired: r.status == Status::Expired,
            file: at.as_ref().map(|(f, _)| f.clone()),
            line: at.map(|(_, l)| l),
        }
    });
    JsonFinding {
        fingerprint: &r.fingerprint,
        rule: &f.rule,
        severity: f.severity.as_str(),
        status: r.status.as_str(),
        title: f.title.as_deref(),
        message: &f.message,
        help: f.help.as_deref(),
        suggest: f.suggest.as_deref(),
        plan: f.entity.plan_id(c),
        entity: f.entity.id(c),
        entity_name: &f.entity_name,
        key: f.key.as_deref(),
        members: f
            .members
            .iter()
            .map(|m| format!("{}/{}", m.plan_id(c), m.id(c)))
            .collect(),
        primary: places.first().map(primary),
        places: places.into_iter().map(JsonPlace::from).collect(),
        note: o.expiry_note(r),
        waiver,
    }
}

/// A diagnostic as JSON.
fn diagnostic(d: &PlanDiagnostic) -> JsonDiagnostic {
    JsonDiagnostic {
        code: d.code.clone(),
        severity: d.severity.as_str(),
        message: d.message.clone(),
        help: d.help.clone(),
        primary: diagnostic_place(d).as_ref().map(primary),
    }
}

/// The check's result as pretty-printed JSON, ending with a newline.
pub fn render(o: &Outcome<'_>) -> String {
    let counts = o.counts();
    let c = o.corpus;
    let out = Output {
        tool: "hyoka",
        version: env!("CARGO_PKG_VERSION"),
        format: FORMAT_VERSION,
        year: o.settings.year,
        today: o.settings.today.to_string(),
        fail_on: o.settings.fail_on.as_str(),
        exit_code: o.exit_code(),
        summary: Summary {
            files: c.files.len(),
            plans: c.plans.len(),
            projects: c.projects.len(),
            indicators: c.indicators.len(),
            rules: o.program.rules().len(),
            errors: counts.errors,
            warnings: counts.warnings,
            infos: counts.infos,
            waived: counts.waived,
            expired: counts.expired,
            unused_waivers: counts.unused_waivers,
            in_baseline: counts.in_baseline,
            outside_changes: counts.outside_changes,
        },
        findings: o.shown().map(|r| finding(o, r)).collect(),
        diagnostics: o.diagnostics.iter().map(diagnostic).collect(),
        failures: o
            .failures
            .iter()
            .map(|e| JsonFailure {
                code: e.code().map(|c| c.to_string()).unwrap_or_default(),
                message: e.to_string(),
                help: e.help().map(|h| h.to_string()),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&out).unwrap_or_default();
    text.push('\n');
    text
}
