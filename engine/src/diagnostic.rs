//! One diagnostic type for everything hyoka says about plan files: load
//! errors and rule findings alike are rendered by miette, pointing at the
//! file, line and column of the values involved.
//!
//! This module formats nothing itself; it only carries what miette needs.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, Severity as MietteSeverity, SourceSpan};

use crate::model::{Corpus, SourceFile, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl From<hyoka_dsl::Severity> for Severity {
    fn from(s: hyoka_dsl::Severity) -> Self {
        match s {
            hyoka_dsl::Severity::Error => Severity::Error,
            hyoka_dsl::Severity::Warning => Severity::Warning,
            hyoka_dsl::Severity::Info => Severity::Info,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled place in a plan file.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A diagnostic about plan files: a message, a code, labels in one file, and
/// related diagnostics for places in other files.
#[derive(Clone, Debug)]
pub struct PlanDiagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// The file the labels point into.
    pub file: Option<SourceText>,
    pub labels: Vec<(std::ops::Range<usize>, String)>,
    pub help: Option<String>,
    pub related: Vec<PlanDiagnostic>,
}

impl PlanDiagnostic {
    pub fn new(code: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        PlanDiagnostic {
            code: code.into(),
            severity,
            message: message.into(),
            file: None,
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Points the diagnostic into `file` (all labels share one file).
    pub fn in_file(mut self, file: &SourceFile) -> Self {
        self.file = Some(SourceText::new(&file.name, file.text.clone()));
        self
    }

    pub fn label(mut self, range: std::ops::Range<usize>, text: impl Into<String>) -> Self {
        self.labels.push((range, text.into()));
        self
    }

    /// A label at a corpus span: in this diagnostic's file when it is the
    /// same, otherwise as a related note in the other file.
    pub fn at(self, corpus: &Corpus, span: Span, text: impl Into<String>) -> Self {
        self.at_file(&corpus.files, span, text)
    }

    /// [`PlanDiagnostic::at`] for a span into `files` (the corpus's files,
    /// before the corpus is built).
    pub fn at_file(mut self, files: &[SourceFile], span: Span, text: impl Into<String>) -> Self {
        let file = &files[span.file as usize];
        match &self.file {
            None => {
                self = self.in_file(file).label(span.range(), text);
            }
            Some(named) if named.name() == file.name => {
                self = self.label(span.range(), text);
            }
            Some(_) => {
                let note = PlanDiagnostic::new(self.code.clone(), Severity::Info, text.into())
                    .in_file(file)
                    .label(span.range(), "here");
                self.related.push(note);
            }
        }
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, other: PlanDiagnostic) -> Self {
        self.related.push(other);
        self
    }

    /// The file name and 1-based line and column of the first label.
    pub fn location(&self) -> Option<(String, usize, usize)> {
        let named = self.file.as_ref()?;
        let (range, _) = self.labels.first()?;
        let (line, col) = line_col(named.inner(), range.start);
        Some((named.name().to_string(), line, col))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A plan file as miette reads it: its name and text, with the column of a
/// span counted in characters, not bytes (the `file:line:column` miette
/// prints would otherwise put `"集計"` after four kanji at column 45
/// instead of 37).
#[derive(Clone, Debug)]
pub struct SourceText(NamedSource<Arc<str>>);

impl SourceText {
    pub fn new(name: &str, text: Arc<str>) -> Self {
        SourceText(NamedSource::new(name, text))
    }

    pub fn name(&self) -> &str {
        self.0.name()
    }

    pub fn inner(&self) -> &Arc<str> {
        self.0.inner()
    }
}

impl miette::SourceCode for SourceText {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .0
            .read_span(span, context_lines_before, context_lines_after)?;
        // Only a read without context lines (the header's) reports a column.
        if context_lines_before != 0 || context_lines_after != 0 {
            return Ok(contents);
        }
        let (_, column) = line_col(self.0.inner(), span.offset());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.0.name().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column - 1,
            contents.line_count(),
        )))
    }
}

impl fmt::Display for PlanDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PlanDiagnostic {}

impl Diagnostic for PlanDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<MietteSeverity> {
        Some(match self.severity {
            Severity::Error => MietteSeverity::Error,
            Severity::Warning => MietteSeverity::Warning,
            Severity::Info => MietteSeverity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.file.as_ref().map(|f| f as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(
            |(i, (r, t))| {
                let span = SourceSpan::from(r.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(Some(t.clone()), span)
                } else {
                    LabeledSpan::new_with_span(Some(t.clone()), span)
                }
            },
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }
}
