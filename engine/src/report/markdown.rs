//! The Markdown format: the shared layout as CommonMark with GitHub tables.
//! Charts are left out (their numbers are in the tables).

use super::data::ReportData;
use super::layout::{layout, Block, Table};

/// Renders the report as Markdown.
pub fn render(d: &ReportData) -> String {
    let mut out = String::new();
    blocks(&mut out, layout(d, false));
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn blocks(out: &mut String, list: Vec<Block>) {
    for b in list {
        match b {
            Block::Heading { level, text, .. } => {
                out.push_str(&"#".repeat(level as usize));
                out.push(' ');
                out.push_str(&inline(&text));
                out.push_str("\n\n");
            }
            Block::Para(t) => {
                out.push_str(&inline(&t));
                out.push_str("\n\n");
            }
            Block::Note(t) => {
                out.push_str("> ");
                out.push_str(&inline(&t));
                out.push_str("\n\n");
            }
            Block::List(items) => {
                if items.is_empty() {
                    continue;
                }
                for i in items {
                    out.push_str("- ");
                    out.push_str(&inline(&i.text));
                    out.push('\n');
                    for c in &i.children {
                        out.push_str("  - ");
                        out.push_str(&inline(c));
                        out.push('\n');
                    }
                }
                out.push('\n');
            }
            Block::Table(t) => table(out, &t),
            Block::Columns(columns) => {
                for c in columns {
                    blocks(out, c);
                }
            }
            Block::Chart { .. } => {}
            Block::Code(c) => {
                out.push_str("```sh\n");
                out.push_str(&c);
                out.push_str("\n```\n\n");
            }
            Block::Contents(entries) => {
                out.push_str("計画:\n\n");
                for (anchor, name) in entries {
                    let _ = anchor;
                    out.push_str("- ");
                    out.push_str(&inline(&name));
                    out.push('\n');
                }
                out.push('\n');
            }
        }
    }
}

/// Text safe in a Markdown paragraph or table cell: no line breaks, and
/// the characters that would start markup escaped (`_` is left alone: the
/// rule ids have it inside words, where it starts no emphasis).
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '<' | '[' | ']' | '|' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn table(out: &mut String, t: &Table) {
    out.push_str(&format!("**{}**\n\n", inline(&t.caption)));
    out.push('|');
    for c in &t.columns {
        out.push(' ');
        out.push_str(&inline(&c.title));
        out.push_str(" |");
    }
    out.push_str("\n|");
    for c in &t.columns {
        out.push_str(if c.numeric { " --: |" } else { " --- |" });
    }
    out.push('\n');
    for r in &t.rows {
        out.push('|');
        for (i, c) in r.cells.iter().enumerate() {
            out.push(' ');
            let text = inline(&c.text);
            if r.total && i == 0 {
                out.push_str(&format!("**{text}**"));
            } else {
                out.push_str(&text);
            }
            out.push_str(" |");
        }
        out.push('\n');
    }
    out.push('\n');
}
