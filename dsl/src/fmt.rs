//! The formatter: one canonical layout for rule files, keeping every comment.
//!
//! It prints the syntax tree ([`crate::ast`]) back as text and puts the
//! comments (which the tree does not hold; [`crate::syntax::comments`] finds
//! them) back by position.
//!
//! **How.** Each declaration, rule header and clause is turned into a
//! document: text, the places where a line may break, and groups of such
//! places that break together (after Wadler's "prettier printer"). A group
//! is printed on one line when it fits in [`WIDTH`] columns (up to the next
//! place where the line breaks anyway), else its breaks become new lines and
//! the groups inside it get the same choice. Outer groups break first, so a
//! long expression breaks at its weakest operator before anything inside
//! breaks.
//!
//! **The layout** (docs/rule-language.md, "Formatting", has examples):
//! 4-space indentation; one declaration after another, with a blank line
//! around scales and rules, around declarations that take several lines and
//! wherever the source had one (at most one); one clause per line in rules
//! and one band per line in scales; spaces around binary operators. What
//! does not fit breaks:
//! - a `param`, `fn` or `derive` body moves to its own lines, indented; an
//!   `if` chain there is one `if … then …` per line, an `or`/`and` chain
//!   one operand per line;
//! - a chain of operators of equal precedence breaks before each operator.
//!   A chain that has its lines to itself (a body, a `when` condition, a
//!   branch of an `if`) lines its operators up under its first operand;
//!   elsewhere continuation lines are indented one level. Parentheses stay
//!   as written and do not break;
//! - an `if` branch that does not fit after `then` (or `else`) moves to its
//!   own line, one level in; a long condition puts `then` on its own line;
//!   an `if` inside an expression lines its `else`s up under its `if`;
//! - a call, list or tuple breaks after the opening bracket, one element per
//!   line, the closing bracket on a line of its own; an aggregate breaks
//!   before `where` and `=>`;
//! - a rule header breaks before `where` (indented) and then puts `{` on a
//!   line of its own; a long group key breaks like a tuple.
//!
//! **Comments.** A comment that followed code on its line stays at the end
//! of a line; a comment on its own line stays on its own line. A comment
//! inside a construct goes to the first place after it where the line may
//! break, and that place then breaks (so do the groups around it); a comment
//! with no such place after it goes to the end of the construct's last line
//! (or, if that line has one already, on its own line after it). Comments
//! never count towards the width.
//!
//! **Invariants**: `format(format(x)) == format(x)`, and `format(x)` parses to
//! the same tree as `x` with the same comments in the same order. The
//! formatter never changes what a file means: it refuses files with syntax
//! errors rather than guessing.

use crate::ast::{
    escape_text, BinaryOp, Clause, Expr, ExprKind, File, Item, ItemKind, Precedence,
    ScaleEntryKind, Scope, Template, TemplatePart, TypeExpr, UnaryOp,
};
use crate::span::{Node, Span};
use crate::syntax::{self, Comment};
use crate::syntax_error::SyntaxError;

/// Lines longer than this many columns are broken where the layout allows.
pub const WIDTH: usize = 100;

const INDENT: usize = 4;

/// Formats a rule file, or returns its syntax errors.
pub fn format(source_name: &str, text: &str) -> Result<String, Vec<SyntaxError>> {
    let file = syntax::parse(source_name, text)?;
    let mut printer = Printer::new(text, syntax::comments(text));
    printer.file(&file);
    Ok(printer.finish())
}

/// Whether `text` is already formatted (a CI check), or its syntax errors.
pub fn is_formatted(source_name: &str, text: &str) -> Result<bool, Vec<SyntaxError>> {
    format(source_name, text).map(|formatted| formatted == text)
}

