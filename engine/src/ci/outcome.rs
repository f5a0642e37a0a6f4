//! The result of a check as CI sees it: every finding with its
//! fingerprint and status (open, waived, or back because its waiver
//! expired), whether it is hidden (known in the baseline, outside the
//! changed files), the load and waiver diagnostics, and the exit code that
//! follows from `--fail-on`.
//!
//! The renderers (`json`, `sarif`, `github`, `junit`, and miette through
//! [`Outcome::human_diagnostics`]) read an [`Outcome`]; none of them
//! decides anything.

use rayon::prelude::*;
use std::collections::HashSet;

use hyoka_dsl::{Program, RuntimeError};

use super::baseline::Baseline;
use super::date::Date;
use super::waiver::{entity_hint, Waiver, Waivers};
use crate::diagnostic::{line_col, PlanDiagnostic, Severity};
use crate::eval::RuleFailure;
use crate::finding::Finding;
use crate::model::{Corpus, FileId, SourceFile};

/// The least severity that fails the build (`--fail-on`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Info,
    /// Nothing fails (findings are still reported; load errors still do).
    Never,
}

impl FailOn {
    /// Whether a finding of severity `s` fails the build.
    pub fn fails(self, s: Severity) -> bool {
        match self {
            FailOn::Error => s == Severity::Error,
            FailOn::Warning => s != Severity::Info,
            FailOn::Info => true,
            FailOn::Never => false,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Info => "info",
            FailOn::Never => "never",
        }
    }
}

/// What became of a finding after the waivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Reported; fails the build at or above `--fail-on`.
    Open,
    /// Accepted by an active waiver: reported as waived, never fails.
    Waived,
    /// Its waiver expired: reported again, with a note, and fails like an
    /// open finding.
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Waived => "waived",
            Status::Expired => "expired",
        }
    }
}

/// Why a finding is left out of the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    /// Its fingerprint is in the `--baseline`.
    Baseline,
    /// It touches none of the changed files (`--changed-since`, `--changed`).
    OutsideChanges,
}

/// A finding as CI reports it.
#[derive(Clone, Debug)]
pub struct Reported {
    pub finding: Finding,
    /// [`Finding::fingerprint`].
    pub fingerprint: String,
    pub status: Status,
    /// Index into [`Outcome::waivers`] of the waiver that waived it (or
    /// whose expiry brought it back).
    pub waiver: Option<usize>,
    pub hidden: Option<Hidden>,
}

/// A place in a file, 1-based, columns in characters; `end_column` is the
/// column just after the last character.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// The file's path with `/` separators, as the plans were named
    /// (relative to the working directory when they were given so).
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub label: String,
}

/// Settings of an [`Outcome`] that are not data.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The evaluation year.
    pub year: i32,
    /// The date waivers are checked against.
    pub today: Date,
    pub fail_on: FailOn,
}

/// Everything a check reports.
pub struct Outcome<'a> {
    pub corpus: &'a Corpus,
    pub program: &'a Program,
    pub settings: Settings,
    /// Every finding, in the evaluator's order (by rule, then place).
    pub findings: Vec<Reported>,
    /// Load diagnostics, then malformed and unused waivers.
    pub diagnostics: Vec<PlanDiagnostic>,
    /// Rules that could not be evaluated on some entity.
    pub failures: Vec<RuntimeError>,
    /// The waivers in force (well-formed ones).
    pub waivers: Vec<Waiver>,
    /// The waivers file, when there is one.
    pub waivers_source: Option<SourceFile>,
    /// Whether a baseline was applied.
    pub baseline: bool,
    /// Whether findings were restricted to changed files.
    pub changes: bool,
    /// How many diagnostics at the front of `diagnostics` came from loading.
    load_diagnostics: usize,
    /// Line starts of each corpus file, for places.
    lines: Vec<LineIndex>,
}

