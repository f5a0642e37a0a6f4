//! The HTML format: one self-contained file (styles and SVG charts inline,
//! nothing fetched), `lang="ja"`, readable on a phone (wide tables scroll
//! sideways inside their own box) and printable (A4, no navigation, tables
//! and charts not split across pages). Tables carry a `<caption>` and
//! `<th scope>` headers; every chart has a caption and a text alternative,
//! and its numbers are in the table next to it.

use std::fmt::Write as _;

use super::chart::grade_colors;
use super::data::ReportData;
use super::layout::{layout, Block, Table};

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light; --line: #c8c8c8; --head: #f0f0f0; --muted: #555; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; line-height: 1.6; color: #111; background: #fff;
  font-family: "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic", Meiryo, sans-serif; }
h1 { font-size: 1.6rem; border-bottom: 3px solid #0072B2; padding-bottom: .3rem; }
h2 { font-size: 1.35rem; margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
h3 { font-size: 1.15rem; margin-top: 2rem; }
h4 { font-size: 1.05rem; margin-top: 1.5rem; }
h5 { font-size: 1rem; margin-top: 1.25rem; }
nav { background: #f7f7f7; border: 1px solid var(--line); padding: .5rem 1rem; }
nav ul { margin: .25rem 0; padding-left: 1.25rem; }
.note { border-left: 4px solid #E69F00; background: #fff8e6; padding: .5rem .75rem; margin: .75rem 0; }
.table-wrap { overflow-x: auto; margin: .75rem 0; }
.table-wrap:focus { outline: 2px solid #0072B2; }
table { border-collapse: collapse; font-size: .9rem; min-width: min(100%, 26rem); }
caption { text-align: left; font-weight: bold; padding: .25rem 0; caption-side: top; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; vertical-align: top; }
thead th { background: var(--head); white-space: nowrap; }
th[scope=row] { text-align: left; font-weight: normal; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.total th, tr.total td { font-weight: bold; background: #fafafa; }
.grade { text-align: center; font-weight: bold; white-space: nowrap; }
.columns { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.column { flex: 1 1 26rem; min-width: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 30rem), 1fr)); gap: 1rem; }
figure { margin: .75rem 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: var(--muted); }
pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; }
ul ul { margin: .1rem 0 .4rem; }
@media (max-width: 40rem) { body { padding: .5rem; } table { font-size: .8rem; } }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  nav { display: none; }
  .table-wrap { overflow: visible; }
  table { font-size: 8.5pt; }
  tr, figure, .note { break-inside: avoid; }
  .grade, .note, tr.total th, tr.total td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2, h3, h4, h5 { break-after: avoid; }
  .charts, .columns { display: block; }
  figure svg { max-width: 16cm; }
}
"#;

/// Renders the report as one HTML file.
pub fn render(d: &ReportData) -> String {
    let labels = d.scale.as_ref().map(|s| s.labels()).unwrap_or_default();
    let colors = grade_colors(&labels, d.scale.as_ref());
    let mut out = String::new();
    let title = format!("年次評価報告書 {}年度", d.year);
    out.push_str("<!DOCTYPE html>\n<html lang=\"ja\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"hyoka {}\">",
        esc(&d.provenance.tool_version)
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&title));
    out.push_str("<style>");
    out.push_str(STYLE);
    for (i, c) in colors.iter().enumerate() {
        // A light tint of the chart colour behind the grade, dark text.
        let _ = writeln!(
            out,
            ".g{i} {{ background: {c}33; box-shadow: inset 4px 0 0 {c}; }}"
        );
    }
    out.push_str("</style>\n</head>\n<body>\n");
    render_blocks(&mut out, &layout(d, true), d.changes.is_some());
    out.push_str("</body>\n</html>\n");
    out
}

/// Renders `blocks`; `changes` says whether the report has a changes
/// section (for the table of contents).
fn render_blocks(out: &mut String, blocks: &[Block], changes: bool) {
    let mut i = 0;
    while i < blocks.len() {
        match &blocks[i] {
            Block::Heading { level, text, id } => {
                let id = id
                    .as_ref()
                    .map(|x| format!(" id=\"{}\"", esc(x)))
                    .unwrap_or_default();
                let _ = writeln!(out, "<h{level}{id}>{}</h{level}>", esc(text));
            }
            Block::Para(t) => {
                let _ = writeln!(out, "<p>{}</p>", esc(t));
            }
            Block::Note(t) => {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(t));
            }
            Block::List(items) => {
                if !items.is_empty() {
                    out.push_str("<ul>\n");
                    for it in items {
                        let _ = write!(out, "<li>{}", esc(&it.text));
                        if !it.children.is_empty() {
                            out.push_str("\n<ul>\n");
                            for c in &it.children {
                                let _ = writeln!(out, "<li>{}</li>", esc(c));
                            }
                            out.push_str("</ul>\n");
                        }
                        out.push_str("</li>\n");
                    }
                    out.push_str("</ul>\n");
                }
            }
            Block::Table(t) => table(out, t),
            Block::Columns(columns) => {
                out.push_str("<div class=\"columns\">\n");
                for c in columns {
                    out.push_str("<div class=\"column\">\n");
                    render_blocks(out, c, changes);
                    out.push_str("</div>\n");
                }
                out.push_str("</div>\n");
            }
            Block::Chart { .. } => {
                // A run of charts shares one grid.
                out.push_str("<div class=\"charts\">\n");
                while let Some(Block::Chart { svg, caption }) = blocks.get(i) {
                    figure(out, svg, caption);
                    i += 1;
                }
                out.push_str("</div>\n");
                continue;
            }
            Block::Code(c) => {
                let _ = writeln!(out, "<pre><code>{}</code></pre>", esc(c));
            }
            Block::Contents(entries) => {
                out.push_str("<nav aria-label=\"目次\">\n<strong>目次</strong>\n<ul>\n");
                out.push_str("<li><a href=\"#plans\">計画別の評価</a>\n<ul>\n");
                for (anchor, name) in entries {
                    let _ = writeln!(
                        out,
                        "<li><a href=\"#{}\">{}</a></li>",
                        esc(anchor),
                        esc(name)
                    );
                }
                out.push_str("</ul></li>\n");
                for (anchor, name) in [
                    ("departments", "担当所属別の評価"),
                    ("review", "スクラップ＆ビルド: 見直しの提案"),
                    ("findings", "整合性・データ品質の指摘"),
                ] {
                    let _ = writeln!(out, "<li><a href=\"#{anchor}\">{name}</a></li>");
                }
                if changes {
                    out.push_str("<li><a href=\"#changes\">前年度からの変化</a></li>\n");
                }
                out.push_str(
                    "<li><a href=\"#provenance\">再現のための情報</a></li>\n</ul>\n</nav>\n",
                );
            }
        }
        i += 1;
    }
}

fn figure(out: &mut String, svg: &str, caption: &str) {
    if svg.is_empty() {
        return;
    }
    // The chart is an image to assistive technology, named by its caption;
    // its numbers are in the neighbouring table.
    let svg = svg.trim_end().replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(caption)),
        1,
    );
    let _ = writeln!(
        out,
        "<figure>\n{svg}\n<figcaption>{}</figcaption>\n</figure>",
        esc(caption)
    );
}