/// Prints an expression on one line, in canonical form.
pub fn expr_to_string(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

// ===========================================================================
// Expressions on one line
// ===========================================================================

// Parentheses are never added: a tree that came from the parser has a
// `Paren` node wherever the source needed one, so printing the operators
// as they stand reads back as the same tree.
fn write_expr(out: &mut String, expr: &Expr) {
    match &expr.node {
        ExprKind::Number(n) => out.push_str(&n.text),
        ExprKind::String(t) => write_template(out, t),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Missing => out.push_str("missing"),
        ExprKind::Name(n) => out.push_str(n),
        ExprKind::Field { base, field } => {
            write_expr(out, base);
            out.push('.');
            out.push_str(field);
        }
        ExprKind::Call { func, args } => {
            out.push_str(func);
            out.push('(');
            write_list(out, args);
            out.push(')');
        }
        ExprKind::Aggregate(a) => {
            out.push_str(a.func.name());
            out.push('(');
            out.push_str(&a.var);
            out.push_str(" in ");
            write_expr(out, &a.collection);
            if let Some(filter) = &a.filter {
                out.push_str(" where ");
                write_expr(out, filter);
            }
            if let Some(map) = &a.map {
                out.push_str(" => ");
                write_expr(out, map);
            }
            out.push(')');
        }
        ExprKind::Unary { op, operand } => {
            out.push_str(op.symbol());
            if op.node == UnaryOp::Not {
                out.push(' ');
            }
            write_expr(out, operand);
        }
        ExprKind::Binary { op, lhs, rhs } => {
            write_expr(out, lhs);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_expr(out, rhs);
        }
        ExprKind::IsMissing { operand, negated } => {
            write_expr(out, operand);
            out.push_str(if *negated {
                " is not missing"
            } else {
                " is missing"
            });
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            out.push_str("if ");
            write_expr(out, cond);
            out.push_str(" then ");
            write_expr(out, then);
            out.push_str(" else ");
            write_expr(out, otherwise);
        }
        ExprKind::List(items) => {
            out.push('[');
            write_list(out, items);
            out.push(']');
        }
        ExprKind::Tuple(items) => {
            out.push('(');
            write_list(out, items);
            if items.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write_expr(out, inner);
            out.push(')');
        }
    }
}

fn write_list(out: &mut String, items: &[Expr]) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item);
    }
}

fn write_template(out: &mut String, template: &Template) {
    out.push('"');
    for part in &template.parts {
        match part {
            TemplatePart::Text(t) => out.push_str(&escape_text(t)),
            TemplatePart::Interp(e) => {
                out.push('{');
                write_expr(out, e);
                out.push('}');
            }
        }
    }
    out.push('"');
}

fn template_to_string(template: &Template) -> String {
    let mut out = String::new();
    write_template(&mut out, template);
    out
}

fn type_to_string(ty: &TypeExpr) -> String {
    let mut out = ty.name.node.clone();
    if !ty.args.is_empty() {
        out.push('(');
        let args: Vec<String> = ty.args.iter().map(|a| type_to_string(a)).collect();
        out.push_str(&args.join(", "));
        out.push(')');
    }
    out
}

/// Columns `s` takes in a terminal: East Asian wide characters count two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let c = c as u32;
            let wide = matches!(c,
                0x1100..=0x115F
                | 0x2E80..=0x303E
                | 0x3041..=0x33FF
                | 0x3400..=0x4DBF
                | 0x4E00..=0x9FFF
                | 0xA000..=0xA4CF
                | 0xAC00..=0xD7A3
                | 0xF900..=0xFAFF
                | 0xFE30..=0xFE4F
                | 0xFF00..=0xFF60
                | 0xFFE0..=0xFFE6
                | 0x1F300..=0x1F64F
                | 0x1F900..=0x1F9FF
                | 0x20000..=0x3FFFD);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

// ===========================================================================
// Documents: text, places to break, groups
// ===========================================================================

/// Whether a group is printed on one line or broken at each of its places.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Flat,
    Break,
}

/// What the layout is computed on.
#[derive(Debug)]
enum Doc {
    /// Text that never breaks.
    Text(String),
    /// A place to break: `flat` when its group is on one line, else a new
    /// line at the current indentation. `at` is the source offset of what
    /// follows it (comments before `at` come here); `id` numbers the places
    /// of one document in order.
    Line {
        flat: &'static str,
        at: usize,
        id: usize,
    },
    /// Printed flat if it fits, else broken; `forced` when a comment must
    /// end a line inside it.
    Group { docs: Vec<Doc>, forced: bool },
    /// Lines broken inside are indented this much more.
    Nest(usize, Vec<Doc>),
    /// Lines broken inside are indented to the column where this starts.
    Align(Vec<Doc>),
    /// One document after another.
    Seq(Vec<Doc>),
    /// One of two documents, after the mode of the enclosing group.
    IfBreak { broken: Vec<Doc>, flat: Vec<Doc> },
    /// A new line that is no place to break (only in [`Doc::IfBreak`]).
    Newline,
}

fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

/// A break that is a space when flat.
fn line(at: usize) -> Doc {
    Doc::Line {
        flat: " ",
        at,
        id: 0,
    }
}

