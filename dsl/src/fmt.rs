//! The formatter: one canonical layout for rule files, keeping every comment.
//!
//! It prints the syntax tree ([`crate::ast`]) back as text and puts the
//! comments (which the tree does not hold; [`crate::syntax::comments`] finds
//! them) back by position: a comment that followed code on its line stays at
//! the end of the line that now holds that code, a comment on its own line
//! stays on its own line before the code that followed it.
//!
//! The layout: 4-space indentation; one declaration after another, with a
//! blank line around scales and rules and wherever the source had one (at
//! most one); one clause per line in rules and one band per line in scales;
//! spaces around binary operators; a `when` condition, or a declaration's
//! body, longer than [`WIDTH`] columns (or with comments between its parts)
//! is broken before each `or`/`and`, an `if` chain before each `else`.
//!
//! **Invariants**: `format(format(x)) == format(x)`, and `format(x)` parses to
//! the same tree as `x` with the same comments in the same order. The
//! formatter never changes what a file means: it refuses files with syntax
//! errors rather than guessing.

use crate::ast::{
    escape_text, BinaryOp, Clause, Expr, ExprKind, File, Item, ItemKind, ScaleEntryKind, Scope,
    Template, TemplatePart, TypeExpr,
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
            if op.node == crate::ast::UnaryOp::Not {
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
// Lines and comments
// ===========================================================================

struct Line {
    indent: usize,
    text: String,
    /// Own-line comments and blank lines cannot take a trailing comment.
    is_code: bool,
    trailing: Option<String>,
}

/// One line of a broken-up construct, with the source range it came from.
struct Seg {
    indent: usize,
    text: String,
    start: usize,
    end: usize,
}

struct Printer<'t> {
    text: &'t str,
    comments: Vec<Comment>,
    /// Index of the first comment not printed yet.
    next: usize,
    lines: Vec<Line>,
    /// Source offset just past the last thing printed.
    last_end: usize,
    /// No blank line may come next (start of a block, after a doc comment,
    /// inside an expression).
    no_blank: bool,
    /// A blank line must come before the next line.
    want_blank: bool,
    /// Printing the lines of one broken expression: no blank lines at all.
    in_expr: bool,
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
            in_expr: false,
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
        let wanted = !self.in_expr
            && (self.want_blank
                || (!self.no_blank
                    && pos >= self.last_end
                    && self.blank_in_source(self.last_end, pos)));
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

    /// Prints the comments that start before `pos`: after the last line if
    /// they followed code on their line, else on lines of their own.
    fn flush_before(&mut self, pos: usize, indent: usize) {
        while let Some(c) = self.comments.get(self.next).copied() {
            if c.span.start >= pos {
                break;
            }
            self.next += 1;
            let text = self.comment_text(&c);
            if !c.own_line && self.can_trail() {
                if let Some(line) = self.lines.last_mut() {
                    line.trailing = Some(text);
                }
            } else {
                self.blank_before(c.span.start);
                self.lines.push(Line {
                    indent,
                    text,
                    is_code: false,
                    trailing: None,
                });
            }
            self.last_end = self.last_end.max(c.span.end);
        }
    }

    /// Ends a line printed for source that ends at `end`: a comment inside
    /// that source which followed code stays at the end of the line; others
    /// wait for the next flush, which keeps them in order.
    fn end(&mut self, end: usize) {
        if let Some(c) = self.comments.get(self.next).copied() {
            if c.span.start < end && !c.own_line && self.can_trail() {
                self.next += 1;
                let text = self.comment_text(&c);
                if let Some(line) = self.lines.last_mut() {
                    line.trailing = Some(text);
                }
            }
        }
        self.last_end = self.last_end.max(end);
    }

    /// Prints comments before `start`, then the line `text` for the source
    /// `start..end`.
    fn unit(&mut self, indent: usize, text: String, start: usize, end: usize) {
        self.flush_before(start, indent);
        self.blank_before(start);
        self.lines.push(Line {
            indent,
            text,
            is_code: true,
            trailing: None,
        });
        self.end(end);
    }

    fn segments(&mut self, segs: Vec<Seg>) {
        for (i, seg) in segs.into_iter().enumerate() {
            self.in_expr = i > 0;
            self.unit(seg.indent, seg.text, seg.start, seg.end);
        }
        self.in_expr = false;
    }

    /// Whether a comment starts inside `from..to`.
    fn has_comment_in(&self, from: usize, to: usize) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.span.start >= from && c.span.start < to)
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
                ItemKind::Param(p) => self.broken_body(&param_header(p), &p.default, item.span),
                ItemKind::Fn(f) => self.broken_body(&fn_header(f), &f.body, item.span),
                ItemKind::Derive(d) => self.broken_body(&derive_header(d), &d.body, item.span),
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
            ItemKind::Param(p) => self.declaration(param_header(p), &p.default, span),
            ItemKind::Fn(f) => self.declaration(fn_header(f), &f.body, span),
            ItemKind::Derive(d) => self.declaration(derive_header(d), &d.body, span),
            ItemKind::Scale(s) => {
                let open = self.brace_after(s.name.span.end, span.end);
                self.unit(0, format!("scale {} {{", s.name), span.start, open);
                self.no_blank = true;
                for entry in &s.entries {
                    let text = format!("{} = {}", entry.label, self.scale_entry(&entry.kind));
                    self.unit(INDENT, text, entry.span.start, entry.span.end);
                }
                self.close_block(span);
            }
            ItemKind::Rule(r) => {
                let mut header = format!("rule {} for ", r.id);
                let mut header_end = r.scope.span.end;
                match &r.scope.node {
                    Scope::Entity(e) => header.push_str(e),
                    Scope::Group { entity, key } => {
                        header.push_str(&format!("group {entity} by {}", expr_to_string(key)));
                    }
                }
                if let Some(filter) = &r.filter {
                    header.push_str(" where ");
                    header.push_str(&expr_to_string(filter));
                    header_end = filter.span.end;
                }
                header.push_str(" {");
                let open = self.brace_after(header_end, span.end);
                self.unit(0, header, span.start, open);
                self.no_blank = true;
                for clause in &r.clauses {
                    self.clause(clause);
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

    fn scale_entry(&self, kind: &ScaleEntryKind) -> String {
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

    /// Whether `HEADER BODY` goes on several lines: when it does not fit on
    /// one, or a comment sits between its parts.
    fn broken_body(&self, header: &str, body: &Expr, span: Span) -> bool {
        let flat = width(header) + 1 + width(&expr_to_string(body));
        let segs = body_segments(body, INDENT);
        let last_start = segs.last().map_or(body.span.start, |s| s.start);
        flat > WIDTH || self.has_comment_in(span.start, last_start)
    }

    /// `HEADER BODY` on one line, or the header and then the body broken into
    /// lines (see [`body_segments`]).
    fn declaration(&mut self, header: String, body: &Expr, span: Span) {
        if !self.broken_body(&header, body, span) {
            let flat = format!("{header} {}", expr_to_string(body));
            self.unit(0, flat, span.start, span.end);
            return;
        }
        let mut segs = body_segments(body, INDENT);
        self.unit(0, header, span.start, span.start);
        if let Some(last) = segs.last_mut() {
            last.end = span.end;
        }
        self.segments(segs);
    }

    fn clause(&mut self, clause: &Node<Clause>) {
        let span = clause.span;
        let keyword = clause.kind().keyword();
        let text = match &clause.node {
            Clause::Title(s)
            | Clause::Message(s)
            | Clause::Help(s)
            | Clause::Rationale(s)
            | Clause::Reference(s) => format!("{keyword} {}", template_to_string(s)),
            Clause::Severity(s) => format!("{keyword} {}", s.keyword()),
            Clause::Suggest(e) => format!("{keyword} {}", expr_to_string(e)),
            Clause::Tags(tags) => {
                let tags: Vec<String> = tags.iter().map(|t| template_to_string(t)).collect();
                format!("{keyword} [{}]", tags.join(", "))
            }
            Clause::When(e) => {
                let flat = format!("when {}", expr_to_string(e));
                let operands = chain_operands(e);
                let last_start = operands.last().map_or(e.span.start, |(_, o)| o.span.start);
                let breaks = operands.len() > 1
                    && (INDENT + width(&flat) > WIDTH
                        || self.has_comment_in(span.start, last_start));
                if !breaks {
                    flat
                } else {
                    let segs = self.chain_segments(e, span.start, INDENT, "when ", INDENT + 5);
                    self.segments(segs);
                    return;
                }
            }
        };
        self.unit(INDENT, text, span.start, span.end);
    }

    /// The lines of a broken `or`/`and` chain: the first operand after
    /// `first_prefix` at `indent`, the others at `cont` after their operator.
    /// An `and` chain inside an `or` operand is broken again, 4 columns
    /// further in, if its line is too long or holds comments.
    fn chain_segments(
        &self,
        e: &Expr,
        start: usize,
        indent: usize,
        first_prefix: &str,
        cont: usize,
    ) -> Vec<Seg> {
        let operands = chain_operands(e);
        let mut segs = Vec::new();
        for (i, (op, operand)) in operands.iter().enumerate() {
            let (line_indent, prefix) = if i == 0 {
                (indent, first_prefix.to_string())
            } else {
                (cont, format!("{} ", op.map_or("", BinaryOp::symbol)))
            };
            let seg_start = if i == 0 { start } else { operand.span.start };
            let inner = match (op, &operand.node) {
                (Some(BinaryOp::Or) | None, ExprKind::Binary { op: inner_op, .. })
                    if inner_op.node == BinaryOp::And && top_op(e) == Some(BinaryOp::Or) =>
                {
                    chain_operands(operand)
                }
                _ => Vec::new(),
            };
            let line = format!("{prefix}{}", expr_to_string(operand));
            let inner_last = inner
                .last()
                .map_or(operand.span.start, |(_, o)| o.span.start);
            let nested = inner.len() > 1
                && (line_indent + width(&line) > WIDTH
                    || self.has_comment_in(seg_start, inner_last));
            if nested {
                for (j, (inner_op, inner_operand)) in inner.iter().enumerate() {
                    let (ind, text, s) = if j == 0 {
                        (
                            line_indent,
                            format!("{prefix}{}", expr_to_string(inner_operand)),
                            seg_start,
                        )
                    } else {
                        (
                            cont + INDENT,
                            format!(
                                "{} {}",
                                inner_op.map_or("", BinaryOp::symbol),
                                expr_to_string(inner_operand)
                            ),
                            inner_operand.span.start,
                        )
                    };
                    segs.push(Seg {
                        indent: ind,
                        text,
                        start: s,
                        end: inner_operand.span.end,
                    });
                }
            } else {
                segs.push(Seg {
                    indent: line_indent,
                    text: line,
                    start: seg_start,
                    end: operand.span.end,
                });
            }
        }
        segs
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

/// The top-level operator of an `or` / `and` chain.
fn top_op(e: &Expr) -> Option<BinaryOp> {
    match &e.node {
        ExprKind::Binary { op, .. } if matches!(op.node, BinaryOp::Or | BinaryOp::And) => {
            Some(op.node)
        }
        _ => None,
    }
}

/// The operands of the chain of `e`'s top-level `or` (or `and`), each with
/// the operator before it; a single operand when `e` is no such chain.
fn chain_operands(e: &Expr) -> Vec<(Option<BinaryOp>, &Expr)> {
    let Some(op) = top_op(e) else {
        return vec![(None, e)];
    };
    let mut rights = Vec::new();
    let mut current = e;
    // Left-associative: walk down the left spine without recursion.
    while let ExprKind::Binary { op: o, lhs, rhs } = &current.node {
        if o.node != op {
            break;
        }
        rights.push(&**rhs);
        current = lhs;
    }
    let mut out = vec![(None, current)];
    out.extend(rights.into_iter().rev().map(|r| (Some(op), r)));
    out
}

/// The lines of a declaration's body when it does not fit on the header's
/// line: an `if` chain one branch per line, an `or`/`and` chain one operand
/// per line, anything else on one line.
fn body_segments(body: &Expr, indent: usize) -> Vec<Seg> {
    if let ExprKind::If { .. } = body.node {
        let mut segs = Vec::new();
        let mut current = body;
        let mut prefix = "";
        while let ExprKind::If {
            cond,
            then,
            otherwise,
        } = &current.node
        {
            segs.push(Seg {
                indent,
                text: format!(
                    "{prefix}if {} then {}",
                    expr_to_string(cond),
                    expr_to_string(then)
                ),
                start: current.span.start,
                end: then.span.end,
            });
            prefix = "else ";
            current = otherwise;
        }
        segs.push(Seg {
            indent,
            text: format!("else {}", expr_to_string(current)),
            start: current.span.start,
            end: current.span.end,
        });
        return segs;
    }
    chain_operands(body)
        .into_iter()
        .map(|(op, operand)| Seg {
            indent,
            text: match op {
                Some(op) => format!("{} {}", op.symbol(), expr_to_string(operand)),
                None => expr_to_string(operand),
            },
            start: operand.span.start,
            end: operand.span.end,
        })
        .collect()
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
