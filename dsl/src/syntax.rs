//! Source text → syntax tree ([`crate::ast`]), with every syntax error the
//! text holds put into words ([`SyntaxError`]).
//!
//! Three passes:
//! 1. a hand-written scan (`scan`) that understands strings, comments and
//!    brackets: it splits the file into chunks at each declaration keyword
//!    that starts a line (so one broken rule does not hide the errors of the
//!    next), reports the errors it can name better than pest (unterminated
//!    strings, unbalanced brackets, stray characters), refuses input nested
//!    deeper than [`MAX_NESTING`] before pest could overflow the stack, and
//!    collects the comments the formatter needs;
//! 2. pest, on each clean chunk, with the grammar in `grammar.pest`;
//! 3. lowering of pest's pairs into the AST, one function per grammar rule,
//!    with the checks that are easier on pairs than in a PEG (duplicate
//!    clauses, severities, band bounds, chained comparisons, tree depth).
//!
//! This is the only module that touches pest `Pair`s; nothing here resolves
//! names or knows about types, plans or the filesystem.

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use miette::NamedSource;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;
use pest::pratt_parser::{pratt_precedence, Assoc, ConstPrattParser, Op};
use pest::Parser as _;

use crate::ast::{
    self, AggFunc, Aggregate, Band, BinaryOp, Clause, ClauseKind, Derive, Expr, ExprKind, File,
    FnDecl, FnParam, Ident, Item, ItemKind, Label, Number, Param, Scale, ScaleEntry,
    ScaleEntryKind, Scope, Severity, StrLit, Template, TemplatePart, TypeExpr, UnaryOp,
    MAX_EXPR_DEPTH,
};
use crate::span::{Node, Span};
use crate::syntax_error::{
    closing_of, Source, SyntaxError, SyntaxErrorKind, MAX_NESTING, MAX_SOURCE_LEN,
};

// The generated `Rule` enum stays private to this module.
mod grammar {
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar.pest"]
    pub(super) struct Grammar;
}

use grammar::{Grammar, Rule};

/// Parses a rule file. `source_name` (usually the file's path) is shown in
/// diagnostics. On failure, returns every error found, in source order: at
/// least one per broken declaration.
pub fn parse(source_name: &str, text: &str) -> Result<File, Vec<SyntaxError>> {
    let sink = Sink::new(source_name, text);
    if text.len() > MAX_SOURCE_LEN {
        sink.push(sink.error(
            SyntaxErrorKind::TooLarge { len: text.len() },
            Span::point(0),
        ));
        return Err(sink.finish());
    }
    let start = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let scanned = scan(text, start, true);
    let mut items = Vec::new();
    for chunk in &scanned.chunks {
        if let Some(problem) = &chunk.problem {
            sink.push(problem.to_error(&sink));
            continue;
        }
        let input = &text[chunk.start..chunk.end];
        match Grammar::parse(Rule::file, input) {
            Ok(mut pairs) => {
                let lowerer = Lowerer {
                    offset: chunk.start,
                    sink: &sink,
                };
                if let Some(file) = pairs.next() {
                    items.extend(lowerer.parse_file(file));
                }
            }
            Err(err) => sink.push(pest_error(&sink, err, chunk.start, chunk.end)),
        }
    }
    if sink.is_empty() {
        Ok(File { items })
    } else {
        Err(sink.finish())
    }
}

/// Parses a lone expression, e.g. from a command line (`hyoka explain`) or a
/// test. Spans are byte offsets into `text`.
pub fn parse_expr(source_name: &str, text: &str) -> Result<Expr, Vec<SyntaxError>> {
    let sink = Sink::new(source_name, text);
    if text.len() > MAX_SOURCE_LEN {
        sink.push(sink.error(
            SyntaxErrorKind::TooLarge { len: text.len() },
            Span::point(0),
        ));
        return Err(sink.finish());
    }
    let scanned = scan(text, 0, false);
    if let Some(problem) = scanned.chunks.iter().find_map(|c| c.problem.as_ref()) {
        sink.push(problem.to_error(&sink));
        return Err(sink.finish());
    }
    match Grammar::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let lowerer = Lowerer {
                offset: 0,
                sink: &sink,
            };
            let expr = pairs
                .next()
                .and_then(|p| p.into_inner().find(|p| p.as_rule() == Rule::expr))
                .map(|p| lowerer.parse_expr(p));
            match expr {
                Some(Ok(e)) if sink.is_empty() => Ok(e.expr),
                _ => Err(sink.finish()),
            }
        }
        Err(err) => {
            sink.push(pest_error(&sink, err, 0, text.len()));
            Err(sink.finish())
        }
    }
}

/// An ordinary `//` comment (doc comments are in the AST instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    /// From the `//` to the end of the line, newline excluded.
    pub span: Span,
    /// True when only whitespace precedes it on its line.
    pub own_line: bool,
}

/// The ordinary comments of `text`, in order, skipping `//` inside strings.
/// Meant for the formatter; works on any text, valid or not.
pub fn comments(text: &str) -> Vec<Comment> {
    let start = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    scan(text, start, false).comments
}

// ===========================================================================
// Errors
// ===========================================================================

/// Collects the errors of one parse; builds the shared source only if there
/// is an error to attach it to.
struct Sink<'t> {
    name: &'t str,
    text: &'t str,
    source: OnceCell<Source>,
    errors: RefCell<Vec<SyntaxError>>,
}

impl<'t> Sink<'t> {
    fn new(name: &'t str, text: &'t str) -> Self {
        Self {
            name,
            text,
            source: OnceCell::new(),
            errors: RefCell::new(Vec::new()),
        }
    }

    fn error(&self, kind: SyntaxErrorKind, span: Span) -> SyntaxError {
        let source = self
            .source
            .get_or_init(|| Arc::new(NamedSource::new(self.name, self.text.to_string())));
        SyntaxError::new(kind, span, source)
    }

    fn push(&self, error: SyntaxError) {
        self.errors.borrow_mut().push(error);
    }

    fn is_empty(&self) -> bool {
        self.errors.borrow().is_empty()
    }

    fn finish(self) -> Vec<SyntaxError> {
        let mut errors = self.errors.into_inner();
        errors.sort_by_key(|e| (e.span().start, e.span().end));
        errors
    }
}

/// "An error was reported already": lowering stops building the node but
/// goes on with its siblings.
#[derive(Debug)]
struct Failed;

type Lowered<T> = Result<T, Failed>;

// ---------------------------------------------------------------------------
// pest errors in words
// ---------------------------------------------------------------------------

/// How each grammar rule is named in "expected …" messages. Exhaustive on
/// purpose: a new grammar rule does not compile until it has a name.
fn rule_name(r: Rule) -> &'static str {
    match r {
        Rule::EOI => "end of file",
        Rule::WHITESPACE => "whitespace",
        Rule::line_comment => "a comment",
        Rule::doc_comment => "a doc comment",
        Rule::keyword => "a keyword",
        Rule::kw_and => "`and`",
        Rule::kw_by => "`by`",
        Rule::kw_derive => "`derive`",
        Rule::kw_else => "`else`",
        Rule::kw_false => "`false`",
        Rule::kw_fn => "`fn`",
        Rule::kw_for => "`for`",
        Rule::kw_group => "`group`",
        Rule::kw_help => "`help`",
        Rule::kw_if => "`if`",
        Rule::kw_in => "`in`",
        Rule::kw_is => "`is`",
        Rule::kw_message => "`message`",
        Rule::kw_missing => "`missing`",
        Rule::kw_not => "`not`",
        Rule::kw_or => "`or`",
        Rule::kw_param => "`param`",
        Rule::kw_rationale => "`rationale`",
        Rule::kw_reference => "`reference`",
        Rule::kw_rule => "`rule`",
        Rule::kw_scale => "`scale`",
        Rule::kw_severity => "`severity`",
        Rule::kw_state => "`state`",
        Rule::kw_suggest => "`suggest`",
        Rule::kw_tags => "`tags`",
        Rule::kw_then => "`then`",
        Rule::kw_title => "`title`",
        Rule::kw_true => "`true`",
        Rule::kw_when => "`when`",
        Rule::kw_where => "`where`",
        Rule::ident => "a name",
        Rule::field_name => "a field name",
        Rule::open_paren => "`(`",
        Rule::close_paren => "`)`",
        Rule::open_bracket => "`[`",
        Rule::close_bracket => "`]`",
        Rule::open_brace => "`{`",
        Rule::close_brace => "`}`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::assign => "`=`",
        Rule::arrow => "`=>`",
        Rule::range_incl => "`..=`",
        Rule::range => "`..`",
        Rule::dot => "`.`",
        Rule::number => "a number",
        Rule::string => "a string",
        Rule::string_text => "text",
        Rule::string_escape => "an escape such as `\\n`",
        Rule::string_open_brace => "`{{`",
        Rule::string_close_brace => "`}}`",
        Rule::interpolation => "an interpolation `{…}`",
        Rule::op_or => "`or`",
        Rule::op_and => "`and`",
        Rule::op_eq => "`==`",
        Rule::op_ne => "`!=`",
        Rule::op_le => "`<=`",
        Rule::op_lt => "`<`",
        Rule::op_ge => "`>=`",
        Rule::op_gt => "`>`",
        Rule::op_not_in => "`not in`",
        Rule::op_in => "`in`",
        Rule::op_coalesce => "`??`",
        Rule::op_add => "`+`",
        Rule::op_sub => "`-`",
        Rule::op_mul => "`*`",
        Rule::op_div => "`/`",
        Rule::op_not => "`not`",
        Rule::op_neg => "`-`",
        Rule::field_access => "a field access `.name`",
        Rule::is_missing => "`is missing`",
        Rule::infix => "an operator",
        Rule::prefix => "`not` or `-`",
        Rule::postfix => "`.` or `is missing`",
        Rule::expr => "an expression",
        Rule::primary => "an expression",
        Rule::paren => "`(`",
        Rule::list => "a list `[…]`",
        Rule::if_expr => "`if`",
        Rule::call => "a name or a call",
        Rule::aggregate_body => "`NAME in COLLECTION`",
        Rule::aggregate_where => "`where`",
        Rule::aggregate_map => "`=>`",
        Rule::type_expr => "a type such as `number` or `grade(abc)`",
        Rule::file => "a rule file",
        Rule::expr_only => "an expression",
        Rule::item => "a declaration",
        Rule::param => "`param`",
        Rule::fn_decl => "`fn`",
        Rule::fn_param => "a parameter `NAME: TYPE`",
        Rule::derive => "`derive`",
        Rule::scale => "`scale`",
        Rule::scale_entry => "a band such as `A = 90% ..`",
        Rule::label => "a band label",
        Rule::band => "a band `lo .. hi`",
        Rule::band_lo => "a lower bound",
        Rule::band_hi => "an upper bound",
        Rule::rule => "`rule`",
        Rule::scope => "an entity such as `indicator`, or `group`",
        Rule::group_scope => "`group`",
        Rule::rule_filter => "`where`",
        Rule::clause => "a clause",
        Rule::title_clause => "`title`",
        Rule::severity_clause => "`severity`",
        Rule::severity_level => "a severity (`error`, `warning` or `info`)",
        Rule::when_clause => "`when`",
        Rule::message_clause => "`message`",
        Rule::help_clause => "`help`",
        Rule::suggest_clause => "`suggest`",
        Rule::rationale_clause => "`rationale`",
        Rule::reference_clause => "`reference`",
        Rule::tags_clause => "`tags`",
    }
}