/// A break that is nothing when flat.
fn softline(at: usize) -> Doc {
    Doc::Line {
        flat: "",
        at,
        id: 0,
    }
}

fn group(docs: Vec<Doc>) -> Doc {
    Doc::Group {
        docs,
        forced: false,
    }
}

fn nest(docs: Vec<Doc>) -> Doc {
    Doc::Nest(INDENT, docs)
}

impl Doc {
    fn children_mut(&mut self) -> &mut [Doc] {
        match self {
            Doc::Group { docs, .. } | Doc::Nest(_, docs) | Doc::Align(docs) | Doc::Seq(docs) => {
                docs
            }
            Doc::Text(_) | Doc::Line { .. } | Doc::IfBreak { .. } | Doc::Newline => &mut [],
        }
    }
}

/// Numbers the places to break in order; returns the `at` of each.
fn number_lines(doc: &mut Doc, ats: &mut Vec<usize>) {
    if let Doc::Line { at, id, .. } = doc {
        *id = ats.len();
        debug_assert!(
            ats.last().is_none_or(|last| *last <= *at),
            "break places out of order"
        );
        ats.push(*at);
    }
    for child in doc.children_mut() {
        number_lines(child, ats);
    }
}

/// Marks every group that holds a break that must be taken; returns whether
/// `doc` holds one.
fn force_groups(doc: &mut Doc, hard: &[bool]) -> bool {
    let mut any = matches!(doc, Doc::Line { id, .. } if hard[*id]);
    for child in doc.children_mut() {
        any |= force_groups(child, hard);
    }
    if let Doc::Group { forced, .. } = doc {
        *forced = any;
    }
    any
}

/// One printed line of a document, with the comments that come after it.
struct OutLine {
    indent: usize,
    text: String,
    comments: Vec<Comment>,
}

/// Lays `doc` out from column `indent`.
fn render(
    doc: &Doc,
    indent: usize,
    hard: &[bool],
    mut attached: Vec<Vec<Comment>>,
) -> Vec<OutLine> {
    let mut lines = Vec::new();
    let mut current = OutLine {
        indent,
        text: String::new(),
        comments: Vec::new(),
    };
    let mut col = indent;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(indent, Mode::Break, doc)];
    while let Some((ind, mode, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                current.text.push_str(s);
                col += width(s);
            }
            Doc::Line { flat, id, .. } => {
                if mode == Mode::Flat && !hard[*id] {
                    current.text.push_str(flat);
                    col += flat.len();
                } else {
                    current.comments = std::mem::take(&mut attached[*id]);
                    lines.push(std::mem::replace(
                        &mut current,
                        OutLine {
                            indent: ind,
                            text: String::new(),
                            comments: Vec::new(),
                        },
                    ));
                    col = ind;
                }
            }
            Doc::Newline => {
                lines.push(std::mem::replace(
                    &mut current,
                    OutLine {
                        indent: ind,
                        text: String::new(),
                        comments: Vec::new(),
                    },
                ));
                col = ind;
            }
            Doc::Group { docs, forced } => {
                let m = if mode == Mode::Flat {
                    Mode::Flat
                } else if *forced || !fits(docs, &stack, WIDTH.saturating_sub(col), hard) {
                    Mode::Break
                } else {
                    Mode::Flat
                };
                stack.extend(docs.iter().rev().map(|c| (ind, m, c)));
            }
            Doc::Nest(n, docs) => stack.extend(docs.iter().rev().map(|c| (ind + n, mode, c))),
            Doc::Align(docs) => stack.extend(docs.iter().rev().map(|c| (col, mode, c))),
            Doc::Seq(docs) => stack.extend(docs.iter().rev().map(|c| (ind, mode, c))),
            Doc::IfBreak { broken, flat } => {
                let docs = if mode == Mode::Flat { flat } else { broken };
                stack.extend(docs.iter().rev().map(|c| (ind, mode, c)));
            }
        }
    }
    lines.push(current);
    lines
}

