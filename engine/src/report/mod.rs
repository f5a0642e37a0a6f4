//! The annual review report (年次評価報告書): what an evaluation says, laid
//! out for the plan committee, the council and the public.
//!
//! Two stages, kept apart: [`build`] turns an [`crate::eval::Evaluation`]
//! (and optionally the evaluation of the year before) into [`ReportData`],
//! pure data with everything counted, grouped and sorted; [`render`] lays
//! that data out in one [`Format`]. Rendering never evaluates, and building
//! never formats a page.
//!
//! ```text
//! Evaluation (+ previous year) --build--> ReportData --render--> Markdown | HTML | CSV | JSON | text
//! ```
//!
//! **Invariant:** the same input gives the same bytes. Everything is sorted
//! (plans by id, entities in file order, departments by name), no clock or
//! random number is read, and hashes are of file contents.
//!
//! This module writes no files: the command line does, atomically.

mod build;
mod chart;
mod csv_file;
pub mod data;
mod html;
mod layout;
mod markdown;
mod terminal;
mod text_fmt;

pub use build::{build, Sources, UNCATEGORISED};
pub use data::{ReportData, SCHEMA_VERSION};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// `report.md`: the full report as Markdown (no charts).
    Markdown,
    /// `report.html`: the full report, one self-contained file with charts.
    Html,
    /// `report.csv`: one row per indicator.
    Csv,
    /// `report.json`: [`ReportData`], schema `docs/report-schema.json`.
    Json,
    /// The terminal summary.
    Text,
}

impl Format {
    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Text => "txt",
        }
    }
}

/// Options of the renderers.
#[derive(Clone, Copy, Debug, Default)]
pub struct RenderOptions {
    /// CSV: start with a UTF-8 byte-order mark (for Excel).
    pub bom: bool,
    /// Text: ANSI colours.
    pub color: bool,
}

/// Renders `data` in `format`.
pub fn render(data: &ReportData, format: Format, opts: RenderOptions) -> Vec<u8> {
    match format {
        Format::Markdown => {
            let mut s = markdown::render(data);
            s.push('\n');
            s.into_bytes()
        }
        Format::Html => html::render(data).into_bytes(),
        Format::Csv => csv_file::render(data, opts.bom),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(data).unwrap_or_default();
            s.push('\n');
            s.into_bytes()
        }
        Format::Text => terminal::render(data, opts.color).into_bytes(),
    }
}