/// Families of expected tokens that read better as one phrase.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Family {
    Expression,
    Operator,
    Clause,
    Declaration,
}

impl Family {
    /// The families `r` belongs to; `true` when `r` alone stands for the
    /// whole family (pest reports the enclosing rule when nothing inside it
    /// matched).
    fn of(r: Rule) -> &'static [(Family, bool)] {
        const EXPRESSION: &[(Family, bool)] = &[(Family::Expression, false)];
        const OPERATOR: &[(Family, bool)] = &[(Family::Operator, false)];
        const CLAUSE: &[(Family, bool)] = &[(Family::Clause, false)];
        const DECLARATION: &[(Family, bool)] = &[(Family::Declaration, false)];
        match r {
            Rule::number
            | Rule::string
            | Rule::ident
            | Rule::open_paren
            | Rule::open_bracket
            | Rule::kw_if
            | Rule::kw_true
            | Rule::kw_false
            | Rule::kw_missing
            | Rule::op_not
            | Rule::op_neg
            | Rule::call
            | Rule::paren
            | Rule::list
            | Rule::if_expr => EXPRESSION,
            Rule::expr | Rule::primary | Rule::expr_only => &[(Family::Expression, true)],
            // `not` starts an expression and also `not in`.
            Rule::kw_not => &[(Family::Expression, false), (Family::Operator, false)],
            Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_le
            | Rule::op_lt
            | Rule::op_ge
            | Rule::op_gt
            | Rule::op_not_in
            | Rule::op_in
            | Rule::op_coalesce
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::dot
            | Rule::field_access
            | Rule::is_missing
            | Rule::kw_is
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_in => OPERATOR,
            Rule::kw_title
            | Rule::kw_severity
            | Rule::kw_when
            | Rule::kw_message
            | Rule::kw_help
            | Rule::kw_suggest
            | Rule::kw_rationale
            | Rule::kw_reference
            | Rule::kw_tags => CLAUSE,
            Rule::kw_param | Rule::kw_fn | Rule::kw_derive | Rule::kw_scale | Rule::kw_rule => {
                DECLARATION
            }
            Rule::file | Rule::item => &[(Family::Declaration, true)],
            _ => &[],
        }
    }

    fn has(r: Rule, family: Family) -> bool {
        Family::of(r).iter().any(|(f, _)| *f == family)
    }

    fn phrase(self) -> &'static str {
        match self {
            Family::Expression => "an expression such as `90%` or `indicator.target.value`",
            Family::Operator => "an operator",
            Family::Clause => "a clause (`title`, `severity`, `when`, `message`, …)",
            Family::Declaration => "a declaration (`param`, `fn`, `derive`, `scale` or `rule`)",
        }
    }

    /// How many members must be expected before the family name is used.
    fn threshold(self) -> usize {
        match self {
            Family::Expression | Family::Operator => 3,
            Family::Clause | Family::Declaration => 2,
        }
    }
}

/// The keyword a `kw_*` rule stands for, for "did you mean" suggestions.
fn keyword_of(r: Rule) -> Option<&'static str> {
    let name = rule_name(r);
    let word = name.strip_prefix('`')?.strip_suffix('`')?;
    word.chars().all(|c| c.is_ascii_lowercase()).then_some(word)
}

const KEYWORDS: &[&str] = &[
    "and",
    "by",
    "derive",
    "else",
    "false",
    "fn",
    "for",
    "group",
    "help",
    "if",
    "in",
    "is",
    "message",
    "missing",
    "not",
    "or",
    "param",
    "rationale",
    "reference",
    "rule",
    "scale",
    "severity",
    "state",
    "suggest",
    "tags",
    "then",
    "title",
    "true",
    "when",
    "where",
];

const ITEM_KEYWORDS: &[&str] = &["param", "fn", "derive", "scale", "rule"];

const CLAUSE_KEYWORDS: &[&str] = &[
    "title",
    "severity",
    "when",
    "message",
    "help",
    "suggest",
    "rationale",
    "reference",
    "tags",
];

/// The candidate closest to `word`, if close enough to be a likely typo.
fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = match word.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    };
    let candidates: Vec<&str> = candidates.into_iter().filter(|c| *c != word).collect();
    let typo = candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c);
    // Abbreviations: `cnt` for `count`, `msg` for `message`.
    typo.or_else(|| {
        candidates
            .iter()
            .copied()
            .filter(|c| is_abbreviation(word, c))
            .min_by_key(|c| (c.len(), *c))
    })
}

/// Whether `short` is `long` with letters left out, keeping the first.
fn is_abbreviation(short: &str, long: &str) -> bool {
    if short.chars().count() < 2
        || short.len() >= long.len()
        || short.chars().next() != long.chars().next()
    {
        return false;
    }
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// What the text at `at` looks like, for "found …".
enum Found<'t> {
    End,
    Word(&'t str),
    Number(&'t str),
    String,
    DocComment(usize),
    Char(char),
}

impl Found<'_> {
    fn describe(&self) -> String {
        match self {
            Found::End => "end of file".to_string(),
            Found::Word(w) => format!("`{w}`"),
            Found::Number(n) => format!("`{n}`"),
            Found::String => "a string".to_string(),
            Found::DocComment(_) => "a doc comment".to_string(),
            Found::Char(c) => format!("`{c}`"),
        }
    }
}

/// The token starting at `at` and its length in bytes.
fn found_at(text: &str, at: usize) -> (Found<'_>, usize) {
    let rest = text.get(at..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return (Found::End, 0);
    };
    if rest.starts_with("///") {
        let len = rest.find('\n').unwrap_or(rest.len());
        return (Found::DocComment(len), len);
    }
    if is_ident_start(c) {
        let len = word_len(rest);
        return (Found::Word(&rest[..len]), len);
    }
    if c.is_ascii_digit() {
        let len = number_len(rest);
        return (Found::Number(&rest[..len]), len);
    }
    if c == '"' {
        let len = rest.find('\n').unwrap_or(rest.len());
        let len = rest[1..len].find('"').map_or(len, |i| i + 2);
        return (Found::String, len);
    }
    for op in ["&&", "||", "==", "!=", "<=", ">=", "=>", "..=", "..", "??"] {
        if rest.starts_with(op) {
            return (Found::Word(&rest[..op.len()]), op.len());
        }
    }
    (Found::Char(c), c.len_utf8())
}

/// Turns a pest error in the chunk `chunk_start..chunk_end` into words.
fn pest_error(
    sink: &Sink<'_>,
    err: pest::error::Error<Rule>,
    chunk_start: usize,
    chunk_end: usize,
) -> SyntaxError {
    let text = sink.text;
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let at = skip_trivia(text, (chunk_start + pos).min(chunk_end));
    let (found, len) = if at >= chunk_end && chunk_end >= text.len() {
        (Found::End, 0)
    } else {
        found_at(text, at)
    };
    // At the end of the file, point just after the last token rather than at
    // an empty line below it.
    let span = if matches!(found, Found::End) {
        let end = text.trim_end().len();
        Span::point(end)
    } else {
        Span::new(at, at + len)
    };
    let positives = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };

    if let Found::DocComment(len) = found {
        return sink.error(
            SyntaxErrorKind::MisplacedDocComment,
            Span::new(at, at + len),
        );
    }
    // `/// …` then nothing that it could document: pest fails after it.
    if matches!(found, Found::End | Found::Char('}')) {
        if let Some(doc) = doc_comment_before(text, at) {
            return sink.error(SyntaxErrorKind::MisplacedDocComment, doc);
        }
    }
    if let Found::Char(c) = found {
        if !c.is_ascii() {
            return sink.error(SyntaxErrorKind::UnexpectedCharacter { found: c }, span);
        }
    }

    let expected = describe_expected(&positives);
    let found_text = found.describe();

    if let Found::Word(word) = found {
        let expects_name = positives.contains(&Rule::ident)
            && !positives.iter().any(|r| {
                matches!(
                    r,
                    Rule::number | Rule::string | Rule::open_paren | Rule::kw_if
                )
            });
        if expects_name && KEYWORDS.contains(&word) {
            return sink.error(
                SyntaxErrorKind::ReservedWord {
                    word: word.to_string(),
                },
                span,
            );
        }
        let keywords: Vec<&str> = positives.iter().filter_map(|r| keyword_of(*r)).collect();
        // A name where a clause or a declaration should start is most likely a
        // misspelt keyword; suggest among every keyword of that family too.
        let mut candidates = keywords.clone();
        if positives.iter().any(|r| Family::has(*r, Family::Clause)) {
            candidates.extend_from_slice(CLAUSE_KEYWORDS);
        }
        if positives
            .iter()
            .any(|r| Family::has(*r, Family::Declaration))
        {
            candidates.extend_from_slice(ITEM_KEYWORDS);
        }
        if !KEYWORDS.contains(&word) {
            if let Some(suggestion) = did_you_mean(word, candidates) {
                let expected =
                    describe_expected_without(&positives, &[Family::Operator, Family::Expression]);
                return sink
                    .error(
                        SyntaxErrorKind::UnknownKeyword {
                            found: word.to_string(),
                            expected: expected.clone(),
                        },
                        span,
                    )
                    .with_label(format!("expected {expected}"))
                    .with_help(format!("did you mean `{suggestion}`?"));
            }
        }
    }

    let error = sink
        .error(
            SyntaxErrorKind::Unexpected {
                expected,
                found: found_text,
            },
            span,
        )
        .with_label(if matches!(found, Found::End) {
            "the file ends here"
        } else {
            "unexpected here"
        });
    match contextual_help(&positives, &found) {
        Some(help) => error.with_help(help),
        None => error,
    }
}