/// Whether `docs` fit flat in `room` columns, together with what follows
/// them (`rest`, a render stack) up to its next line break.
fn fits(docs: &[Doc], rest: &[(usize, Mode, &Doc)], mut room: usize, hard: &[bool]) -> bool {
    let mut stack: Vec<(Mode, &Doc)> = docs.iter().rev().map(|d| (Mode::Flat, d)).collect();
    let mut rest_at = rest.len();
    loop {
        let Some((mode, d)) = stack.pop() else {
            if rest_at == 0 {
                return true;
            }
            rest_at -= 1;
            let (_, m, d) = rest[rest_at];
            stack.push((m, d));
            continue;
        };
        let used = match d {
            Doc::Text(s) => width(s),
            Doc::Line { flat, id, .. } => {
                if mode == Mode::Break || hard[*id] {
                    return true;
                }
                flat.len()
            }
            Doc::Newline => return true,
            Doc::Group { docs, forced } => {
                let m = if *forced { Mode::Break } else { mode };
                stack.extend(docs.iter().rev().map(|c| (m, c)));
                0
            }
            Doc::Nest(_, docs) | Doc::Align(docs) | Doc::Seq(docs) => {
                stack.extend(docs.iter().rev().map(|c| (mode, c)));
                0
            }
            Doc::IfBreak { broken, flat } => {
                let docs = if mode == Mode::Flat { flat } else { broken };
                stack.extend(docs.iter().rev().map(|c| (mode, c)));
                0
            }
        };
        let Some(left) = room.checked_sub(used) else {
            return false;
        };
        room = left;
    }
}

// ===========================================================================
// Expressions as documents
// ===========================================================================

/// An expression inside another one.
fn expr_doc(e: &Expr) -> Doc {
    match &e.node {
        ExprKind::Number(_)
        | ExprKind::String(_)
        | ExprKind::Bool(_)
        | ExprKind::Missing
        | ExprKind::Name(_) => text(expr_to_string(e)),
        ExprKind::Field { base, field } => {
            Doc::Seq(vec![expr_doc(base), text(format!(".{field}"))])
        }
        ExprKind::Call { func, args } => bracketed(format!("{func}("), args, ")", e.span, false),
        ExprKind::Aggregate(a) => {
            let mut tail = Vec::new();
            if let Some(filter) = &a.filter {
                tail.push(line(filter.span.start));
                tail.push(text("where "));
                tail.push(expr_doc(filter));
            }
            if let Some(map) = &a.map {
                tail.push(line(map.span.start));
                tail.push(text("=> "));
                tail.push(expr_doc(map));
            }
            group(vec![
                text(format!("{}({} in ", a.func.name(), a.var)),
                expr_doc(&a.collection),
                nest(tail),
                text(")"),
            ])
        }
        ExprKind::Unary { op, operand } => {
            let symbol = match op.node {
                UnaryOp::Not => "not ",
                UnaryOp::Neg => "-",
            };
            Doc::Seq(vec![text(symbol), expr_doc(operand)])
        }
        ExprKind::Binary { .. } => group(chain(e, false)),
        ExprKind::IsMissing { operand, negated } => Doc::Seq(vec![
            expr_doc(operand),
            text(if *negated {
                " is not missing"
            } else {
                " is missing"
            }),
        ]),
        ExprKind::If { .. } => group(vec![Doc::Align(if_chain(e))]),
        ExprKind::List(items) => bracketed("[".to_string(), items, "]", e.span, false),
        ExprKind::Tuple(items) => bracketed("(".to_string(), items, ")", e.span, items.len() == 1),
        ExprKind::Paren(inner) => Doc::Seq(vec![text("("), expr_doc(inner), text(")")]),
    }
}

/// `open` items `close`: on one line, or one item per line, indented, with
/// `close` on a line of its own. `span` is the whole construct's, ending
/// with `close`.
fn bracketed(open: String, items: &[Expr], close: &str, span: Span, trailing_comma: bool) -> Doc {
    if items.is_empty() {
        return text(format!("{open}{close}"));
    }
    let mut inner = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i == 0 {
            inner.push(softline(item.span.start));
        } else {
            inner.push(text(","));
            inner.push(line(item.span.start));
        }
        inner.push(expr_doc(item));
    }
    if trailing_comma {
        inner.push(text(","));
    }
    group(vec![
        text(open),
        nest(inner),
        softline(span.end.saturating_sub(1)),
        text(close),
    ])
}

/// The operands of `e`'s top-level chain of operators of equal precedence
/// (`a + b - c`: `a`, `b`, `c`), each but the first with the operator
/// before it.
fn chain_operands(e: &Expr) -> (&Expr, Vec<(&Node<BinaryOp>, &Expr)>) {
    let ExprKind::Binary { op, .. } = &e.node else {
        return (e, Vec::new());
    };
    let precedence = op.node.precedence();
    let mut rights = Vec::new();
    let mut current = e;
    // Left-associative: walk down the left spine without recursion.
    while let ExprKind::Binary { op, lhs, rhs } = &current.node {
        if op.node.precedence() != precedence {
            break;
        }
        rights.push((op, &**rhs));
        current = lhs;
    }
    rights.reverse();
    (current, rights)
}

