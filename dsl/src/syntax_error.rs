//! Syntax errors of rule files: what went wrong ([`SyntaxErrorKind`]), where
//! ([`Span`]) and how to fix it (help), as miette diagnostics with a stable
//! code `hyoka::syntax::…` and the named source attached, so they render as
//! `file:line:col` with the offending text underlined.
//!
//! Style (after cedar): messages are lowercase with no final period, user
//! input is in backticks, the fix goes in the help. Errors are data: this
//! module builds and describes them but never prints them; it knows nothing
//! of pest (the parser translates pest's errors before they get here).

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};

use crate::span::Span;

/// The source a set of errors refers to: shared by all errors of one parse so
/// that a large file with many errors is not copied once per error.
pub type Source = Arc<NamedSource<String>>;

/// Largest rule file accepted, in bytes.
pub const MAX_SOURCE_LEN: usize = 16 * 1024 * 1024;

/// How deeply brackets, `if`s, prefix operators and interpolations may nest.
pub const MAX_NESTING: usize = 64;

/// A syntax error in a rule file.
#[derive(Clone)]
pub struct SyntaxError {
    kind: SyntaxErrorKind,
    span: Span,
    label: Option<String>,
    help: Option<String>,
    related: Vec<(Span, String)>,
    source: Source,
}

/// What is wrong. Each variant's doc shows a line that triggers it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyntaxErrorKind {
    /// `when a = b`: something the grammar does not allow here.
    Unexpected {
        /// What would have been accepted, in words.
        expected: String,
        /// What was found, in words.
        found: String,
    },
    /// `severty warning`: a word close to a keyword that is expected here.
    UnknownKeyword {
        /// The word written.
        found: String,
        /// What would have been accepted, in words.
        expected: String,
    },
    /// `when x ＝ 1`: a character that starts no token.
    UnexpectedCharacter {
        /// The character.
        found: char,
    },
    /// `message "no end`
    UnterminatedString,
    /// `message "a\qb"`
    InvalidEscape {
        /// The escape as written (`\q`).
        escape: String,
    },
    /// `message "{indicator.name"`
    UnclosedInterpolation,
    /// `message "{}"`
    EmptyInterpolation,
    /// `message "a } b"`
    UnmatchedBrace,
    /// `param x: number = 1__0`
    InvalidNumber {
        /// The number as written.
        text: String,
    },
    /// `when f(x`
    UnclosedDelimiter {
        /// The opening delimiter.
        open: char,
    },
    /// `when f(x]`, `when x)`
    UnexpectedDelimiter {
        /// The closing delimiter found.
        found: char,
        /// The one that would close the innermost open delimiter, if any.
        expected: Option<char>,
    },
    /// `param if: number = 1`
    ReservedWord {
        /// The word.
        word: String,
    },
    /// `severity warn`
    InvalidSeverity {
        /// The word written.
        found: String,
    },
    /// a second `severity` in one rule
    DuplicateClause {
        /// The clause keyword.
        clause: &'static str,
    },
    /// a rule without `message`
    MissingClause {
        /// The rule's id.
        rule: String,
        /// The clause keyword.
        clause: &'static str,
    },
    /// `rule x for indicator {}`
    EmptyRule {
        /// The rule's id.
        rule: String,
    },
    /// `scale abc {}`
    EmptyScale {
        /// The scale's name.
        scale: String,
    },
    /// `A = ..`
    BandWithoutBounds {
        /// The band's label.
        label: String,
    },
    /// `A = 90% ..=`
    InclusiveWithoutUpperBound,
    /// `"{x}" = 90% ..`
    InvalidLabel,
    /// `when a < b < c`
    ChainedComparison {
        /// The first operator.
        first: &'static str,
        /// The second operator.
        second: &'static str,
    },
    /// `cnt(i in measure.indicators)`
    UnknownAggregate {
        /// The name written.
        name: String,
    },
    /// `/// text` inside a rule body or at the end of a file
    MisplacedDocComment,
    /// `((((…))))` more than [`MAX_NESTING`] deep
    TooDeep {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// a file over [`MAX_SOURCE_LEN`] bytes
    TooLarge {
        /// The file's size in bytes.
        len: usize,
    },
}