fn describe_expected(positives: &[Rule]) -> String {
    describe_expected_without(positives, &[])
}

/// Like [`describe_expected`], leaving out the tokens of some families.
fn describe_expected_without(positives: &[Rule], without: &[Family]) -> String {
    let positives: Vec<Rule> = positives
        .iter()
        .copied()
        .filter(|r| !Family::of(*r).iter().any(|(f, _)| without.contains(f)))
        .collect();
    let positives = positives.as_slice();
    let mut counts: HashMap<Family, usize> = HashMap::new();
    for r in positives {
        for (f, whole) in Family::of(*r) {
            *counts.entry(*f).or_default() += if *whole { f.threshold() } else { 1 };
        }
    }
    let mut phrases: Vec<&'static str> = Vec::new();
    let mut push = |p: &'static str| {
        if !phrases.contains(&p) {
            phrases.push(p);
        }
    };
    // Families first, in a fixed order, then the remaining single tokens.
    for family in [
        Family::Expression,
        Family::Operator,
        Family::Clause,
        Family::Declaration,
    ] {
        if counts.get(&family).copied().unwrap_or(0) >= family.threshold() {
            push(family.phrase());
        }
    }
    for r in positives {
        let grouped = Family::of(*r)
            .iter()
            .any(|(f, _)| counts.get(f).copied().unwrap_or(0) >= f.threshold());
        if !grouped && *r != Rule::EOI {
            push(rule_name(*r));
        }
    }
    if positives.contains(&Rule::EOI) {
        push("end of file");
    }
    match phrases.len() {
        0 => "something else".to_string(),
        1 => phrases[0].to_string(),
        n => format!("{} or {}", phrases[..n - 1].join(", "), phrases[n - 1]),
    }
}

fn contextual_help(positives: &[Rule], found: &Found<'_>) -> Option<String> {
    if let Found::Word(w) = found {
        let replacement = match *w {
            "&&" => Some("and"),
            "||" => Some("or"),
            "!" => Some("not"),
            _ => None,
        };
        if let Some(r) = replacement {
            return Some(format!("write `{r}` instead of `{w}`"));
        }
    }
    if let Found::Char('=') = found {
        if positives.contains(&Rule::op_eq) {
            return Some("to compare two values, write `==`".to_string());
        }
    }
    if let Found::Char('!') = found {
        return Some("write `not` for negation and `!=` for inequality".to_string());
    }
    if positives.contains(&Rule::kw_else) {
        return Some(
            "every `if` needs an `else`: write `else missing` when there is no other value"
                .to_string(),
        );
    }
    if positives.contains(&Rule::kw_then) {
        return Some("an `if` reads `if CONDITION then VALUE else VALUE`".to_string());
    }
    if positives.contains(&Rule::kw_when) && positives.contains(&Rule::close_brace) {
        return Some(
            "each line of a rule starts with a clause keyword: `title`, `severity`, `when`, \
             `message`, `help`, `suggest`, `rationale`, `reference` or `tags`"
                .to_string(),
        );
    }
    if positives.contains(&Rule::kw_rule) && positives.contains(&Rule::EOI) {
        return Some(
            "a rule file is a list of `param`, `fn`, `derive`, `scale` and `rule` declarations"
                .to_string(),
        );
    }
    if positives.contains(&Rule::label) {
        return Some(
            "each line of a scale reads `LABEL = lo .. hi`, `LABEL = missing` or `LABEL = state`"
                .to_string(),
        );
    }
    if matches!(found, Found::End) {
        return Some("the file ends in the middle of a declaration".to_string());
    }
    None
}

/// The doc comment line that directly precedes `at` (only blanks between).
fn doc_comment_before(text: &str, at: usize) -> Option<Span> {
    let before = text.get(..at)?.trim_end();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = &before[line_start..];
    let trimmed = line.trim_start();
    if is_doc_comment(trimmed) {
        let start = line_start + (line.len() - trimmed.len());
        Some(Span::new(start, before.len()))
    } else {
        None
    }
}

/// Whether `s` starts with a doc comment: `///` but not `////`.
fn is_doc_comment(s: &str) -> bool {
    s.starts_with("///") && !s.starts_with("////")
}

/// Skips whitespace and ordinary comments from `at`.
fn skip_trivia(text: &str, mut at: usize) -> usize {
    loop {
        let rest = text.get(at..).unwrap_or("");
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        at += rest.len() - trimmed.len();
        if trimmed.starts_with("//") && !is_doc_comment(trimmed) {
            at += trimmed.find('\n').unwrap_or(trimmed.len());
        } else {
            return at;
        }
    }
}

// ===========================================================================
// Scanning
// ===========================================================================

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || (!c.is_ascii() && pest::unicode::XID_START(c))
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric() || (!c.is_ascii() && pest::unicode::XID_CONTINUE(c))
}

fn word_len(s: &str) -> usize {
    s.char_indices()
        .find(|(_, c)| !is_ident_continue(*c))
        .map_or(s.len(), |(i, _)| i)
}

/// Length of the (loose) number token at the start of `s`, as the grammar's
/// `number` rule reads it.
fn number_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    for (at, c) in s.char_indices() {
        if is_ident_continue(c) {
            i = at + c.len_utf8();
        } else if c == '.' && bytes.get(at + 1).is_some_and(|b| b.is_ascii_digit()) {
            i = at + 1;
        } else {
            break;
        }
    }
    if bytes.get(i) == Some(&b'%') {
        i += 1;
    }
    i
}

/// A chunk of the file that is parsed on its own.
struct Chunk {
    start: usize,
    end: usize,
    /// The first error the scan found in it; pest is not run on it then.
    problem: Option<Problem>,
}

struct Problem {
    kind: SyntaxErrorKind,
    span: Span,
    label: Option<String>,
    related: Option<(Span, String)>,
}

impl Problem {
    fn to_error(&self, sink: &Sink<'_>) -> SyntaxError {
        let mut error = sink.error(self.kind.clone(), self.span);
        if let Some(label) = &self.label {
            error = error.with_label(label.clone());
        }
        if let Some((span, label)) = &self.related {
            error = error.with_related(*span, label.clone());
        }
        error
    }
}

struct Scanned {
    chunks: Vec<Chunk>,
    comments: Vec<Comment>,
}

#[derive(Clone, Copy)]
enum Frame {
    /// `(`, `[` or `{` at `pos`, with the `if`s opened inside it.
    Bracket { open: char, pos: usize, ifs: usize },
    /// A string starting at `pos`.
    Str { pos: usize },
    /// An interpolation `{` at `pos`, with the `if`s opened inside it.
    Interp { pos: usize, ifs: usize },
}

struct Scanner<'t> {
    text: &'t str,
    pos: usize,
    split: bool,
    stack: Vec<Frame>,
    /// `if`s opened outside any bracket.
    root_ifs: usize,
    if_total: usize,
    /// Consecutive prefix operators (`not not -x`), which pest's Pratt
    /// parser handles by recursion.
    prefix_run: usize,
    line_start: usize,
    at_line_start: bool,
    pending_doc: Option<usize>,
    chunks: Vec<Chunk>,
    chunk_start: usize,
    problem: Option<Problem>,
    comments: Vec<Comment>,
}

/// Scans `text` from `start`; with `split`, cuts it into chunks at each line
/// that starts with a declaration keyword (or the doc comment before one).
fn scan(text: &str, start: usize, split: bool) -> Scanned {
    let mut s = Scanner {
        text,
        pos: start,
        split,
        stack: Vec::new(),
        root_ifs: 0,
        if_total: 0,
        prefix_run: 0,
        line_start: start,
        at_line_start: true,
        pending_doc: None,
        chunks: Vec::new(),
        chunk_start: start,
        problem: None,
        comments: Vec::new(),
    };
    s.run();
    Scanned {
        chunks: s.chunks,
        comments: s.comments,
    }
}