impl<'a> Outcome<'a> {
    /// Fingerprints the findings and applies the waivers as of
    /// `settings.today`; malformed waivers and unused ones become
    /// diagnostics.
    pub fn new(
        corpus: &'a Corpus,
        program: &'a Program,
        settings: Settings,
        findings: Vec<Finding>,
        failures: &[RuleFailure],
        load_diagnostics: &[PlanDiagnostic],
        waivers: &Waivers,
    ) -> Outcome<'a> {
        let today = settings.today;
        // Fingerprints and waiver matches per finding in parallel (a
        // national corpus has millions of findings); which waivers were
        // used is gathered afterwards, in order.
        let matched: Vec<(Reported, Vec<usize>)> = findings
            .into_par_iter()
            .map(|f| {
                let fingerprint = f.fingerprint(corpus);
                let matching: Vec<usize> = waivers
                    .list
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.matches(&f, &fingerprint, corpus))
                    .map(|(i, _)| i)
                    .collect();
                let active = matching.iter().find(|&&i| !waivers.list[i].expired(today));
                let (status, waiver) = match (active, matching.first()) {
                    (Some(&i), _) => (Status::Waived, Some(i)),
                    (None, Some(&i)) => (Status::Expired, Some(i)),
                    (None, None) => (Status::Open, None),
                };
                let reported = Reported {
                    finding: f,
                    fingerprint,
                    status,
                    waiver,
                    hidden: None,
                };
                (reported, matching)
            })
            .collect();
        let mut used = vec![false; waivers.list.len()];
        let reported: Vec<Reported> = matched
            .into_iter()
            .map(|(r, matching)| {
                for i in matching {
                    used[i] = true;
                }
                r
            })
            .collect();
        let mut diagnostics: Vec<PlanDiagnostic> = load_diagnostics.to_vec();
        diagnostics.extend(waivers.errors.iter().cloned());
        if let Some(source) = &waivers.source {
            for (w, used) in waivers.list.iter().zip(&used) {
                if *used {
                    continue;
                }
                let expired = if w.expired(today) {
                    format!(" (it also expired on {})", w.expires)
                } else {
                    String::new()
                };
                let mut help = "remove the waiver, or correct its `rule` or `entity`".to_string();
                if let Some(hint) = entity_hint(&w.target, corpus) {
                    help = format!("{hint}\n{help}");
                }
                diagnostics.push(
                    PlanDiagnostic::new(
                        "hyoka::waiver::unused",
                        Severity::Warning,
                        format!(
                            "waiver of `{}` for `{}` matches no finding{expired}",
                            w.rule, w.target
                        ),
                    )
                    .in_file(source)
                    .label(w.span.start..w.span.start, "this waiver")
                    .help(help),
                );
            }
        }
        Outcome {
            corpus,
            program,
            settings,
            findings: reported,
            diagnostics,
            failures: failures.iter().map(|f| f.error.clone()).collect(),
            waivers: waivers.list.clone(),
            waivers_source: waivers.source.clone(),
            baseline: false,
            changes: false,
            load_diagnostics: load_diagnostics.len(),
            lines: corpus
                .files
                .iter()
                .map(|f| LineIndex::new(&f.text))
                .collect(),
        }
    }

    /// Hides the findings known in `baseline` (except those whose waiver
    /// expired: an expiry is news).
    pub fn hide_known(&mut self, baseline: &Baseline) {
        self.baseline = true;
        for r in &mut self.findings {
            if r.hidden.is_none()
                && r.status != Status::Expired
                && baseline.fingerprints.contains(&r.fingerprint)
            {
                r.hidden = Some(Hidden::Baseline);
            }
        }
    }

    /// Hides the findings that point into none of `files`.
    pub fn only_files(&mut self, files: &HashSet<FileId>) {
        self.changes = true;
        for r in &mut self.findings {
            if r.hidden.is_none()
                && !r
                    .finding
                    .places
                    .iter()
                    .any(|(s, _)| files.contains(&s.file))
            {
                r.hidden = Some(Hidden::OutsideChanges);
            }
        }
    }

    /// The findings that are reported (not hidden), waived ones included.
    pub fn shown(&self) -> impl Iterator<Item = &Reported> {
        self.findings.iter().filter(|r| r.hidden.is_none())
    }

    /// A copy with nothing hidden: what `--write-baseline` saves.
    pub fn unfiltered(&self) -> Outcome<'a> {
        Outcome {
            findings: self
                .findings
                .iter()
                .cloned()
                .map(|r| Reported { hidden: None, ..r })
                .collect(),
            diagnostics: self.diagnostics.clone(),
            failures: self.failures.clone(),
            waivers: self.waivers.clone(),
            waivers_source: self.waivers_source.clone(),
            settings: self.settings.clone(),
            baseline: false,
            changes: false,
            lines: self.lines.clone(),
            ..*self
        }
    }

    /// The load diagnostics (plan files that could not be read as plans).
    pub fn load_diagnostics(&self) -> &[PlanDiagnostic] {
        &self.diagnostics[..self.load_diagnostics]
    }

    /// Whether the input could not be read: plan files with errors, or
    /// malformed waivers (exit code 2).
    pub fn input_errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Whether something at or above `--fail-on` is reported: open or
    /// expired findings, other diagnostics (unused waivers), rule failures.
    pub fn fails(&self) -> bool {
        let f = self.settings.fail_on;
        self.shown()
            .any(|r| r.status != Status::Waived && f.fails(r.finding.severity))
            || self.diagnostics.iter().any(|d| f.fails(d.severity))
            || (!self.failures.is_empty() && f.fails(Severity::Error))
    }

    /// The exit code: 2 when the input could not be read, 1 when something
    /// at or above `--fail-on` is reported, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.input_errors() > 0 {
            2
        } else if self.fails() {
            1
        } else {
            0
        }
    }

    /// Counts of what is reported.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.findings {
            match (r.hidden, r.status) {
                (Some(Hidden::Baseline), _) => c.in_baseline += 1,
                (Some(Hidden::OutsideChanges), _) => c.outside_changes += 1,
                (None, Status::Waived) => c.waived += 1,
                (None, status) => {
                    if status == Status::Expired {
                        c.expired += 1;
                    }
                    c.add(r.finding.severity);
                }
            }
        }
        for d in &self.diagnostics {
            c.add(d.severity);
            if d.code == "hyoka::waiver::unused" {
                c.unused_waivers += 1;
            }
        }
        c.errors += self.failures.len();
        c
    }

    /// The places of a finding, resolved to lines and columns.
    pub fn places(&self, f: &Finding) -> Vec<Place> {
        f.places
            .iter()
            .map(|(span, label)| {
                let file = self.corpus.file_of(*span);
                self.lines[span.file as usize].place(&file.name, &file.text, span.range(), label)
            })
            .collect()
    }

    /// The waiver of a reported finding.
    pub fn waiver_of(&self, r: &Reported) -> Option<&Waiver> {
        r.waiver.and_then(|i| self.waivers.get(i))
    }

    /// Where a waiver is written: its file and line.
    pub fn waiver_place(&self, w: &Waiver) -> Option<(String, usize)> {
        let source = self.waivers_source.as_ref()?;
        Some((
            display_path(&source.name),
            line_col(&source.text, w.span.start).0,
        ))
    }

    /// The note added to a finding whose waiver expired.
    pub fn expiry_note(&self, r: &Reported) -> Option<String> {
        if r.status != Status::Expired {
            return None;
        }
        let w = self.waiver_of(r)?;
        let at = match self.waiver_place(w) {
            Some((file, line)) => format!(" ({file}:{line})"),
            None => String::new(),
        };
        Some(format!(
            "the waiver of this finding expired on {}{at}; owner: {}; reason: {}",
            w.expires, w.owner, w.reason
        ))
    }

    /// The diagnostics `hyoka check` prints for people, in order: load
    /// diagnostics, findings (at least as severe as `show`; waived and
    /// hidden ones are only counted), rule failures are printed by the
    /// caller, waiver diagnostics last.
    ///
    /// At most `max_per_rule` findings of each rule are rendered (0: all);
    /// the second result counts, per rule, the ones left out, so a corpus
    /// with thousands of findings of one rule still gives a readable log.
    pub fn human_diagnostics(
        &self,
        show: Severity,
        max_per_rule: usize,
    ) -> (Vec<PlanDiagnostic>, Vec<(String, usize)>) {
        let mut out: Vec<PlanDiagnostic> = self.load_diagnostics().to_vec();
        let mut per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
        let mut left_out: std::collections::BTreeMap<String, usize> = Default::default();
        for r in self.shown() {
            if r.status == Status::Waived || r.finding.severity > show {
                continue;
            }
            let n = per_rule.entry(&*r.finding.rule).or_default();
            *n += 1;
            if max_per_rule > 0 && *n > max_per_rule {
                *left_out.entry(r.finding.rule.to_string()).or_default() += 1;
                continue;
            }
            let mut d = r.finding.to_diagnostic(self.corpus);
            if let Some(note) = self.expiry_note(r) {
                d.help = Some(match d.help {
                    Some(h) => format!("{h}\n{note}"),
                    None => note,
                });
            }
            out.push(d);
        }
        out.extend(self.diagnostics[self.load_diagnostics..].iter().cloned());
        (out, left_out.into_iter().collect())
    }
}