impl SyntaxErrorKind {
    /// The stable diagnostic code, e.g. `hyoka::syntax::unterminated_string`.
    pub fn code(&self) -> &'static str {
        match self {
            SyntaxErrorKind::Unexpected { .. } => "hyoka::syntax::unexpected_token",
            SyntaxErrorKind::UnknownKeyword { .. } => "hyoka::syntax::unknown_keyword",
            SyntaxErrorKind::UnexpectedCharacter { .. } => "hyoka::syntax::unexpected_character",
            SyntaxErrorKind::UnterminatedString => "hyoka::syntax::unterminated_string",
            SyntaxErrorKind::InvalidEscape { .. } => "hyoka::syntax::invalid_escape",
            SyntaxErrorKind::UnclosedInterpolation => "hyoka::syntax::unclosed_interpolation",
            SyntaxErrorKind::EmptyInterpolation => "hyoka::syntax::empty_interpolation",
            SyntaxErrorKind::UnmatchedBrace => "hyoka::syntax::unmatched_brace",
            SyntaxErrorKind::InvalidNumber { .. } => "hyoka::syntax::invalid_number",
            SyntaxErrorKind::UnclosedDelimiter { .. } => "hyoka::syntax::unclosed_delimiter",
            SyntaxErrorKind::UnexpectedDelimiter { .. } => "hyoka::syntax::unexpected_delimiter",
            SyntaxErrorKind::ReservedWord { .. } => "hyoka::syntax::reserved_word",
            SyntaxErrorKind::InvalidSeverity { .. } => "hyoka::syntax::invalid_severity",
            SyntaxErrorKind::DuplicateClause { .. } => "hyoka::syntax::duplicate_clause",
            SyntaxErrorKind::MissingClause { .. } => "hyoka::syntax::missing_clause",
            SyntaxErrorKind::EmptyRule { .. } => "hyoka::syntax::empty_rule",
            SyntaxErrorKind::EmptyScale { .. } => "hyoka::syntax::empty_scale",
            SyntaxErrorKind::BandWithoutBounds { .. }
            | SyntaxErrorKind::InclusiveWithoutUpperBound => "hyoka::syntax::invalid_band",
            SyntaxErrorKind::InvalidLabel => "hyoka::syntax::invalid_label",
            SyntaxErrorKind::ChainedComparison { .. } => "hyoka::syntax::chained_comparison",
            SyntaxErrorKind::UnknownAggregate { .. } => "hyoka::syntax::unknown_aggregate",
            SyntaxErrorKind::MisplacedDocComment => "hyoka::syntax::misplaced_doc_comment",
            SyntaxErrorKind::TooDeep { .. } => "hyoka::syntax::too_deep",
            SyntaxErrorKind::TooLarge { .. } => "hyoka::syntax::too_large",
        }
    }

    /// The help shown when the site of the error does not suggest a better one.
    fn default_help(&self) -> Option<String> {
        let help = match self {
            SyntaxErrorKind::Unexpected { .. } | SyntaxErrorKind::UnknownKeyword { .. } => {
                return None
            }
            SyntaxErrorKind::UnexpectedCharacter { found } => {
                return Some(match ascii_lookalike(*found) {
                    Some(ascii) => format!("write the ASCII character `{ascii}` instead"),
                    None => "outside strings, rule files use ASCII punctuation; \
                             write symbols such as `◎` as strings (`\"◎\"`)"
                        .to_string(),
                })
            }
            SyntaxErrorKind::UnterminatedString => {
                "close the string with `\"` on the same line; write `\\n` for a line break"
            }
            SyntaxErrorKind::InvalidEscape { .. } => {
                "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r` and `\\u{…}`; \
                 write `{{` and `}}` for literal braces"
            }
            SyntaxErrorKind::UnclosedInterpolation => {
                "close the interpolation with `}`, or write `{{` for a literal `{`"
            }
            SyntaxErrorKind::EmptyInterpolation => {
                "put an expression between the braces, e.g. `{indicator.name}`, \
                 or write `{{}}` for literal braces"
            }
            SyntaxErrorKind::UnmatchedBrace => "write `}}` for a literal `}`",
            SyntaxErrorKind::InvalidNumber { .. } => {
                "numbers are written with ASCII digits like `261`, `61.4`, `1_000` or `90%`"
            }
            SyntaxErrorKind::UnclosedDelimiter { open } => {
                return Some(format!("add the matching `{}`", closing_of(*open)))
            }
            SyntaxErrorKind::UnexpectedDelimiter { found, expected } => {
                return Some(match expected {
                    Some(e) => format!("write `{e}` here, or remove the `{found}`"),
                    None => format!("remove the `{found}`, or add its opening delimiter"),
                })
            }
            SyntaxErrorKind::ReservedWord { word } => {
                return Some(format!(
                    "reserved words cannot name anything: rename it (e.g. `{word}_`), \
                     or add the missing name before it"
                ))
            }
            SyntaxErrorKind::InvalidSeverity { .. } => {
                "the severities are `error`, `warning` and `info`"
            }
            SyntaxErrorKind::DuplicateClause { clause } => {
                return Some(format!(
                    "a rule has one `{clause}` clause: remove one of them"
                ))
            }
            SyntaxErrorKind::MissingClause { clause, .. } => {
                return Some(match *clause {
                    "severity" => {
                        "add `severity error`, `severity warning` or `severity info`".to_string()
                    }
                    "when" => "add `when CONDITION`; write `when true` for a rule that \
                               always fires"
                        .to_string(),
                    other => format!("add `{other} \"…\"`"),
                })
            }
            SyntaxErrorKind::EmptyRule { .. } => {
                "a rule needs at least `severity`, `when` and `message` clauses"
            }
            SyntaxErrorKind::EmptyScale { .. } => {
                "add bands such as `A = 90% ..` and states such as `未算出 = missing`"
            }
            SyntaxErrorKind::BandWithoutBounds { label } => {
                return Some(format!(
                    "write `{label} = lo ..`, `{label} = .. hi` or `{label} = lo .. hi`; \
                     the grade of a missing input is `{label} = missing`"
                ))
            }
            SyntaxErrorKind::InclusiveWithoutUpperBound => {
                "write `lo ..` for a band with no upper bound"
            }
            SyntaxErrorKind::InvalidLabel => {
                "a label is a name (`A`, `未算出`) or a plain string (`\"◎\"`)"
            }
            SyntaxErrorKind::ChainedComparison { .. } => {
                "compare twice and join with `and` (`a < b and b < c`), or add parentheses"
            }
            SyntaxErrorKind::UnknownAggregate { .. } => {
                "the aggregates are `count`, `sum`, `avg`, `min`, `max`, `any`, `all` and \
                 `distinct`; to pass a membership test to a function, wrap it in \
                 parentheses: `f((x in xs))`"
            }
            SyntaxErrorKind::MisplacedDocComment => {
                "a doc comment `///` goes directly before `param`, `fn`, `derive`, `scale` \
                 or `rule`; use `//` for other comments"
            }
            SyntaxErrorKind::TooDeep { .. } => {
                "split the expression into smaller `fn` or `derive` declarations"
            }
            SyntaxErrorKind::TooLarge { .. } => "split the rules into several files",
        };
        Some(help.to_string())
    }
}