impl Scanner<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|r| r.chars().next())
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.text
            .get(self.pos + offset..)
            .and_then(|r| r.chars().next())
    }

    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn report(&mut self, kind: SyntaxErrorKind, span: Span) {
        self.report_full(kind, span, None, None);
    }

    fn report_full(
        &mut self,
        kind: SyntaxErrorKind,
        span: Span,
        label: Option<String>,
        related: Option<(Span, String)>,
    ) {
        if self.problem.is_none() {
            self.problem = Some(Problem {
                kind,
                span,
                label,
                related,
            });
        }
    }

    fn depth(&self) -> usize {
        self.stack.len() + self.if_total + self.prefix_run
    }

    fn check_depth(&mut self, span: Span) {
        if self.depth() > MAX_NESTING {
            self.report(SyntaxErrorKind::TooDeep { limit: MAX_NESTING }, span);
        }
    }

    fn in_string(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Str { .. }))
    }

    /// The `if` counter of the innermost code context.
    fn ifs_mut(&mut self) -> &mut usize {
        for frame in self.stack.iter_mut().rev() {
            match frame {
                Frame::Bracket { ifs, .. } | Frame::Interp { ifs, .. } => return ifs,
                Frame::Str { .. } => {}
            }
        }
        &mut self.root_ifs
    }

    /// An `if` ends where its expression must end: `,`, `=`, `..`, `=>`,
    /// a clause or declaration keyword, `where`, `by`.
    fn end_ifs(&mut self) {
        let ifs = std::mem::take(self.ifs_mut());
        self.if_total -= ifs;
    }

    fn pop(&mut self) {
        match self.stack.pop() {
            Some(Frame::Bracket { ifs, .. } | Frame::Interp { ifs, .. }) => self.if_total -= ifs,
            Some(Frame::Str { .. }) | None => {}
        }
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            if self.in_string() {
                self.string_char(c);
            } else {
                self.code_char(c);
            }
        }
        self.end_of_line();
        self.close_chunk(self.text.len());
    }

    /// Strings and interpolations cannot span lines: report the innermost
    /// open one and drop them.
    fn end_of_line(&mut self) {
        let outer = self
            .stack
            .iter()
            .position(|f| matches!(f, Frame::Str { .. }));
        let Some(outer) = outer else { return };
        let interp = self.stack[outer..].iter().rev().find_map(|f| match f {
            Frame::Interp { pos, .. } => Some(*pos),
            _ => None,
        });
        match interp {
            Some(pos) => self.report_full(
                SyntaxErrorKind::UnclosedInterpolation,
                Span::new(pos, pos + 1),
                Some("opened here".to_string()),
                None,
            ),
            None => {
                let Some(Frame::Str { pos }) = self.stack.get(outer).copied() else {
                    return;
                };
                let end = self.pos.min(self.text.len());
                self.report_full(
                    SyntaxErrorKind::UnterminatedString,
                    Span::new(pos, end),
                    Some("this string is never closed".to_string()),
                    None,
                );
            }
        }
        while self.stack.len() > outer {
            self.pop();
        }
    }

    fn close_chunk(&mut self, end: usize) {
        if let Some(Frame::Bracket { open, pos, .. }) = self.stack.last().copied() {
            self.report_full(
                SyntaxErrorKind::UnclosedDelimiter { open },
                Span::new(pos, pos + 1),
                Some("opened here and never closed".to_string()),
                None,
            );
        }
        if end > self.chunk_start || self.problem.is_some() {
            self.chunks.push(Chunk {
                start: self.chunk_start,
                end,
                problem: self.problem.take(),
            });
        }
        self.chunk_start = end;
        self.stack.clear();
        self.root_ifs = 0;
        self.if_total = 0;
        self.prefix_run = 0;
    }

    fn token_seen(&mut self) {
        self.at_line_start = false;
        self.pending_doc = None;
    }

    fn string_char(&mut self, c: char) {
        let start = self.pos;
        match c {
            '"' => {
                self.pop();
                self.pos += 1;
            }
            '\n' => self.code_char(c),
            '\\' => {
                let rest = &self.rest()[1..];
                let ok_len = match rest.chars().next() {
                    Some('"' | '\\' | 'n' | 't' | 'r') => Some(1),
                    Some('u') => {
                        let hex = rest[1..]
                            .strip_prefix('{')
                            .map(|h| h.chars().take_while(|c| c.is_ascii_hexdigit()).count());
                        match hex {
                            Some(n @ 1..=6) if rest[2 + n..].starts_with('}') => Some(3 + n),
                            _ => None,
                        }
                    }
                    Some('\n' | '\r') | None => {
                        // A backslash at the end of the line: the string is unterminated.
                        self.pos += 1;
                        return;
                    }
                    Some(_) => None,
                };
                match ok_len {
                    Some(n) => self.pos += 1 + n,
                    None => {
                        let next = rest.chars().next().map_or(0, char::len_utf8);
                        let escape = self.text[start..start + 1 + next].to_string();
                        self.report(
                            SyntaxErrorKind::InvalidEscape { escape },
                            Span::new(start, start + 1 + next),
                        );
                        self.pos += 1 + next;
                    }
                }
            }
            '{' => {
                if self.peek_at(1) == Some('{') {
                    self.pos += 2;
                    return;
                }
                let inner = &self.rest()[1..];
                let blank = inner.len() - inner.trim_start_matches([' ', '\t']).len();
                if inner[blank..].starts_with('}') {
                    self.report(
                        SyntaxErrorKind::EmptyInterpolation,
                        Span::new(start, start + 2 + blank),
                    );
                    self.pos += 2 + blank;
                    return;
                }
                self.stack.push(Frame::Interp { pos: start, ifs: 0 });
                self.check_depth(Span::new(start, start + 1));
                self.pos += 1;
            }
            '}' => {
                if self.peek_at(1) == Some('}') {
                    self.pos += 2;
                } else {
                    self.report(SyntaxErrorKind::UnmatchedBrace, Span::new(start, start + 1));
                    self.pos += 1;
                }
            }
            c => self.pos += c.len_utf8(),
        }
    }

    fn code_char(&mut self, c: char) {
        let start = self.pos;
        match c {
            '\n' => {
                self.end_of_line();
                self.pos += 1;
                self.line_start = self.pos;
                self.at_line_start = true;
            }
            ' ' | '\t' | '\r' => self.pos += 1,
            '/' if self.peek_at(1) == Some('/') => {
                let len = self.rest().find('\n').unwrap_or(self.rest().len());
                let is_doc = is_doc_comment(self.rest());
                if is_doc {
                    if self.at_line_start && self.pending_doc.is_none() {
                        self.pending_doc = Some(self.line_start);
                    }
                } else {
                    self.comments.push(Comment {
                        span: Span::new(start, start + len),
                        own_line: self.at_line_start,
                    });
                }
                self.pos += len;
            }
            '"' => {
                self.token_seen();
                self.prefix_run = 0;
                self.stack.push(Frame::Str { pos: start });
                self.check_depth(Span::new(start, start + 1));
                self.pos += 1;
            }
            '(' | '[' | '{' => {
                self.token_seen();
                self.prefix_run = 0;
                self.stack.push(Frame::Bracket {
                    open: c,
                    pos: start,
                    ifs: 0,
                });
                self.check_depth(Span::new(start, start + 1));
                self.pos += 1;
            }
            ')' | ']' | '}' => {
                self.token_seen();
                self.prefix_run = 0;
                self.pos += 1;
                match self.stack.last().copied() {
                    Some(Frame::Interp { .. }) if c == '}' => self.pop(),
                    Some(Frame::Bracket { open, .. }) if closing_of(open) == c => self.pop(),
                    Some(Frame::Bracket { open, pos, .. }) => {
                        self.report_full(
                            SyntaxErrorKind::UnexpectedDelimiter {
                                found: c,
                                expected: Some(closing_of(open)),
                            },
                            Span::new(start, start + 1),
                            None,
                            Some((Span::new(pos, pos + 1), format!("`{open}` opened here"))),
                        );
                        self.pop();
                    }
                    _ => self.report(
                        SyntaxErrorKind::UnexpectedDelimiter {
                            found: c,
                            expected: None,
                        },
                        Span::new(start, start + 1),
                    ),
                }
            }
            c if is_ident_start(c) => {
                let len = word_len(self.rest());
                let word = &self.text[start..start + len];
                let sync = self.split
                    && self.at_line_start
                    && ITEM_KEYWORDS.contains(&word)
                    && self
                        .stack
                        .iter()
                        .all(|f| matches!(f, Frame::Bracket { .. }));
                if sync {
                    let boundary = self.pending_doc.unwrap_or(self.line_start);
                    self.close_chunk(boundary);
                }
                self.token_seen();
                match word {
                    "if" => {
                        self.prefix_run = 0;
                        *self.ifs_mut() += 1;
                        self.if_total += 1;
                        self.check_depth(Span::new(start, start + len));
                    }
                    "not" => {
                        self.prefix_run += 1;
                        self.check_depth(Span::new(start, start + len));
                    }
                    "where" | "by" => {
                        self.prefix_run = 0;
                        self.end_ifs();
                    }
                    w if CLAUSE_KEYWORDS.contains(&w) || ITEM_KEYWORDS.contains(&w) => {
                        self.prefix_run = 0;
                        self.end_ifs();
                    }
                    _ => self.prefix_run = 0,
                }
                self.pos += len;
            }
            c if c.is_ascii_digit() => {
                self.token_seen();
                self.prefix_run = 0;
                self.pos += number_len(self.rest());
            }
            '-' => {
                self.token_seen();
                self.prefix_run += 1;
                self.check_depth(Span::new(start, start + 1));
                self.pos += 1;
            }
            ',' => {
                self.token_seen();
                self.prefix_run = 0;
                self.end_ifs();
                self.pos += 1;
            }
            '=' | '.' => {
                self.token_seen();
                self.prefix_run = 0;
                let rest = self.rest();
                let (len, ends) = if rest.starts_with("==") {
                    (2, false)
                } else if rest.starts_with("=>") || rest.starts_with("..=") {
                    (if c == '=' { 2 } else { 3 }, true)
                } else if rest.starts_with("..") {
                    (2, true)
                } else {
                    (1, c == '=')
                };
                if ends {
                    self.end_ifs();
                }
                self.pos += len;
            }
            '<' | '>' | '!' => {
                // `<=` is one token: its `=` must not end the open `if`s.
                self.token_seen();
                self.prefix_run = 0;
                self.pos += if self.peek_at(1) == Some('=') { 2 } else { 1 };
            }
            c if c.is_ascii() => {
                self.token_seen();
                self.prefix_run = 0;
                self.pos += 1;
            }
            c => {
                self.token_seen();
                self.report_full(
                    SyntaxErrorKind::UnexpectedCharacter { found: c },
                    Span::new(start, start + c.len_utf8()),
                    None,
                    None,
                );
                self.pos += c.len_utf8();
            }
        }
    }
}