/// Whether `e` breaks, if it breaks, before an operator of its own (not
/// inside brackets).
fn starts_chain(e: &Expr) -> bool {
    match &e.node {
        ExprKind::Binary { .. } => true,
        ExprKind::Unary { operand, .. } | ExprKind::IsMissing { operand, .. } => {
            starts_chain(operand)
        }
        _ => false,
    }
}

/// The parts of `e`'s top-level operator chain, to go into a group: broken,
/// each operator starts a line. A chain that has its lines to itself
/// (`own_lines`) puts its operators under its first operand; elsewhere they
/// are indented one level. An operand that is a chain itself is indented
/// one level more than its chain's operators.
fn chain(e: &Expr, own_lines: bool) -> Vec<Doc> {
    let (first, rest) = chain_operands(e);
    let first_doc = expr_doc(first);
    let mut docs = vec![if !own_lines && starts_chain(first) {
        nest(vec![first_doc])
    } else {
        first_doc
    }];
    let indent = if own_lines { 0 } else { INDENT };
    for (op, operand) in rest {
        docs.push(Doc::Nest(
            indent,
            vec![
                line(op.span.start),
                text(format!("{} ", op.node.symbol())),
                expr_doc(operand),
            ],
        ));
    }
    docs
}

/// The parts of an `if` chain, to go into a group: broken, each `else`
/// starts a line.
fn if_chain(e: &Expr) -> Vec<Doc> {
    let mut docs = Vec::new();
    let mut current = e;
    while let ExprKind::If {
        cond,
        then,
        otherwise,
    } = &current.node
    {
        let keyword = if docs.is_empty() {
            "if "
        } else {
            docs.push(line(current.span.start));
            "else if "
        };
        // A condition that does not fit puts `then` on a line of its own.
        let cond_doc = if matches!(cond.node, ExprKind::Binary { .. }) {
            Doc::Seq(chain(cond, false))
        } else {
            expr_doc(cond)
        };
        docs.push(group(vec![
            text(keyword),
            cond_doc,
            Doc::IfBreak {
                broken: vec![Doc::Newline, text("then")],
                flat: vec![text(" then")],
            },
        ]));
        docs.push(branch(then));
        current = otherwise;
    }
    docs.push(line(current.span.start));
    docs.push(text("else"));
    docs.push(branch(current));
    docs
}

/// A branch of an `if`: after `then`/`else` if it fits, else on its own
/// line, one level in.
fn branch(e: &Expr) -> Doc {
    let mut docs = vec![line(e.span.start)];
    docs.extend(own_lines(e, false));
    group(vec![nest(docs)])
}

/// An expression that has its lines to itself (a body, a condition, a
/// branch), to go into the group that moves it there: an `if` chain breaks
/// with that group, and so does an `or`/`and` chain when `tie_logic`; any
/// other chain breaks only when it does not fit.
fn own_lines(e: &Expr, tie_logic: bool) -> Vec<Doc> {
    match &e.node {
        ExprKind::If { .. } => if_chain(e),
        ExprKind::Binary { op, .. }
            if tie_logic && matches!(op.node.precedence(), Precedence::Or | Precedence::And) =>
        {
            chain(e, true)
        }
        ExprKind::Binary { .. } => vec![group(chain(e, true))],
        _ => vec![expr_doc(e)],
    }
}

// ===========================================================================
// Lines and comments
// ===========================================================================

struct Line {
    indent: usize,
    text: String,
    /// Own-line comments and blank lines cannot take a trailing comment.
    is_code: bool,
    trailing: Option<String>,
}

struct Printer<'t> {
    text: &'t str,
    comments: Vec<Comment>,
    /// Index of the first comment not printed yet.
    next: usize,
    lines: Vec<Line>,
    /// Source offset just past the last thing printed.
    last_end: usize,
    /// No blank line may come next (start of a block, after a doc comment).
    no_blank: bool,
    /// A blank line must come before the next line.
    want_blank: bool,
}

impl<'t> Printer<'t> {
    fn new(text: &'t str, comments: Vec<Comment>) -> Self {
        Self {
            text,
            comments,
            next: 0,
            lines: Vec::new(),
            last_end: 0,
            no_blank: true,
            want_blank: false,
        }
    }