impl fmt::Display for SyntaxErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxErrorKind::Unexpected { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            SyntaxErrorKind::UnknownKeyword { found, .. } => {
                write!(f, "unknown keyword `{found}`")
            }
            SyntaxErrorKind::UnexpectedCharacter { found } => {
                write!(f, "unexpected character `{found}`")
            }
            SyntaxErrorKind::UnterminatedString => write!(f, "unterminated string"),
            SyntaxErrorKind::InvalidEscape { escape } => {
                write!(f, "unknown escape `{escape}` in string")
            }
            SyntaxErrorKind::UnclosedInterpolation => write!(f, "unclosed `{{` in string"),
            SyntaxErrorKind::EmptyInterpolation => {
                write!(f, "empty interpolation `{{}}` in string")
            }
            SyntaxErrorKind::UnmatchedBrace => write!(f, "unmatched `}}` in string"),
            SyntaxErrorKind::InvalidNumber { text } => write!(f, "invalid number `{text}`"),
            SyntaxErrorKind::UnclosedDelimiter { open } => write!(f, "unclosed `{open}`"),
            SyntaxErrorKind::UnexpectedDelimiter { found, expected } => match expected {
                Some(e) => write!(f, "mismatched `{found}`: expected `{e}`"),
                None => write!(f, "unexpected `{found}`"),
            },
            SyntaxErrorKind::ReservedWord { word } => {
                write!(
                    f,
                    "`{word}` is a reserved word and cannot be used as a name"
                )
            }
            SyntaxErrorKind::InvalidSeverity { found } => {
                write!(f, "`{found}` is not a severity")
            }
            SyntaxErrorKind::DuplicateClause { clause } => {
                write!(f, "duplicate `{clause}` clause")
            }
            SyntaxErrorKind::MissingClause { rule, clause } => {
                write!(f, "rule `{rule}` has no `{clause}` clause")
            }
            SyntaxErrorKind::EmptyRule { rule } => write!(f, "rule `{rule}` is empty"),
            SyntaxErrorKind::EmptyScale { scale } => write!(f, "scale `{scale}` has no bands"),
            SyntaxErrorKind::BandWithoutBounds { label } => {
                write!(f, "band `{label}` has no bounds")
            }
            SyntaxErrorKind::InclusiveWithoutUpperBound => {
                write!(f, "`..=` needs an upper bound")
            }
            SyntaxErrorKind::InvalidLabel => {
                write!(f, "a scale label cannot contain an interpolation")
            }
            SyntaxErrorKind::ChainedComparison { first, second } => write!(
                f,
                "comparison operators cannot be chained: `{first}` followed by `{second}`"
            ),
            SyntaxErrorKind::UnknownAggregate { name } => {
                write!(f, "`{name}` is not an aggregate")
            }
            SyntaxErrorKind::MisplacedDocComment => {
                write!(f, "doc comment not followed by a declaration")
            }
            SyntaxErrorKind::TooDeep { limit } => {
                write!(f, "expression nested deeper than {limit} levels")
            }
            SyntaxErrorKind::TooLarge { len } => write!(
                f,
                "source is larger than {} MiB ({len} bytes)",
                MAX_SOURCE_LEN / (1024 * 1024)
            ),
        }
    }
}