// ===========================================================================
// Lowering: pairs → AST
// ===========================================================================

static PRATT: ConstPrattParser<Rule, 19> = ConstPrattParser::new_const(pratt_precedence![
    Op::infix(Rule::op_or, Assoc::Left),
    Op::infix(Rule::op_and, Assoc::Left),
    Op::prefix(Rule::op_not),
    Op::infix(Rule::op_eq, Assoc::Left)
        | Op::infix(Rule::op_ne, Assoc::Left)
        | Op::infix(Rule::op_lt, Assoc::Left)
        | Op::infix(Rule::op_le, Assoc::Left)
        | Op::infix(Rule::op_gt, Assoc::Left)
        | Op::infix(Rule::op_ge, Assoc::Left)
        | Op::infix(Rule::op_in, Assoc::Left)
        | Op::infix(Rule::op_not_in, Assoc::Left),
    Op::postfix(Rule::is_missing),
    Op::infix(Rule::op_coalesce, Assoc::Left),
    Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left),
    Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left),
    Op::prefix(Rule::op_neg),
    Op::postfix(Rule::field_access),
]);

/// An expression and the depth of its tree, tracked while it is built so that
/// no tree deeper than [`MAX_EXPR_DEPTH`] ever exists.
struct Ex {
    expr: Expr,
    depth: usize,
}

struct Lowerer<'s, 't> {
    /// Where the chunk being lowered starts in the file.
    offset: usize,
    sink: &'s Sink<'t>,
}

/// Punctuation pairs carry nothing once the tree has been shaped.
fn is_punctuation(r: Rule) -> bool {
    matches!(
        r,
        Rule::open_paren
            | Rule::close_paren
            | Rule::open_bracket
            | Rule::close_bracket
            | Rule::open_brace
            | Rule::close_brace
            | Rule::comma
            | Rule::colon
            | Rule::assign
            | Rule::arrow
            | Rule::dot
            | Rule::EOI
    )
}

fn inner(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|p| !is_punctuation(p.as_rule()))
}