    fn finish(mut self) -> String {
        self.flush_before(self.text.len(), 0);
        let mut out = String::new();
        for line in &self.lines {
            let mut s = String::new();
            if !line.text.is_empty() {
                s.push_str(&" ".repeat(line.indent));
                s.push_str(&line.text);
            }
            if let Some(t) = &line.trailing {
                s.push(' ');
                s.push_str(t);
            }
            out.push_str(s.trim_end());
            out.push('\n');
        }
        out
    }

    fn comment_text(&self, c: &Comment) -> String {
        c.span.slice(self.text).trim_end().to_string()
    }

    /// Whether the source has an empty line between `from` and `to`.
    fn blank_in_source(&self, from: usize, to: usize) -> bool {
        let Some(between) = self.text.get(from..to) else {
            return false;
        };
        let mut newlines = 0;
        for c in between.chars() {
            match c {
                '\n' => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                ' ' | '\t' | '\r' => {}
                _ => newlines = 0,
            }
        }
        false
    }

    /// Puts a blank line before something that starts at `pos` in the
    /// source, if the layout asks for one or the source had one.
    fn blank_before(&mut self, pos: usize) {
        let wanted = self.want_blank
            || (!self.no_blank && pos >= self.last_end && self.blank_in_source(self.last_end, pos));
        let last_is_blank = self
            .lines
            .last()
            .is_none_or(|l| l.text.is_empty() && l.trailing.is_none());
        if wanted && !last_is_blank {
            self.lines.push(Line {
                indent: 0,
                text: String::new(),
                is_code: false,
                trailing: None,
            });
        }
        self.want_blank = false;
        self.no_blank = false;
    }

    fn can_trail(&self) -> bool {
        self.lines
            .last()
            .is_some_and(|l| l.is_code && l.trailing.is_none())
    }

    /// Prints comment `c` at the end of the last line if it followed code
    /// and that line can take it, else on a line of its own.
    fn place(&mut self, c: Comment, indent: usize, blank_allowed: bool) {
        let text = self.comment_text(&c);
        if !c.own_line && self.can_trail() {
            if let Some(line) = self.lines.last_mut() {
                line.trailing = Some(text);
            }
        } else {
            if blank_allowed {
                self.blank_before(c.span.start);
            }
            self.lines.push(Line {
                indent,
                text,
                is_code: false,
                trailing: None,
            });
        }
        self.last_end = self.last_end.max(c.span.end);
    }

    /// Prints the comments that start before `pos`: after the last line if
    /// they followed code on their line, else on lines of their own.
    fn flush_before(&mut self, pos: usize, indent: usize) {
        while let Some(c) = self.comments.get(self.next).copied() {
            if c.span.start >= pos {
                break;
            }
            self.next += 1;
            self.place(c, indent, true);
        }
    }

    /// Ends what was printed for source that ends at `end`: a comment inside
    /// that source which followed code stays at the end of the last line;
    /// others wait for the next flush, which keeps them in order.
    fn end(&mut self, end: usize) {
        if let Some(c) = self.comments.get(self.next).copied() {
            if c.span.start < end && !c.own_line && self.can_trail() {
                self.next += 1;
                self.place(c, 0, false);
            }
        }
        self.last_end = self.last_end.max(end);
    }

    /// Prints comments before `start`, then the line `text` for the source
    /// `start..end`.
    fn unit(&mut self, indent: usize, text: String, start: usize, end: usize) {
        self.emit(indent, Doc::Text(text), start, end);
    }

    /// Lays out `doc`, the source `start..end`, from column `indent`, with
    /// the comments inside it that have a place to break after them. Returns
    /// the lines and how many comments they took.
    fn layout(
        &self,
        doc: &mut Doc,
        indent: usize,
        start: usize,
        end: usize,
    ) -> (Vec<OutLine>, usize) {
        let mut ats = Vec::new();
        number_lines(doc, &mut ats);
        let mut attached: Vec<Vec<Comment>> = vec![Vec::new(); ats.len()];
        let first = self.comments.partition_point(|c| c.span.start < start);
        let mut taken = 0;
        let mut place = 0;
        for c in &self.comments[first..] {
            if c.span.start >= end {
                break;
            }
            while place < ats.len() && ats[place] <= c.span.start {
                place += 1;
            }
            let Some(slot) = attached.get_mut(place) else {
                break;
            };
            slot.push(*c);
            taken += 1;
        }
        let hard: Vec<bool> = attached.iter().map(|a| !a.is_empty()).collect();
        force_groups(doc, &hard);
        (render(doc, indent, &hard, attached), taken)
    }

