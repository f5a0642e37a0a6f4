//! `hyoka check --format github`: GitHub Actions workflow commands, one
//! line per finding, that GitHub shows as annotations on the plan file's
//! line in the pull request:
//!
//! ```text
//! ::warning file=plans/a.toml,line=12,col=6,endLine=12,endColumn=12,title=review.target_met_early (…)::message%0Ahelp: …
//! ```
//!
//! Errors are `::error`, warnings `::warning`, infos `::notice`. Waived and
//! hidden findings are left out. Escaping follows GitHub's toolkit
//! (`@actions/core`): in the message `%`, CR and LF are percent-encoded;
//! in property values `:` and `,` are too.

use super::outcome::{diagnostic_place, Outcome, Place, Status};
use crate::diagnostic::Severity;

/// Escapes the message of a workflow command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn line(out: &mut String, severity: Severity, place: Option<&Place>, title: &str, message: &str) {
    out.push_str("::");
    out.push_str(command(severity));
    let mut props = Vec::new();
    if let Some(p) = place {
        props.push(format!("file={}", escape_property(&p.file)));
        props.push(format!("line={}", p.line));
        props.push(format!("col={}", p.column));
        props.push(format!("endLine={}", p.end_line));
        if p.end_line == p.line {
            props.push(format!("endColumn={}", p.end_column));
        }
    }
    props.push(format!("title={}", escape_property(title)));
    out.push(' ');
    out.push_str(&props.join(","));
    out.push_str("::");
    out.push_str(&escape_data(message));
    out.push('\n');
}

/// The annotations for the findings at least as severe as `show` (and for
/// every diagnostic), one workflow command a line.
pub fn render(o: &Outcome<'_>, show: Severity) -> String {
    let mut out = String::new();
    for d in o.load_diagnostics() {
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message = format!("{message}\nhelp: {h}");
        }
        line(
            &mut out,
            d.severity,
            diagnostic_place(d).as_ref(),
            &d.code,
            &message,
        );
    }
    for r in o.shown() {
        let f = &r.finding;
        if r.status == Status::Waived || f.severity > show {
            continue;
        }
        let mut message = f.message.clone();
        if let Some(h) = &f.help {
            message = format!("{message}\nhelp: {h}");
        }
        if let Some(s) = &f.suggest {
            message = format!("{message}\nsuggested review outcome: {s}");
        }
        if let Some(note) = o.expiry_note(r) {
            message = format!("{message}\n{note}");
        }
        let title = match &f.title {
            Some(t) => format!("{} ({t})", f.rule),
            None => f.rule.to_string(),
        };
        line(&mut out, f.severity, o.places(f).first(), &title, &message);
    }
    for d in &o.diagnostics[o.load_diagnostics().len()..] {
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message = format!("{message}\nhelp: {h}");
        }
        line(
            &mut out,
            d.severity,
            diagnostic_place(d).as_ref(),
            &d.code,
            &message,
        );
    }
    for e in &o.failures {
        line(
            &mut out,
            Severity::Error,
            None,
            "hyoka::eval",
            &e.to_string(),
        );
    }
    out
}