impl Lowerer<'_, '_> {
    /// The pair's span in the file, without the whitespace and comments pest
    /// leaves at the end of a rule whose last part is optional (`a ~ b?`
    /// skips the blanks after `a` even when `b` is absent).
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = pair.as_span().start() + self.offset;
        Span::new(start, self.trimmed_end(pair))
    }

    fn trimmed_end(&self, pair: &Pair<'_, Rule>) -> usize {
        let end = pair.as_span().end() + self.offset;
        let Some(last) = pair.clone().into_inner().next_back() else {
            return end;
        };
        let inner_end = self.trimmed_end(&last);
        if skip_trivia(self.sink.text, inner_end) >= end {
            inner_end
        } else {
            end
        }
    }

    fn report(&self, error: SyntaxError) -> Failed {
        self.sink.push(error);
        Failed
    }

    fn error(&self, kind: SyntaxErrorKind, span: Span) -> SyntaxError {
        self.sink.error(kind, span)
    }

    /// Builds an expression node one level above children `depth` deep.
    fn node(&self, kind: ExprKind, span: Span, depth: usize) -> Lowered<Ex> {
        let depth = depth + 1;
        if depth > MAX_EXPR_DEPTH {
            return Err(self.report(self.error(
                SyntaxErrorKind::TooDeep {
                    limit: MAX_EXPR_DEPTH,
                },
                span,
            )));
        }
        Ok(Ex {
            expr: Node::new(kind, span),
            depth,
        })
    }

    // -----------------------------------------------------------------------
    // Declarations
    // -----------------------------------------------------------------------

    fn parse_file(&self, pair: Pair<'_, Rule>) -> Vec<Node<Item>> {
        let mut items = Vec::new();
        for child in inner(pair) {
            match child.as_rule() {
                Rule::item => {
                    if let Ok(item) = self.parse_item(child) {
                        items.push(item);
                    }
                }
                _ => unreachable!("{:?} in parse_file", child.as_rule()),
            }
        }
        items
    }

    fn parse_item(&self, pair: Pair<'_, Rule>) -> Lowered<Node<Item>> {
        let mut docs = Vec::new();
        for child in inner(pair) {
            let span = self.span(&child);
            let kind = match child.as_rule() {
                Rule::doc_comment => {
                    docs.push(child);
                    continue;
                }
                Rule::param => ItemKind::Param(self.parse_param(child)?),
                Rule::fn_decl => ItemKind::Fn(self.parse_fn_decl(child)?),
                Rule::derive => ItemKind::Derive(self.parse_derive(child)?),
                Rule::scale => ItemKind::Scale(self.parse_scale(child)?),
                Rule::rule => ItemKind::Rule(self.parse_rule(child)?),
                _ => unreachable!("{:?} in parse_item", child.as_rule()),
            };
            let doc = self.parse_doc(docs);
            return Ok(Node::new(Item { doc, kind }, span));
        }
        unreachable!("item without a declaration in parse_item")
    }

    fn parse_doc(&self, docs: Vec<Pair<'_, Rule>>) -> Option<Node<String>> {
        let first = docs.first()?;
        let last = docs.last()?;
        let span = self.span(first).to(self.span(last));
        let lines: Vec<&str> = docs
            .iter()
            .map(|d| {
                // Trailing blanks are invisible and the formatter drops them,
                // so they are not part of the description.
                let line = d.as_str().strip_prefix("///").unwrap_or("").trim_end();
                line.strip_prefix(' ').unwrap_or(line)
            })
            .collect();
        Some(Node::new(lines.join("\n"), span))
    }

    fn parse_ident(&self, pair: Pair<'_, Rule>) -> Ident {
        match pair.as_rule() {
            Rule::ident | Rule::field_name => {
                Node::new(pair.as_str().to_string(), self.span(&pair))
            }
            _ => unreachable!("{:?} in parse_ident", pair.as_rule()),
        }
    }

    fn parse_param(&self, pair: Pair<'_, Rule>) -> Lowered<Param> {
        let mut name = None;
        let mut ty = None;
        let mut default = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::kw_param => {}
                Rule::ident => name = Some(self.parse_ident(child)),
                Rule::type_expr => ty = Some(self.parse_type_expr(child)),
                Rule::expr => default = Some(self.parse_expr(child)),
                _ => unreachable!("{:?} in parse_param", child.as_rule()),
            }
        }
        match (name, ty, default) {
            (Some(name), Some(ty), Some(default)) => Ok(Param {
                name,
                ty,
                default: default?.expr,
            }),
            _ => unreachable!("incomplete pairs in parse_param"),
        }
    }

    fn parse_type_expr(&self, pair: Pair<'_, Rule>) -> Node<TypeExpr> {
        let span = self.span(&pair);
        let mut name = None;
        let mut args = Vec::new();
        for child in inner(pair) {
            match child.as_rule() {
                Rule::ident => name = Some(self.parse_ident(child)),
                Rule::type_expr => args.push(self.parse_type_expr(child)),
                _ => unreachable!("{:?} in parse_type_expr", child.as_rule()),
            }
        }
        let Some(name) = name else {
            unreachable!("type without a name in parse_type_expr")
        };
        Node::new(TypeExpr { name, args }, span)
    }

    fn parse_fn_decl(&self, pair: Pair<'_, Rule>) -> Lowered<FnDecl> {
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::kw_fn => {}
                Rule::ident => name = Some(self.parse_ident(child)),
                Rule::fn_param => params.push(self.parse_fn_param(child)),
                Rule::type_expr => ret = Some(self.parse_type_expr(child)),
                Rule::expr => body = Some(self.parse_expr(child)),
                _ => unreachable!("{:?} in parse_fn_decl", child.as_rule()),
            }
        }
        match (name, ret, body) {
            (Some(name), Some(ret), Some(body)) => Ok(FnDecl {
                name,
                params,
                ret,
                body: body?.expr,
            }),
            _ => unreachable!("incomplete pairs in parse_fn_decl"),
        }
    }

    fn parse_fn_param(&self, pair: Pair<'_, Rule>) -> Node<FnParam> {
        let span = self.span(&pair);
        let mut name = None;
        let mut ty = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::ident => name = Some(self.parse_ident(child)),
                Rule::type_expr => ty = Some(self.parse_type_expr(child)),
                _ => unreachable!("{:?} in parse_fn_param", child.as_rule()),
            }
        }
        match (name, ty) {
            (Some(name), Some(ty)) => Node::new(FnParam { name, ty }, span),
            _ => unreachable!("incomplete pairs in parse_fn_param"),
        }
    }

    fn parse_derive(&self, pair: Pair<'_, Rule>) -> Lowered<Derive> {
        let mut names = Vec::new();
        let mut ty = None;
        let mut body = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::kw_derive | Rule::kw_for => {}
                Rule::ident => names.push(self.parse_ident(child)),
                Rule::type_expr => ty = Some(self.parse_type_expr(child)),
                Rule::expr => body = Some(self.parse_expr(child)),
                _ => unreachable!("{:?} in parse_derive", child.as_rule()),
            }
        }
        let mut names = names.into_iter();
        match (names.next(), names.next(), ty, body) {
            (Some(name), Some(entity), Some(ty), Some(body)) => Ok(Derive {
                name,
                entity,
                ty,
                body: body?.expr,
            }),
            _ => unreachable!("incomplete pairs in parse_derive"),
        }
    }

    // -----------------------------------------------------------------------
    // Scales
    // -----------------------------------------------------------------------

    fn parse_scale(&self, pair: Pair<'_, Rule>) -> Lowered<Scale> {
        let mut name = None;
        let mut entries = Vec::new();
        let mut failed = false;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::kw_scale => {}
                Rule::ident => name = Some(self.parse_ident(child)),
                Rule::scale_entry => match self.parse_scale_entry(child) {
                    Ok(entry) => entries.push(entry),
                    Err(Failed) => failed = true,
                },
                _ => unreachable!("{:?} in parse_scale", child.as_rule()),
            }
        }
        let Some(name) = name else {
            unreachable!("scale without a name in parse_scale")
        };
        if failed {
            return Err(Failed);
        }
        if entries.is_empty() {
            return Err(self.report(self.error(
                SyntaxErrorKind::EmptyScale {
                    scale: name.node.clone(),
                },
                name.span,
            )));
        }
        Ok(Scale { name, entries })
    }

    fn parse_scale_entry(&self, pair: Pair<'_, Rule>) -> Lowered<Node<ScaleEntry>> {
        let span = self.span(&pair);
        let mut label = None;
        let mut kind = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::label => label = Some(self.parse_label(child)),
                Rule::band => kind = Some(child),
                Rule::kw_missing | Rule::kw_state => kind = Some(child),
                _ => unreachable!("{:?} in parse_scale_entry", child.as_rule()),
            }
        }
        let (Some(label), Some(kind)) = (label, kind) else {
            unreachable!("incomplete pairs in parse_scale_entry")
        };
        let label = label?;
        let kind = match kind.as_rule() {
            Rule::band => ScaleEntryKind::Band(self.parse_band(kind, &label)?),
            Rule::kw_missing => ScaleEntryKind::Missing,
            Rule::kw_state => ScaleEntryKind::State,
            _ => unreachable!("{:?} in parse_scale_entry", kind.as_rule()),
        };
        Ok(Node::new(ScaleEntry { label, kind }, span))
    }

    fn parse_label(&self, pair: Pair<'_, Rule>) -> Lowered<Node<Label>> {
        let span = self.span(&pair);
        let Some(child) = inner(pair).next() else {
            unreachable!("empty label in parse_label")
        };
        match child.as_rule() {
            Rule::ident => Ok(Node::new(
                Label {
                    name: child.as_str().to_string(),
                    quoted: false,
                },
                span,
            )),
            Rule::string => {
                let template = self.parse_string(child)?;
                match template.as_plain() {
                    Some(name) => Ok(Node::new(Label { name, quoted: true }, span)),
                    None => Err(self.report(self.error(SyntaxErrorKind::InvalidLabel, span))),
                }
            }
            _ => unreachable!("{:?} in parse_label", child.as_rule()),
        }
    }

    fn parse_band(&self, pair: Pair<'_, Rule>, label: &Node<Label>) -> Lowered<Band> {
        let span = self.span(&pair);
        let mut lo = None;
        let mut hi = None;
        let mut inclusive = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::band_lo | Rule::band_hi => {
                    let is_lo = child.as_rule() == Rule::band_lo;
                    let Some(expr) = inner(child).next() else {
                        unreachable!("empty bound in parse_band")
                    };
                    let expr = self.parse_expr(expr).map(|e| e.expr);
                    if is_lo {
                        lo = Some(expr);
                    } else {
                        hi = Some(expr);
                    }
                }
                Rule::range => inclusive = Some((false, self.span(&child))),
                Rule::range_incl => inclusive = Some((true, self.span(&child))),
                _ => unreachable!("{:?} in parse_band", child.as_rule()),
            }
        }
        let Some((hi_inclusive, op_span)) = inclusive else {
            unreachable!("band without `..` in parse_band")
        };
        let lo = lo.transpose()?;
        let hi = hi.transpose()?;
        if lo.is_none() && hi.is_none() {
            return Err(self.report(
                self.error(
                    SyntaxErrorKind::BandWithoutBounds {
                        label: label.to_string(),
                    },
                    span,
                )
                .with_label("no lower and no upper bound"),
            ));
        }
        if hi_inclusive && hi.is_none() {
            return Err(self.report(
                self.error(SyntaxErrorKind::InclusiveWithoutUpperBound, op_span)
                    .with_label("no upper bound follows"),
            ));
        }
        Ok(Band {
            lo,
            hi,
            hi_inclusive,
        })
    }

    // -----------------------------------------------------------------------
    // Rules
    // -----------------------------------------------------------------------

    fn parse_rule(&self, pair: Pair<'_, Rule>) -> Lowered<ast::Rule> {
        let mut id = None;
        let mut scope = None;
        let mut filter = None;
        let mut clauses: Vec<Node<Clause>> = Vec::new();
        let mut keyword_spans: Vec<Span> = Vec::new();
        let mut failed = false;
        let mut body_span = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_rule | Rule::kw_for => {}
                Rule::open_brace => body_span = Some(self.span(&child)),
                Rule::close_brace => {
                    let close = self.span(&child);
                    body_span = body_span.map(|open: Span| open.to(close));
                }
                Rule::ident => id = Some(self.parse_ident(child)),
                Rule::scope => scope = Some(self.parse_scope(child)),
                Rule::rule_filter => filter = Some(self.parse_rule_filter(child)),
                Rule::title_clause
                | Rule::severity_clause
                | Rule::when_clause
                | Rule::message_clause
                | Rule::help_clause
                | Rule::suggest_clause
                | Rule::rationale_clause
                | Rule::reference_clause
                | Rule::tags_clause => {
                    let keyword = child
                        .clone()
                        .into_inner()
                        .next()
                        .map_or_else(|| self.span(&child), |k| self.span(&k));
                    match self.parse_clause(child) {
                        Ok(clause) => {
                            let kind = clause.kind();
                            if let Some(first) = clauses.iter().position(|c| c.kind() == kind) {
                                self.sink.push(
                                    self.error(
                                        SyntaxErrorKind::DuplicateClause {
                                            clause: kind.keyword(),
                                        },
                                        keyword,
                                    )
                                    .with_label(format!("second `{}`", kind.keyword()))
                                    .with_related(
                                        keyword_spans[first],
                                        format!("first `{}` here", kind.keyword()),
                                    ),
                                );
                                failed = true;
                            } else {
                                clauses.push(clause);
                                keyword_spans.push(keyword);
                            }
                        }
                        Err(Failed) => failed = true,
                    }
                }
                _ => unreachable!("{:?} in parse_rule", child.as_rule()),
            }
        }
        let (Some(id), Some(scope)) = (id, scope) else {
            unreachable!("incomplete pairs in parse_rule")
        };
        let scope = scope?;
        let filter = filter.transpose()?;
        if clauses.is_empty() && !failed {
            return Err(self.report(
                self.error(
                    SyntaxErrorKind::EmptyRule {
                        rule: id.node.clone(),
                    },
                    body_span.unwrap_or(id.span),
                )
                .with_label("no clauses"),
            ));
        }
        let broken_clause = failed;
        for kind in ClauseKind::ALL {
            let present = clauses.iter().any(|c| c.kind() == kind);
            // After a broken clause the missing one may be the broken one.
            if kind.is_required() && !present && !broken_clause {
                self.sink.push(
                    self.error(
                        SyntaxErrorKind::MissingClause {
                            rule: id.node.clone(),
                            clause: kind.keyword(),
                        },
                        id.span,
                    )
                    .with_label(format!("this rule has no `{}`", kind.keyword())),
                );
                failed = true;
            }
        }
        if failed {
            return Err(Failed);
        }
        Ok(ast::Rule {
            id,
            scope,
            filter,
            clauses,
        })
    }

    fn parse_scope(&self, pair: Pair<'_, Rule>) -> Lowered<Node<Scope>> {
        let span = self.span(&pair);
        let Some(child) = inner(pair).next() else {
            unreachable!("empty scope in parse_scope")
        };
        match child.as_rule() {
            Rule::ident => Ok(Node::new(Scope::Entity(self.parse_ident(child)), span)),
            Rule::group_scope => {
                let mut entity = None;
                let mut key = None;
                for part in inner(child) {
                    match part.as_rule() {
                        Rule::kw_group | Rule::kw_by => {}
                        Rule::ident => entity = Some(self.parse_ident(part)),
                        Rule::expr => key = Some(self.parse_expr(part)),
                        _ => unreachable!("{:?} in parse_scope", part.as_rule()),
                    }
                }
                let (Some(entity), Some(key)) = (entity, key) else {
                    unreachable!("incomplete group in parse_scope")
                };
                Ok(Node::new(
                    Scope::Group {
                        entity,
                        key: key?.expr,
                    },
                    span,
                ))
            }
            _ => unreachable!("{:?} in parse_scope", child.as_rule()),
        }
    }

    fn parse_rule_filter(&self, pair: Pair<'_, Rule>) -> Lowered<Expr> {
        for child in inner(pair) {
            match child.as_rule() {
                Rule::kw_where => {}
                Rule::expr => return Ok(self.parse_expr(child)?.expr),
                _ => unreachable!("{:?} in parse_rule_filter", child.as_rule()),
            }
        }
        unreachable!("filter without an expression in parse_rule_filter")
    }

    fn parse_clause(&self, pair: Pair<'_, Rule>) -> Lowered<Node<Clause>> {
        let span = self.span(&pair);
        let kind = pair.as_rule();
        let mut children = inner(pair).skip(1);
        let clause = match kind {
            Rule::tags_clause => {
                let mut tags = Vec::new();
                let mut failed = false;
                for child in children {
                    match self.parse_string(child) {
                        Ok(tag) => tags.push(tag),
                        Err(Failed) => failed = true,
                    }
                }
                if failed {
                    return Err(Failed);
                }
                Clause::Tags(tags)
            }
            _ => {
                let Some(value) = children.next() else {
                    unreachable!("{kind:?} without a value in parse_clause")
                };
                match kind {
                    Rule::title_clause => Clause::Title(self.parse_string(value)?),
                    Rule::severity_clause => Clause::Severity(self.parse_severity_level(value)?),
                    Rule::when_clause => Clause::When(self.parse_expr(value)?.expr),
                    Rule::message_clause => Clause::Message(self.parse_string(value)?),
                    Rule::help_clause => Clause::Help(self.parse_string(value)?),
                    Rule::suggest_clause => Clause::Suggest(self.parse_expr(value)?.expr),
                    Rule::rationale_clause => Clause::Rationale(self.parse_string(value)?),
                    Rule::reference_clause => Clause::Reference(self.parse_string(value)?),
                    _ => unreachable!("{kind:?} in parse_clause"),
                }
            }
        };
        Ok(Node::new(clause, span))
    }

    fn parse_severity_level(&self, pair: Pair<'_, Rule>) -> Lowered<Node<Severity>> {
        let span = self.span(&pair);
        let word = pair.as_str();
        match Severity::from_keyword(word) {
            Some(severity) => Ok(Node::new(severity, span)),
            None => {
                let mut error = self.error(
                    SyntaxErrorKind::InvalidSeverity {
                        found: word.to_string(),
                    },
                    span,
                );
                let candidates = Severity::ALL.map(Severity::keyword);
                let lower = word.to_lowercase();
                let guess = did_you_mean(&lower, candidates)
                    .or_else(|| candidates.into_iter().find(|c| *c == lower))
                    .or_else(|| {
                        candidates
                            .into_iter()
                            .find(|c| c.starts_with(&lower) && !lower.is_empty())
                    });
                if let Some(guess) = guess {
                    error = error.with_help_prefix(format!("did you mean `{guess}`?"));
                }
                Err(self.report(error))
            }
        }
    }

    // -----------------------------------------------------------------------
    // Strings
    // -----------------------------------------------------------------------

    fn parse_string(&self, pair: Pair<'_, Rule>) -> Lowered<StrLit> {
        self.parse_template(pair).map(|(s, _)| s)
    }

    /// A string literal and the depth of its deepest interpolation.
    fn parse_template(&self, pair: Pair<'_, Rule>) -> Lowered<(StrLit, usize)> {
        let span = self.span(&pair);
        let mut depth = 0;
        let mut parts: Vec<TemplatePart> = Vec::new();
        let push_text = |parts: &mut Vec<TemplatePart>, text: &str, at: Span| {
            if let Some(TemplatePart::Text(last)) = parts.last_mut() {
                last.node.push_str(text);
                last.span = last.span.to(at);
            } else {
                parts.push(TemplatePart::Text(Node::new(text.to_string(), at)));
            }
        };
        let mut failed = false;
        for child in pair.into_inner() {
            let at = self.span(&child);
            match child.as_rule() {
                Rule::string_text => push_text(&mut parts, child.as_str(), at),
                Rule::string_open_brace => push_text(&mut parts, "{", at),
                Rule::string_close_brace => push_text(&mut parts, "}", at),
                Rule::string_escape => match self.parse_string_escape(&child) {
                    Ok(c) => push_text(&mut parts, c.encode_utf8(&mut [0; 4]), at),
                    Err(Failed) => failed = true,
                },
                Rule::interpolation => {
                    let Some(expr) = child.into_inner().next() else {
                        unreachable!("empty interpolation in parse_string")
                    };
                    match self.parse_expr(expr) {
                        Ok(e) => {
                            depth = depth.max(e.depth);
                            parts.push(TemplatePart::Interp(e.expr));
                        }
                        Err(Failed) => failed = true,
                    }
                }
                _ => unreachable!("{:?} in parse_string", child.as_rule()),
            }
        }
        if failed {
            return Err(Failed);
        }
        Ok((Node::new(Template { parts }, span), depth))
    }

    fn parse_string_escape(&self, pair: &Pair<'_, Rule>) -> Lowered<char> {
        let text = pair.as_str();
        Ok(match text {
            "\\\"" => '"',
            "\\\\" => '\\',
            "\\n" => '\n',
            "\\t" => '\t',
            "\\r" => '\r',
            _ => {
                let hex = text
                    .strip_prefix("\\u{")
                    .and_then(|h| h.strip_suffix('}'))
                    .unwrap_or("");
                match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    Some(c) if hex.len() <= 6 => c,
                    _ => {
                        return Err(self.report(self.error(
                            SyntaxErrorKind::InvalidEscape {
                                escape: text.to_string(),
                            },
                            self.span(pair),
                        )))
                    }
                }
            }
        })
    }

    // -----------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------

    fn parse_expr(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        match pair.as_rule() {
            Rule::expr => {}
            _ => unreachable!("{:?} in parse_expr", pair.as_rule()),
        }
        PRATT
            .map_primary(|primary| self.parse_primary(primary))
            .map_prefix(|op, operand| {
                let operand = operand?;
                let op_span = self.span(&op);
                let op = match op.as_rule() {
                    Rule::op_not => UnaryOp::Not,
                    Rule::op_neg => UnaryOp::Neg,
                    _ => unreachable!("{:?} in parse_expr (prefix)", op.as_rule()),
                };
                let span = op_span.to(operand.expr.span);
                self.node(
                    ExprKind::Unary {
                        op: Node::new(op, op_span),
                        operand: Box::new(operand.expr),
                    },
                    span,
                    operand.depth,
                )
            })
            .map_postfix(|base, op| {
                let base = base?;
                let span = base.expr.span.to(self.span(&op));
                match op.as_rule() {
                    Rule::field_access => {
                        let Some(name) = inner(op).next() else {
                            unreachable!("field access without a name in parse_expr")
                        };
                        let field = self.parse_ident(name);
                        self.node(
                            ExprKind::Field {
                                base: Box::new(base.expr),
                                field,
                            },
                            span,
                            base.depth,
                        )
                    }
                    Rule::is_missing => {
                        let negated = op.into_inner().any(|p| p.as_rule() == Rule::kw_not);
                        self.node(
                            ExprKind::IsMissing {
                                operand: Box::new(base.expr),
                                negated,
                            },
                            span,
                            base.depth,
                        )
                    }
                    _ => unreachable!("{:?} in parse_expr (postfix)", op.as_rule()),
                }
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let op_span = self.span(&op);
                let op = match op.as_rule() {
                    Rule::op_or => BinaryOp::Or,
                    Rule::op_and => BinaryOp::And,
                    Rule::op_eq => BinaryOp::Eq,
                    Rule::op_ne => BinaryOp::Ne,
                    Rule::op_lt => BinaryOp::Lt,
                    Rule::op_le => BinaryOp::Le,
                    Rule::op_gt => BinaryOp::Gt,
                    Rule::op_ge => BinaryOp::Ge,
                    Rule::op_in => BinaryOp::In,
                    Rule::op_not_in => BinaryOp::NotIn,
                    Rule::op_coalesce => BinaryOp::Coalesce,
                    Rule::op_add => BinaryOp::Add,
                    Rule::op_sub => BinaryOp::Sub,
                    Rule::op_mul => BinaryOp::Mul,
                    Rule::op_div => BinaryOp::Div,
                    _ => unreachable!("{:?} in parse_expr (infix)", op.as_rule()),
                };
                if op.is_comparison() {
                    if let ExprKind::Binary { op: first, .. } = &lhs.expr.node {
                        if first.is_comparison() {
                            return Err(self.report(
                                self.error(
                                    SyntaxErrorKind::ChainedComparison {
                                        first: first.symbol(),
                                        second: op.symbol(),
                                    },
                                    op_span,
                                )
                                .with_label("second comparison")
                                .with_related(first.span, "first comparison"),
                            ));
                        }
                    }
                }
                let span = lhs.expr.span.to(rhs.expr.span);
                let depth = lhs.depth.max(rhs.depth);
                self.node(
                    ExprKind::Binary {
                        op: Node::new(op, op_span),
                        lhs: Box::new(lhs.expr),
                        rhs: Box::new(rhs.expr),
                    },
                    span,
                    depth,
                )
            })
            .parse(pair.into_inner())
    }

    fn parse_primary(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::number => self.parse_number(pair),
            Rule::string => {
                let (template, depth) = self.parse_template(pair)?;
                self.node(ExprKind::String(template.node), span, depth)
            }
            Rule::kw_true => self.node(ExprKind::Bool(true), span, 0),
            Rule::kw_false => self.node(ExprKind::Bool(false), span, 0),
            Rule::kw_missing => self.node(ExprKind::Missing, span, 0),
            Rule::paren => self.parse_paren(pair),
            Rule::list => self.parse_list(pair),
            Rule::if_expr => self.parse_if(pair),
            Rule::call => self.parse_call(pair),
            _ => unreachable!("{:?} in parse_primary", pair.as_rule()),
        }
    }

    fn parse_number(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        let text = pair.as_str();
        if !is_valid_number(text) {
            let mut error = self.error(
                SyntaxErrorKind::InvalidNumber {
                    text: text.to_string(),
                },
                span,
            );
            let digits = text.trim_end_matches(|c: char| !c.is_ascii_digit());
            if text.contains("__") || text.ends_with('_') || text.contains("_.") {
                error = error.with_help_prefix("an `_` may only stand between two digits");
            } else if !digits.is_empty() && !text.is_ascii() {
                error = error.with_help(format!(
                    "a number is ASCII digits only: write `{digits}` and put the unit in a \
                     message or a name"
                ));
            } else if text.matches('.').count() > 1 {
                error = error.with_help_prefix("a number has at most one decimal point");
            }
            return Err(self.report(error));
        }
        let number = Number {
            text: text.to_string(),
            is_percent: text.ends_with('%'),
        };
        self.node(ExprKind::Number(number), span, 0)
    }

    fn parse_paren(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        let trailing_comma = pair
            .clone()
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::open_paren | Rule::close_paren))
            .last()
            .is_some_and(|p| p.as_rule() == Rule::comma);
        let items = self.parse_exprs(inner(pair))?;
        let depth = items.iter().map(|e| e.depth).max().unwrap_or(0);
        let mut exprs: Vec<Expr> = items.into_iter().map(|e| e.expr).collect();
        if exprs.len() == 1 && !trailing_comma {
            let Some(only) = exprs.pop() else {
                unreachable!("empty parentheses in parse_paren")
            };
            self.node(ExprKind::Paren(Box::new(only)), span, depth)
        } else {
            self.node(ExprKind::Tuple(exprs), span, depth)
        }
    }

    fn parse_exprs<'i>(&self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Lowered<Vec<Ex>> {
        let mut out = Vec::new();
        let mut failed = false;
        for pair in pairs {
            match pair.as_rule() {
                Rule::expr => match self.parse_expr(pair) {
                    Ok(e) => out.push(e),
                    Err(Failed) => failed = true,
                },
                _ => unreachable!("{:?} in parse_exprs", pair.as_rule()),
            }
        }
        if failed {
            Err(Failed)
        } else {
            Ok(out)
        }
    }

    fn parse_list(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        let items = self.parse_exprs(inner(pair))?;
        let depth = items.iter().map(|e| e.depth).max().unwrap_or(0);
        self.node(
            ExprKind::List(items.into_iter().map(|e| e.expr).collect()),
            span,
            depth,
        )
    }

    fn parse_if(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        let parts = self.parse_exprs(
            inner(pair)
                .filter(|p| !matches!(p.as_rule(), Rule::kw_if | Rule::kw_then | Rule::kw_else)),
        )?;
        let depth = parts.iter().map(|e| e.depth).max().unwrap_or(0);
        let mut parts = parts.into_iter().map(|e| Box::new(e.expr));
        match (parts.next(), parts.next(), parts.next()) {
            (Some(cond), Some(then), Some(otherwise)) => self.node(
                ExprKind::If {
                    cond,
                    then,
                    otherwise,
                },
                span,
                depth,
            ),
            _ => unreachable!("incomplete pairs in parse_if"),
        }
    }

    fn parse_call(&self, pair: Pair<'_, Rule>) -> Lowered<Ex> {
        let span = self.span(&pair);
        let is_call = pair
            .clone()
            .into_inner()
            .any(|p| p.as_rule() == Rule::open_paren);
        let mut children = inner(pair);
        let Some(func) = children.next() else {
            unreachable!("call without a name in parse_call")
        };
        let func = self.parse_ident(func);
        if !is_call {
            return self.node(ExprKind::Name(func.node), span, 0);
        }
        let rest: Vec<Pair<'_, Rule>> = children.collect();
        if let Some(body) = rest.first().filter(|p| p.as_rule() == Rule::aggregate_body) {
            return self.parse_aggregate(func, body.clone(), span);
        }
        let args = self.parse_exprs(rest.into_iter())?;
        let depth = args.iter().map(|e| e.depth).max().unwrap_or(0);
        self.node(
            ExprKind::Call {
                func,
                args: args.into_iter().map(|e| e.expr).collect(),
            },
            span,
            depth,
        )
    }

    fn parse_aggregate(&self, func: Ident, pair: Pair<'_, Rule>, span: Span) -> Lowered<Ex> {
        let agg = match AggFunc::from_name(&func.node) {
            Some(agg) => Node::new(agg, func.span),
            None => {
                let mut error = self.error(
                    SyntaxErrorKind::UnknownAggregate {
                        name: func.node.clone(),
                    },
                    func.span,
                );
                if let Some(guess) = did_you_mean(&func.node, AggFunc::ALL.map(AggFunc::name)) {
                    error = error.with_help_prefix(format!("did you mean `{guess}`?"));
                }
                return Err(self.report(error));
            }
        };
        let mut var = None;
        let mut collection = None;
        let mut filter = None;
        let mut map = None;
        for child in inner(pair) {
            match child.as_rule() {
                Rule::ident => var = Some(self.parse_ident(child)),
                Rule::kw_in => {}
                Rule::expr => collection = Some(self.parse_expr(child)),
                Rule::aggregate_where | Rule::aggregate_map => {
                    let is_where = child.as_rule() == Rule::aggregate_where;
                    let Some(expr) = inner(child).find(|p| p.as_rule() == Rule::expr) else {
                        unreachable!("empty aggregate part in parse_aggregate")
                    };
                    let expr = self.parse_expr(expr);
                    if is_where {
                        filter = Some(expr);
                    } else {
                        map = Some(expr);
                    }
                }
                _ => unreachable!("{:?} in parse_aggregate", child.as_rule()),
            }
        }
        let (Some(var), Some(collection)) = (var, collection) else {
            unreachable!("incomplete pairs in parse_aggregate")
        };
        let (collection, filter, map) = (collection?, filter.transpose()?, map.transpose()?);
        let depth = [Some(&collection), filter.as_ref(), map.as_ref()]
            .into_iter()
            .flatten()
            .map(|e| e.depth)
            .max()
            .unwrap_or(0);
        self.node(
            ExprKind::Aggregate(Box::new(Aggregate {
                func: agg,
                var,
                collection: collection.expr,
                filter: filter.map(|e| e.expr),
                map: map.map(|e| e.expr),
            })),
            span,
            depth,
        )
    }
}