    /// How many lines `doc` takes (comments on lines of their own aside).
    fn height(&self, mut doc: Doc, start: usize, end: usize) -> usize {
        self.layout(&mut doc, 0, start, end).0.len()
    }

    /// Prints comments before `start`, then `doc` for the source
    /// `start..end` from column `indent`.
    fn emit(&mut self, indent: usize, mut doc: Doc, start: usize, end: usize) {
        self.flush_before(start, indent);
        self.blank_before(start);
        let (lines, taken) = self.layout(&mut doc, indent, start, end);
        self.next += taken;
        let indents: Vec<usize> = lines.iter().map(|l| l.indent).collect();
        for (i, line) in lines.into_iter().enumerate() {
            self.lines.push(Line {
                indent: line.indent,
                text: line.text,
                is_code: true,
                trailing: None,
            });
            let next_indent = indents.get(i + 1).copied().unwrap_or(line.indent);
            for c in line.comments {
                self.place(c, next_indent, false);
            }
        }
        self.end(end);
    }

    // -----------------------------------------------------------------------
    // Declarations
    // -----------------------------------------------------------------------

    fn file(&mut self, file: &File) {
        let mut prev_tall = false;
        for (i, item) in file.items.iter().enumerate() {
            // Blocks and declarations spread over several lines stand apart.
            let tall = match &item.kind {
                ItemKind::Scale(_) | ItemKind::Rule(_) => true,
                _ => self.height(item_doc(item), item.span.start, item.span.end) > 1,
            };
            if i > 0 && (tall || prev_tall) {
                self.want_blank = true;
            }
            self.item(item);
            prev_tall = tall;
        }
    }

    fn item(&mut self, item: &Node<Item>) {
        if let Some(doc) = &item.doc {
            // Comments between doc lines move above the doc comment.
            self.flush_before(doc.span.end, 0);
            self.blank_before(doc.span.start);
            for line in doc.split('\n') {
                let text = if line.is_empty() {
                    "///".to_string()
                } else {
                    format!("/// {line}")
                };
                self.lines.push(Line {
                    indent: 0,
                    text,
                    is_code: false,
                    trailing: None,
                });
            }
            self.last_end = doc.span.end;
            self.no_blank = true;
            self.flush_before(item.span.start, 0);
            self.no_blank = true;
        }
        let span = item.span;
        match &item.kind {
            ItemKind::Param(_) | ItemKind::Fn(_) | ItemKind::Derive(_) => {
                self.emit(0, item_doc(item), span.start, span.end);
            }
            ItemKind::Scale(s) => {
                let open = self.brace_after(s.name.span.end, span.end);
                self.unit(0, format!("scale {} {{", s.name), span.start, open);
                self.no_blank = true;
                for entry in &s.entries {
                    let text = format!("{} = {}", entry.label, scale_entry(&entry.kind));
                    self.unit(INDENT, text, entry.span.start, entry.span.end);
                }
                self.close_block(span);
            }
            ItemKind::Rule(r) => {
                let mut docs = vec![text(format!("rule {} for ", r.id))];
                let mut header_end = r.scope.span.end;
                match &r.scope.node {
                    Scope::Entity(e) => docs.push(text(e.as_str())),
                    Scope::Group { entity, key } => {
                        docs.push(text(format!("group {entity} by ")));
                        docs.push(expr_doc(key));
                    }
                }
                if let Some(filter) = &r.filter {
                    let filter_docs = vec![
                        line(filter.span.start),
                        text("where "),
                        after_keyword(filter, false),
                    ];
                    docs.push(nest(filter_docs));
                    // A broken header ends with `{` on a line of its own.
                    docs.push(Doc::IfBreak {
                        broken: vec![Doc::Newline, text("{")],
                        flat: vec![text(" {")],
                    });
                    header_end = filter.span.end;
                } else {
                    docs.push(text(" {"));
                }
                let open = self.brace_after(header_end, span.end);
                self.emit(0, group(docs), span.start, open);
                self.no_blank = true;
                for clause in &r.clauses {
                    self.emit(
                        INDENT,
                        clause_doc(&clause.node),
                        clause.span.start,
                        clause.span.end,
                    );
                }
                self.close_block(span);
            }
        }
    }