/// Counts of a check's results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub waived: usize,
    pub expired: usize,
    pub unused_waivers: usize,
    pub in_baseline: usize,
    pub outside_changes: usize,
}

impl Counts {
    fn add(&mut self, s: Severity) {
        match s {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
            Severity::Info => self.infos += 1,
        }
    }
}

/// A file name as outputs show it: `/` separators, no leading `./`.
pub fn display_path(name: &str) -> String {
    let mut s = name.replace('\\', "/");
    while let Some(rest) = s.strip_prefix("./") {
        s = rest.to_string();
    }
    s
}

/// The starts of a text's lines, so that many places in one file cost a
/// binary search each rather than a scan from the top.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset, as
    /// [`line_col`] computes them.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while offset > 0 && !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }

    /// The place of `range` in `text` (the text this index was made from).
    pub fn place(
        &self,
        name: &str,
        text: &str,
        range: std::ops::Range<usize>,
        label: &str,
    ) -> Place {
        let (line, column) = self.line_col(text, range.start);
        let (end_line, end_column) = self.line_col(text, range.end.max(range.start));
        Place {
            file: display_path(name),
            line,
            column,
            end_line,
            end_column,
            label: label.to_string(),
        }
    }
}

/// The place of `range` in a file's text.
pub fn place(name: &str, text: &str, range: std::ops::Range<usize>, label: &str) -> Place {
    let (line, column) = line_col(text, range.start);
    let (end_line, end_column) = line_col(text, range.end.max(range.start));
    Place {
        file: display_path(name),
        line,
        column,
        end_line,
        end_column,
        label: label.to_string(),
    }
}

/// The place of a diagnostic's first label.
pub fn diagnostic_place(d: &PlanDiagnostic) -> Option<Place> {
    let named = d.file.as_ref()?;
    let (range, label) = d.labels.first()?;
    Some(place(named.name(), named.inner(), range.clone(), label))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_agrees_with_line_col() {
        let text = "[plan]\nid = \"郡山\"\n\n名前 = \"x\"\r\nlast";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.line_col(text, offset),
                line_col(text, offset),
                "at {offset}"
            );
        }
    }
}