impl SyntaxError {
    /// An error of `kind` at `span` in `source`, with the kind's default help.
    pub fn new(kind: SyntaxErrorKind, span: Span, source: &Source) -> Self {
        let help = kind.default_help();
        Self {
            kind,
            span,
            label: None,
            help,
            related: Vec::new(),
            source: Arc::clone(source),
        }
    }

    /// Replaces the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Puts `extra` before the default help (e.g. a "did you mean").
    pub fn with_help_prefix(mut self, extra: impl Into<String>) -> Self {
        let extra = extra.into();
        // "did you mean `x`?" reads on into the rest; other prefixes are clauses.
        let glue = if extra.ends_with('?') { " " } else { "; " };
        self.help = Some(match self.help.take() {
            Some(h) => format!("{extra}{glue}{h}"),
            None => extra,
        });
        self
    }

    /// Sets the text shown under the underlined span.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Adds a second underlined span (e.g. "first `severity` here").
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// What is wrong.
    pub fn kind(&self) -> &SyntaxErrorKind {
        &self.kind
    }

    /// Where, as a byte range of the source.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The stable code, e.g. `hyoka::syntax::unterminated_string`.
    pub fn code_str(&self) -> &'static str {
        self.kind.code()
    }

    /// The suggested fix, if any.
    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The source name given to the parser.
    pub fn source_name(&self) -> &str {
        self.source.name()
    }

    /// The 1-based line and column (in characters) of the error's start.
    pub fn line_col(&self) -> (usize, usize) {
        let text = self.source.inner();
        let start = self.span.start.min(text.len());
        let before = text.get(..start).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, col)
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

// Hand-written so that a 16 MiB source is not dumped by `{:?}`.
impl fmt::Debug for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        f.debug_struct("SyntaxError")
            .field("code", &self.kind.code())
            .field("message", &self.kind.to_string())
            .field("at", &format_args!("{}:{line}:{col}", self.source.name()))
            .field("span", &self.span)
            .field("help", &self.help)
            .finish()
    }
}

impl std::error::Error for SyntaxError {}

impl Diagnostic for SyntaxError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(self.label.clone(), self.span);
        let related = self
            .related
            .iter()
            .map(|(span, label)| LabeledSpan::new_with_span(Some(label.clone()), *span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// The closing delimiter of `open`.
pub(crate) fn closing_of(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        '{' => '}',
        other => other,
    }
}

/// The ASCII character a full-width or typographic character stands for, as
/// typed by a Japanese input method.
pub(crate) fn ascii_lookalike(c: char) -> Option<char> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21),
        '\u{3000}' => Some(' '),
        '“' | '”' | '「' | '」' => Some('"'),
        '‘' | '’' => Some('\''),
        '、' => Some(','),
        '。' => Some('.'),
        '−' => Some('-'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<SyntaxError>();
    }

    #[test]
    fn codes_are_namespaced() {
        let kind = SyntaxErrorKind::TooDeep { limit: MAX_NESTING };
        assert_eq!(kind.code(), "hyoka::syntax::too_deep");
        assert_eq!(kind.to_string(), "expression nested deeper than 64 levels");
    }
}