    /// The end of the `{` that follows `from` (only blanks and comments lie
    /// between), or `from` if there is none.
    fn brace_after(&self, from: usize, limit: usize) -> usize {
        let mut at = from;
        while at < limit {
            let rest = self.text.get(at..limit).unwrap_or("");
            if rest.starts_with('{') {
                return at + 1;
            }
            if rest.starts_with("//") {
                at += rest.find('\n').unwrap_or(rest.len());
            } else {
                at += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        from
    }

    fn close_block(&mut self, span: Span) {
        let close = span.end.saturating_sub(1);
        self.flush_before(close, INDENT);
        self.no_blank = true;
        self.unit(0, "}".to_string(), close, span.end);
    }
}

fn scale_entry(kind: &ScaleEntryKind) -> String {
    match kind {
        ScaleEntryKind::Missing => "missing".to_string(),
        ScaleEntryKind::State => "state".to_string(),
        ScaleEntryKind::Band(b) => {
            let mut out = String::new();
            if let Some(lo) = &b.lo {
                out.push_str(&expr_to_string(lo));
                out.push(' ');
            }
            out.push_str(if b.hi_inclusive { "..=" } else { ".." });
            if let Some(hi) = &b.hi {
                out.push(' ');
                out.push_str(&expr_to_string(hi));
            }
            out
        }
    }
}

/// A `param`, `fn` or `derive`: `HEADER BODY` on one line, or the body on
/// the lines after the header, indented.
fn item_doc(item: &Node<Item>) -> Doc {
    let (header, body) = match &item.kind {
        ItemKind::Param(p) => (param_header(p), &p.default),
        ItemKind::Fn(f) => (fn_header(f), &f.body),
        ItemKind::Derive(d) => (derive_header(d), &d.body),
        ItemKind::Scale(_) | ItemKind::Rule(_) => unreachable!("blocks are printed line by line"),
    };
    let mut body_docs = vec![line(body.span.start)];
    body_docs.extend(own_lines(body, true));
    group(vec![text(header), nest(body_docs)])
}

/// An expression that has the rest of a line after a keyword to itself
/// (`when …`, `where …`): an operator chain or an `if` chain lines its lines
/// up under its start, anything else breaks as on a line of its own. With
/// `tie`, its `if` or `or`/`and` chain breaks with the enclosing group,
/// else only when it does not fit.
fn after_keyword(e: &Expr, tie: bool) -> Doc {
    let docs = if tie {
        own_lines(e, true)
    } else {
        vec![group(own_lines(e, false))]
    };
    if matches!(e.node, ExprKind::Binary { .. } | ExprKind::If { .. }) {
        Doc::Align(docs)
    } else {
        Doc::Seq(docs)
    }
}

/// A clause of a rule, from the rule's indentation.
fn clause_doc(clause: &Clause) -> Doc {
    let keyword = clause.kind().keyword();
    match clause {
        Clause::Title(s)
        | Clause::Message(s)
        | Clause::Help(s)
        | Clause::Rationale(s)
        | Clause::Reference(s) => text(format!("{keyword} {}", template_to_string(s))),
        Clause::Severity(s) => text(format!("{keyword} {}", s.keyword())),
        Clause::When(e) | Clause::Suggest(e) => {
            group(vec![text(format!("{keyword} ")), after_keyword(e, true)])
        }
        Clause::Tags(tags) => {
            let mut inner = Vec::new();
            for (i, tag) in tags.iter().enumerate() {
                if i > 0 {
                    inner.push(text(","));
                    inner.push(line(tag.span.start));
                } else {
                    inner.push(softline(tag.span.start));
                }
                inner.push(text(template_to_string(tag)));
            }
            let Some(last) = tags.last() else {
                return text(format!("{keyword} []"));
            };
            // The `]` follows the last tag (and perhaps a comma).
            group(vec![
                text(format!("{keyword} [")),
                nest(inner),
                softline(last.span.end),
                text("]"),
            ])
        }
    }
}

fn param_header(p: &crate::ast::Param) -> String {
    format!("param {}: {} =", p.name, type_to_string(&p.ty))
}

fn fn_header(f: &crate::ast::FnDecl) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_to_string(&p.ty)))
        .collect();
    format!(
        "fn {}({}): {} =",
        f.name,
        params.join(", "),
        type_to_string(&f.ret)
    )
}

fn derive_header(d: &crate::ast::Derive) -> String {
    format!(
        "derive {} for {}: {} =",
        d.name,
        d.entity,
        type_to_string(&d.ty)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_count_double() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("未算出"), 6);
    }
}