fn table(out: &mut String, t: &Table) {
    let _ = writeln!(
        out,
        "<div class=\"table-wrap\" role=\"region\" tabindex=\"0\" aria-label=\"{}\">",
        esc(&t.caption)
    );
    let _ = writeln!(out, "<table>\n<caption>{}</caption>", esc(&t.caption));
    out.push_str("<thead><tr>");
    for c in &t.columns {
        let class = if c.numeric { " class=\"num\"" } else { "" };
        let _ = write!(out, "<th scope=\"col\"{class}>{}</th>", esc(&c.title));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in &t.rows {
        out.push_str(if r.total {
            "<tr class=\"total\">"
        } else {
            "<tr>"
        });
        for (i, c) in r.cells.iter().enumerate() {
            let numeric = t.columns.get(i).is_some_and(|c| c.numeric);
            if i == 0 {
                let class = c
                    .grade
                    .map(|g| format!(" class=\"grade g{g}\""))
                    .unwrap_or_default();
                let _ = write!(out, "<th scope=\"row\"{class}>{}</th>", esc(&c.text));
                continue;
            }
            let class = match (c.grade, numeric) {
                (Some(g), _) => format!(" class=\"grade g{g}\""),
                (None, true) => " class=\"num\"".to_string(),
                (None, false) => String::new(),
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(&c.text));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</div>\n");
}