/// `261`, `61.4`, `1_000`, `90%`, `0.5%`: digits with single `_` between
/// digits, an optional fraction, an optional `%`.
fn is_valid_number(text: &str) -> bool {
    let body = text.strip_suffix('%').unwrap_or(text);
    let mut parts = body.split('.');
    let (Some(int), frac, None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let digits_ok = |s: &str| {
        !s.is_empty()
            && s.starts_with(|c: char| c.is_ascii_digit())
            && s.ends_with(|c: char| c.is_ascii_digit())
            && !s.contains("__")
            && s.chars().all(|c| c.is_ascii_digit() || c == '_')
    };
    digits_ok(int) && frac.is_none_or(digits_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for ok in ["0", "261", "61.4", "1_000", "90%", "0.5%", "1_000.000_1"] {
            assert!(is_valid_number(ok), "{ok}");
        }
        for bad in ["1__0", "1_", "1._5", "1.5.3", "12abc", "2025年", "1_%"] {
            assert!(!is_valid_number(bad), "{bad}");
        }
    }

    #[test]
    fn did_you_mean_finds_typos() {
        assert_eq!(
            did_you_mean("severty", CLAUSE_KEYWORDS.iter().copied()),
            Some("severity")
        );
        assert_eq!(
            did_you_mean("rulle", ITEM_KEYWORDS.iter().copied()),
            Some("rule")
        );
        assert_eq!(did_you_mean("xyz", ITEM_KEYWORDS.iter().copied()), None);
        assert_eq!(
            did_you_mean("cnt", AggFunc::ALL.map(AggFunc::name)),
            Some("count")
        );
        assert_eq!(
            did_you_mean("msg", CLAUSE_KEYWORDS.iter().copied()),
            Some("message")
        );
    }

    #[test]
    fn chunks_split_at_declarations() {
        let text = "param a: number = 1\n/// doc\nrule x for indicator {\n}\n  rule y";
        let s = scan(text, 0, true);
        let starts: Vec<usize> = s.chunks.iter().map(|c| c.start).collect();
        assert_eq!(starts, vec![0, 20, 53]);
    }
}
