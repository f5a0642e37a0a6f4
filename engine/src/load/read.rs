//! Reads the TOML of one plan file into a [`FileDraft`]: typed values with
//! spans, references between entities still as written (ids as text).
//!
//! Pure: text in, draft and diagnostics out. It does not resolve references
//! across entities or files (that is [`super::resolve`]) and never touches
//! the filesystem. Every problem is collected; reading goes on after one.

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diagnostic::{PlanDiagnostic, Severity};
use crate::model::*;
use crate::year::{self, YearError};

type Value<'i> = Spanned<DeValue<'i>>;

/// One file's content before references are resolved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FileDraft {
    /// The `[plan]` table; `None` when the file has none.
    pub plan: Option<PlanDraft>,
    pub externals: Vec<ExternalPlan>,
    pub nodes: Vec<NodeDraft>,
    pub projects: Vec<ProjectDraft>,
    pub indicators: Vec<IndicatorDraft>,
    /// Goals, policies, measures, projects and indicators whose table is
    /// invalid (already reported). They stay out of the corpus, but their
    /// ids are known, so references to them are not reported a second time,
    /// and their own references are still checked.
    pub broken: Vec<BrokenDraft>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct PlanDraft {
    /// `None` when the `[plan]` table is invalid (already reported); the
    /// file's other entities are then checked against a placeholder plan.
    pub plan: Option<Plan>,
    /// The plan id as written, also when the table is otherwise invalid.
    pub id: Option<Located<String>>,
    pub parent: Option<Located<String>>,
}

/// What a [`BrokenDraft`] was meant to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntityKind {
    Node(Level),
    Project,
    Indicator,
}

/// An entity whose table is invalid: what is needed to check the references
/// from and to it.
#[derive(Debug, Serialize, Deserialize)]
pub struct BrokenDraft {
    pub kind: EntityKind,
    pub id: Option<Located<String>>,
    pub under: Option<Located<String>>,
    pub relisted_from: Option<Located<String>>,
    pub links: Vec<LinkDraft>,
    pub replaced_by: Vec<Located<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct NodeDraft {
    pub node: Node,
    pub under: Option<Located<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ProjectDraft {
    pub project: Project,
    pub under: Option<Located<String>>,
    pub relisted_from: Option<Located<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LinkDraft {
    pub plan: Located<String>,
    pub indicator: Located<String>,
    pub target_differs: Option<Located<String>>,
    pub span: Span,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct IndicatorDraft {
    pub indicator: Indicator,
    pub under: Option<Located<String>>,
    /// The indicator's own year basis; the plan's applies when absent.
    pub year_basis: Option<YearBasis>,
    pub links: Vec<LinkDraft>,
    /// `by` of each revision marker, in the order of `indicator.revisions`.
    pub replaced_by: Vec<Option<Located<String>>>,
}

/// Reads one file. `file` is its index in the corpus; `diagnostics`
/// receives every problem found.
pub fn read_file(
    file: FileId,
    source: &SourceFile,
    diagnostics: &mut Vec<PlanDiagnostic>,
) -> FileDraft {
    let mut r = Reader {
        file,
        source,
        errors: diagnostics,
        broken: Vec::new(),
    };
    if source.text.trim().is_empty() {
        r.errors.push(
            PlanDiagnostic::new(
                "hyoka::plan::empty_file",
                Severity::Error,
                "plan file is empty",
            )
            .in_file(source)
            .label(0..0, "nothing here")
            .help("a plan file needs at least a `[plan]` table with `id`, `name`, `municipality`, `kind` and `period`; see docs/plan-format.md"),
        );
        return FileDraft::default();
    }
    let (doc, syntax_errors) = DeTable::parse_recoverable(&source.text);
    if !syntax_errors.is_empty() {
        for e in syntax_errors {
            r.errors.push(syntax_error(source, &e));
        }
        // The rest of the file cannot be trusted, but its plan id usually
        // can: other files referring to this plan are then not reported.
        let id = doc
            .get_ref()
            .get("plan")
            .and_then(|p| p.get_ref().as_table())
            .and_then(|p| p.get("id"))
            .and_then(|v| {
                Some(Located::new(
                    v.get_ref().as_str()?.to_string(),
                    r.span(v.span()),
                ))
            });
        return FileDraft {
            plan: Some(PlanDraft {
                plan: None,
                id,
                parent: None,
            }),
            ..FileDraft::default()
        };
    }
    r.document(doc.get_ref(), doc.span())
}

/// A TOML syntax error, with a message naming the key where one is known.
fn syntax_error(source: &SourceFile, e: &toml::de::Error) -> PlanDiagnostic {
    let range = e.span().unwrap_or(0..0);
    let message = e.message().trim_end_matches('\n');
    let d = PlanDiagnostic::new("hyoka::plan::toml", Severity::Error, "").in_file(source);
    let found = source.text.get(range.clone()).unwrap_or("");
    if message == "duplicate key" && !found.is_empty() {
        let key = found.trim_matches('"');
        let mut d = PlanDiagnostic {
            message: format!("malformed TOML: duplicate key `{key}`"),
            ..d
        }
        .label(range.clone(), "written a second time here");
        if let Some(first) = earlier_key(&source.text, range.start, found) {
            d = d.label(first, "first written here");
        }
        return d.help(format!(
            "a key is written once per table; remove one of the two `{key}`, or start a new table (`[[…]]`) if the second belongs to another entry"
        ));
    }
    let label = match message.split_once(", expected ") {
        Some((_, expected)) => format!("expected {expected} here"),
        None => "here".to_string(),
    };
    let help = if message.contains("string")
        && (message.contains("expected `\"`") || message.contains("expected `'`"))
    {
        "close the string on the same line, with the quote it opens with; text over several lines is written `\"\"\"…\"\"\"`"
    } else if message.starts_with("string values must be quoted") {
        "put text in double quotes: `name = \"…\"`"
    } else if message.starts_with("unclosed array table") {
        "a list-of-tables header is written `[[name]]`"
    } else if message.starts_with("unclosed table") {
        "a table header is written `[name]`"
    } else if message.starts_with("unclosed inline table") {
        "an inline table `{ … }` is closed with `}` on the same line"
    } else if message.starts_with("unclosed array") {
        "close the list with `]`"
    } else {
        "fix the TOML syntax; strings need double quotes, tables `[name]`, lists of tables `[[name]]`"
    };
    PlanDiagnostic {
        message: format!("malformed TOML: {message}"),
        ..d
    }
    .label(range, label)
    .help(help)
}

/// Where `key` was first written in the same table, when the duplicate at
/// `at` is a plain `key = …` line: searches back to the table's header.
fn earlier_key(text: &str, at: usize, key: &str) -> Option<std::ops::Range<usize>> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..at].trim().is_empty() {
        return None; // inside an inline table or a header: no line to find
    }
    let mut end = line_start;
    while end > 0 {
        let start = text[..end - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..end - 1];
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            return None;
        }
        if let Some((k, _)) = trimmed.split_once('=') {
            if k.trim() == key {
                let offset = start + (line.len() - trimmed.len());
                return Some(offset..offset + key.len());
            }
        }
        end = start;
    }
    None
}

/// Keys of each table, so unknown keys get a "did you mean".
mod keys {
    pub const TOP: &[&str] = &[
        "plan",
        "external_plan",
        "goal",
        "policy",
        "measure",
        "project",
        "indicator",
        "recorded_summary",
    ];
    pub const PLAN: &[&str] = &[
        "id",
        "name",
        "municipality",
        "kind",
        "period",
        "year_basis",
        "parent",
        "departments",
        "grade_scale",
        "revisions",
        "source",
        "note",
    ];
    pub const EXTERNAL: &[&str] = &["id", "name", "period", "note"];
    pub const PERIOD: &[&str] = &["from", "to"];
    pub const PLAN_REVISION: &[&str] = &["year", "note"];
    pub const SOURCE: &[&str] = &["document", "section"];
    pub const NODE: &[&str] = &["id", "name", "under", "note"];
    pub const PROJECT: &[&str] = &[
        "id",
        "under",
        "number",
        "name",
        "category",
        "status",
        "relisted_from",
        "sdgs",
        "department",
        "costs",
        "reviews",
        "completed_in",
        "note",
    ];
    pub const COST: &[&str] = &["year", "value", "unit"];
    pub const REVIEW: &[&str] = &["year", "outcome", "note"];
    pub const INDICATOR: &[&str] = &[
        "id",
        "under",
        "name",
        "unit",
        "direction",
        "kind",
        "department",
        "description",
        "baseline",
        "actuals",
        "target",
        "cumulative",
        "cumulative_from",
        "monitoring",
        "year_basis",
        "same_as",
        "part",
        "revisions",
        "note",
    ];
    pub const OBSERVATION: &[&str] = &["year", "value", "as_of", "note"];
    pub const TARGET: &[&str] = &["year", "value", "text", "set_in", "note"];
    pub const LINK: &[&str] = &["plan", "indicator", "target_differs"];
    pub const PART: &[&str] = &["group", "label"];
    pub const REVISION: &[&str] = &["kind", "year", "reason", "from", "to", "by"];
    pub const SUMMARY: &[&str] = &["year", "title", "rows", "note"];
    pub const SUMMARY_ROW: &[&str] = &["category", "grade", "count"];
}

struct Reader<'a> {
    file: FileId,
    source: &'a SourceFile,
    errors: &'a mut Vec<PlanDiagnostic>,
    broken: Vec<BrokenDraft>,
}

/// A table being read: its entries, its span and what it is called in
/// messages (`[[indicator]]`).
struct Table<'t, 'i> {
    entries: &'t DeTable<'i>,
    span: std::ops::Range<usize>,
    what: String,
}

impl<'t, 'i> Table<'t, 'i> {
    fn get(&self, key: &str) -> Option<&'t Value<'i>> {
        self.entries.get(key)
    }
}

impl<'a> Reader<'a> {
    fn span(&self, range: std::ops::Range<usize>) -> Span {
        Span::new(self.file, range)
    }

    fn error(
        &mut self,
        code: &str,
        message: String,
        range: std::ops::Range<usize>,
        label: &str,
        help: Option<String>,
    ) {
        let mut d = PlanDiagnostic::new(format!("hyoka::plan::{code}"), Severity::Error, message)
            .in_file(self.source)
            .label(range, label);
        d.help = help;
        self.errors.push(d);
    }

    /// Opens a table, reporting every key not in `known`.
    fn table<'t, 'i>(
        &mut self,
        value: &'t Value<'i>,
        what: &str,
        known: &[&str],
    ) -> Option<Table<'t, 'i>> {
        let Some(entries) = value.get_ref().as_table() else {
            self.wrong_type(value, what, "a table");
            return None;
        };
        for (key, _) in entries.iter() {
            let name = key.get_ref().as_ref();
            if !known.contains(&name) {
                let help = match did_you_mean(name, known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the keys of {what} are: {}", known.join(", ")),
                };
                self.error(
                    "unknown_key",
                    format!("unknown key `{name}` in {what}"),
                    key.span(),
                    "unknown key",
                    Some(help),
                );
            }
        }
        Some(Table {
            entries,
            span: value.span(),
            what: what.to_string(),
        })
    }

    fn wrong_type(&mut self, value: &Value<'_>, what: &str, expected: &str) {
        self.wrong_type_help(value, what, expected, None);
    }

    fn wrong_type_help(
        &mut self,
        value: &Value<'_>,
        what: &str,
        expected: &str,
        help: Option<String>,
    ) {
        self.error(
            "wrong_type",
            format!(
                "{what} must be {expected}, found {}",
                describe(value.get_ref())
            ),
            value.span(),
            &format!("expected {expected}"),
            help,
        );
    }

    fn missing_key(&mut self, t: &Table<'_, '_>, key: &str, help: &str) {
        self.error(
            "missing_key",
            format!("{} has no `{key}`", t.what),
            t.span.start..t.span.start,
            &format!("`{key}` is required here"),
            Some(help.to_string()),
        );
    }

    // ----- scalar readers ------------------------------------------------

    fn string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Located<String>> {
        let v = t.get(key)?;
        match v.get_ref().as_str() {
            Some(s) => Some(Located::new(s.to_string(), self.span(v.span()))),
            None => {
                self.wrong_type_help(
                    v,
                    &format!("`{key}` in {}", t.what),
                    "a string",
                    Some(format!("write the text in double quotes: `{key} = \"…\"`")),
                );
                None
            }
        }
    }

    fn required_string(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Located<String>> {
        if t.get(key).is_none() {
            self.missing_key(t, key, &format!("add `{key} = \"…\"`"));
            return None;
        }
        let s = self.string(t, key)?;
        if s.value.trim().is_empty() {
            self.error(
                "empty_value",
                format!("`{key}` in {} is empty", t.what),
                s.span.range(),
                "empty string",
                Some(format!("write the {key} as the source document gives it")),
            );
            return None;
        }
        Some(s)
    }

    fn note(&mut self, t: &Table<'_, '_>, key: &str) -> Option<String> {
        self.string(t, key).map(|s| s.value)
    }

    fn bool(&mut self, t: &Table<'_, '_>, key: &str) -> Option<bool> {
        let v = t.get(key)?;
        match v.get_ref().as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type_help(
                    v,
                    &format!("`{key}` in {}", t.what),
                    "`true` or `false`",
                    Some(format!(
                        "write `{key} = true` or `{key} = false`, without quotes"
                    )),
                );
                None
            }
        }
    }

    fn year_value(&mut self, v: &Value<'_>, what: &str) -> Option<Located<i32>> {
        let span = self.span(v.span());
        let result = match v.get_ref() {
            DeValue::Integer(i) => i
                .as_str()
                .replace('_', "")
                .parse::<i32>()
                .map_err(|_| YearError::OutOfRange)
                .and_then(year::check_range),
            DeValue::String(s) => year::parse_year(s),
            _ => {
                self.wrong_type(v, what, "a year such as `2025`, `\"R6\"` or `\"H30\"`");
                return None;
            }
        };
        match result {
            Ok(y) => Some(Located::new(y, span)),
            Err(e) => {
                let (message, help) = match e {
                    YearError::Unreadable => (
                        format!("{what} is not a year"),
                        "write a Gregorian year (`2025`) or a Japanese era year (`\"R6\"`, `\"H30\"`, `\"R元\"`)".to_string(),
                    ),
                    YearError::OutsideEra { era, max } => (
                        format!("{what} lies outside the {era} era"),
                        format!("{era} ran from year 1 (元) to year {max}; check the era letter and the number"),
                    ),
                    YearError::OutOfRange => (
                        format!("{what} is out of range"),
                        format!(
                            "years must lie between {} and {}",
                            year::YEARS.start(),
                            year::YEARS.end()
                        ),
                    ),
                };
                self.error(
                    "bad_year",
                    message,
                    v.span(),
                    "not a valid year",
                    Some(help),
                );
                None
            }
        }
    }

    fn year(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Located<i32>> {
        let v = t.get(key)?;
        // Fast path (perf): a valid year needs no message; formatting one
        // for every year read cost ~5 % of loading.
        if let Some(y) = valid_year(v.get_ref()) {
            return Some(Located::new(y, self.span(v.span())));
        }
        self.year_value(v, &format!("`{key}` in {}", t.what))
    }

    fn required_year(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Located<i32>> {
        if t.get(key).is_none() {
            self.missing_key(
                t,
                key,
                &format!("add `{key} = 2025` (or an era year such as `\"R6\"`)"),
            );
            return None;
        }
        self.year(t, key)
    }

    fn amount_value(&mut self, v: &Value<'_>, what: &str) -> Option<Located<Amount>> {
        let span = self.span(v.span());
        let parsed = match v.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => parse_decimal(i.as_str()),
            DeValue::Float(f) => parse_decimal(f.as_str()),
            DeValue::String(s) => {
                if let Some(reason) = NoValue::from_token(s) {
                    return Some(Located::new(Amount::Missing(reason), span));
                }
                let tokens: Vec<&str> = NoValue::TOKENS.iter().map(|(t, _)| *t).collect();
                let help = match did_you_mean(s, &tokens) {
                    Some(t) => format!("did you mean `\"{t}\"`?"),
                    None => format!(
                        "write a number, or one of the no-value tokens {}",
                        tokens
                            .iter()
                            .map(|t| format!("`\"{t}\"`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let help = match number_with_unit(s) {
                    Some((number, "")) => {
                        format!("write the number without quotes: `{number}`")
                    }
                    Some((number, unit)) => format!(
                        "write the number without quotes: `{number}`; the unit (`{unit}`) belongs in the indicator's `unit`"
                    ),
                    None if s.chars().any(|c| c.is_ascii_digit()) => {
                        format!("{help}; a number goes without quotes and its unit goes in `unit`")
                    }
                    None => help,
                };
                self.error(
                    "bad_value",
                    format!("{what} is neither a number nor a no-value token: `{s}`"),
                    v.span(),
                    "not a value",
                    Some(help),
                );
                return None;
            }
            _ => None,
        };
        match (parsed, v.get_ref()) {
            (Some(d), _) => Some(Located::new(Amount::Number(d), span)),
            // A number, but not one that can be kept exact as written.
            (None, DeValue::Integer(_) | DeValue::Float(_)) => {
                let written = self.source.text.get(v.span()).unwrap_or("").trim();
                let digits = written.chars().filter(char::is_ascii_digit).count();
                let help = if matches!(v.get_ref(), DeValue::Integer(i) if i.radix() != 10) {
                    "write the number in decimal digits".to_string()
                } else if digits > 18 && !written.contains(['e', 'E']) {
                    "numbers are kept exact up to 18 digits; check the value against the source"
                        .to_string()
                } else {
                    "write the number in plain digits, as the source prints it (`1000`, `61.4`); exponents, `inf` and `nan` are not accepted".to_string()
                };
                self.error(
                    "bad_value",
                    format!("{what} is not a plain decimal number: `{written}`"),
                    v.span(),
                    "not a plain decimal number",
                    Some(help),
                );
                None
            }
            (None, _) => {
                self.wrong_type(
                    v,
                    what,
                    "a decimal number (`61.4`, `-490`) or a no-value token such as `\"—\"`",
                );
                None
            }
        }
    }

    fn amount(&mut self, t: &Table<'_, '_>, key: &str) -> Option<Located<Amount>> {
        let v = t.get(key)?;
        // Fast path (perf), as in `year`.
        if let Some(a) = valid_amount(v.get_ref()) {
            return Some(Located::new(a, self.span(v.span())));
        }
        self.amount_value(v, &format!("`{key}` in {}", t.what))
    }

    fn choice<T: Copy>(
        &mut self,
        t: &Table<'_, '_>,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<Located<T>> {
        // Fast path (perf): a valid choice is matched without a String.
        let raw = t.get(key)?;
        if let Some(text) = raw.get_ref().as_str() {
            if let Some((_, v)) = options.iter().find(|(name, _)| *name == text) {
                return Some(Located::new(*v, self.span(raw.span())));
            }
        }
        let s = self.string(t, key)?;
        if let Some((_, v)) = options.iter().find(|(name, _)| *name == s.value) {
            return Some(Located::new(*v, s.span));
        }
        let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
        let help = match did_you_mean(&s.value, &names) {
            Some(n) => format!("did you mean `\"{n}\"`?"),
            None => format!(
                "`{key}` is one of {}",
                names
                    .iter()
                    .map(|n| format!("`\"{n}\"`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        self.error(
            "unknown_choice",
            format!("`{}` is not a valid `{key}` in {}", s.value, t.what),
            s.span.range(),
            "not one of the choices",
            Some(help),
        );
        None
    }

    fn array<'t, 'i>(&mut self, t: &Table<'t, 'i>, key: &str) -> &'t [Value<'i>] {
        match t.get(key) {
            None => &[],
            Some(v) => match v.get_ref().as_array() {
                Some(a) => a,
                None => {
                    self.wrong_type(v, &format!("`{key}` in {}", t.what), "a list `[…]`");
                    &[]
                }
            },
        }
    }

    fn strings(&mut self, t: &Table<'_, '_>, key: &str) -> Vec<Located<String>> {
        let items = self.array(t, key);
        let mut out = Vec::with_capacity(items.len());
        for v in items {
            match v.get_ref().as_str() {
                Some(s) => out.push(Located::new(s.to_string(), self.span(v.span()))),
                None => {
                    self.wrong_type(v, &format!("an entry of `{key}` in {}", t.what), "a string")
                }
            }
        }
        out
    }

    // ----- tables --------------------------------------------------------

    fn document(&mut self, doc: &DeTable<'_>, span: std::ops::Range<usize>) -> FileDraft {
        let top = Table {
            entries: doc,
            span: span.clone(),
            what: "the plan file".to_string(),
        };
        for (key, _) in doc.iter() {
            let name = key.get_ref().as_ref();
            if !keys::TOP.contains(&name) {
                let help = match did_you_mean(name, keys::TOP) {
                    Some(s) => format!("did you mean `[{s}]` / `[[{s}]]`?"),
                    None => format!("a plan file holds the tables: {}", keys::TOP.join(", ")),
                };
                self.error(
                    "unknown_key",
                    format!("unknown table `{name}` in the plan file"),
                    key.span(),
                    "unknown table",
                    Some(help),
                );
            }
        }
        let mut draft = FileDraft::default();
        match top.get("plan") {
            Some(v) => draft.plan = self.plan(v),
            None => self.error(
                "missing_plan",
                "plan file has no `[plan]` table".to_string(),
                0..0,
                "`[plan]` expected in this file",
                Some("every plan file starts with `[plan]` giving `id`, `name`, `municipality`, `kind` and `period`".into()),
            ),
        }
        for v in self.array_of_tables(&top, "external_plan") {
            if let Some(e) = self.external(v) {
                draft.externals.push(e);
            }
        }
        // Sized up front: grown one push at a time, the tables of a
        // national corpus would carry a third of their size in spare room
        // until the corpus is built.
        let levels = [
            ("goal", Level::Goal),
            ("policy", Level::Policy),
            ("measure", Level::Measure),
        ]
        .map(|(key, level)| (key, level, self.array_of_tables(&top, key)));
        draft
            .nodes
            .reserve_exact(levels.iter().map(|(_, _, tables)| tables.len()).sum());
        for (key, level, tables) in levels {
            for v in tables {
                if let Some(n) = self.node(v, key, level) {
                    draft.nodes.push(n);
                }
            }
        }
        let projects = self.array_of_tables(&top, "project");
        draft.projects.reserve_exact(projects.len());
        for v in projects {
            if let Some(p) = self.project(v) {
                draft.projects.push(p);
            }
        }
        let indicators = self.array_of_tables(&top, "indicator");
        draft.indicators.reserve_exact(indicators.len());
        for v in indicators {
            if let Some(i) = self.indicator(v) {
                draft.indicators.push(i);
            }
        }
        let summaries: Vec<RecordedSummary> = self
            .array_of_tables(&top, "recorded_summary")
            .iter()
            .filter_map(|v| self.summary(v))
            .collect();
        if let Some(p) = draft.plan.as_mut().and_then(|p| p.plan.as_mut()) {
            p.recorded_summaries = summaries;
        }
        draft.broken = std::mem::take(&mut self.broken);
        draft
    }

    fn array_of_tables<'t, 'i>(&mut self, t: &Table<'t, 'i>, key: &str) -> &'t [Value<'i>] {
        match t.get(key) {
            None => &[],
            Some(v) => match v.get_ref().as_array() {
                Some(a) => a,
                None => {
                    self.error(
                        "wrong_type",
                        format!("`{key}` must be a list of tables, written `[[{key}]]`"),
                        v.span(),
                        &format!("write `[[{key}]]`"),
                        Some(format!("each {key} is its own `[[{key}]]` table")),
                    );
                    &[]
                }
            },
        }
    }

    fn period(&mut self, t: &Table<'_, '_>) -> Option<Period> {
        let v = t.get("period")?;
        let p = self.table(v, &format!("`period` of {}", t.what), keys::PERIOD)?;
        let from = self.required_year(&p, "from");
        let to = self.required_year(&p, "to");
        let (from, to) = (from?, to?);
        if from.value > to.value {
            self.errors.push(
                PlanDiagnostic::new(
                    "hyoka::plan::period_order",
                    Severity::Error,
                    format!(
                        "period of {} ends ({}) before it starts ({})",
                        t.what, to.value, from.value
                    ),
                )
                .in_file(self.source)
                .label(to.span.range(), format!("`to` is {}", to.value))
                .label(from.span.range(), format!("`from` is {}", from.value))
                .help("swap `from` and `to`"),
            );
        }
        Some(Period {
            from,
            to,
            span: self.span(v.span()),
        })
    }

    fn plan(&mut self, v: &Value<'_>) -> Option<PlanDraft> {
        if v.get_ref().as_array().is_some() {
            self.wrong_type_help(
                v,
                "`plan`",
                "one table, written `[plan]`",
                Some(
                    "a plan file describes one plan: write `[plan]` with single brackets, once"
                        .into(),
                ),
            );
            return None;
        }
        let t = self.table(v, "`[plan]`", keys::PLAN)?;
        let id = self.required_string(&t, "id");
        let name = self.required_string(&t, "name");
        let municipality = self.required_string(&t, "municipality");
        if t.get("kind").is_none() {
            self.missing_key(
                &t,
                "kind",
                "add `kind = \"sectoral\"` (top | sectoral | strategy | wide-area | budget-policy)",
            );
        }
        let kind = self.choice(
            &t,
            "kind",
            &[
                ("top", PlanKind::Top),
                ("sectoral", PlanKind::Sectoral),
                ("strategy", PlanKind::Strategy),
                ("wide-area", PlanKind::WideArea),
                ("budget-policy", PlanKind::BudgetPolicy),
            ],
        );
        if t.get("period").is_none() {
            self.missing_key(&t, "period", "add `period = { from = 2018, to = 2025 }`");
        }
        let period = self.period(&t);
        let year_basis = self.year_basis(&t).unwrap_or(YearBasis::Fiscal);
        let parent = self.string(&t, "parent");
        let departments = self.strings(&t, "departments");
        let grade_scale = self.string(&t, "grade_scale");
        let mut revisions = Vec::new();
        for rv in self.array(&t, "revisions") {
            if let Some(rt) = self.table(rv, "a revision of `[plan]`", keys::PLAN_REVISION) {
                if let Some(year) = self.required_year(&rt, "year") {
                    revisions.push(PlanRevision {
                        year,
                        note: self.note(&rt, "note"),
                    });
                }
            }
        }
        let source = match t.get("source") {
            Some(sv) => self
                .table(sv, "`source` of `[plan]`", keys::SOURCE)
                .and_then(|st| {
                    let document = self.required_string(&st, "document")?;
                    Some(SourceNote {
                        document: document.value,
                        section: self.note(&st, "section"),
                    })
                }),
            None => None,
        };
        let note = self.note(&t, "note");
        let plan = (|| {
            Some(Plan {
                file: self.file,
                id: id.clone()?,
                name: name?,
                municipality: municipality?,
                kind: kind?,
                period: period?,
                year_basis,
                parent: None,
                departments,
                grade_scale,
                revisions,
                source,
                note,
                externals: Vec::new(),
                recorded_summaries: Vec::new(),
                nodes: Vec::new(),
                projects: Vec::new(),
                indicators: Vec::new(),
                span: self.span(t.span.clone()),
            })
        })();
        Some(PlanDraft { plan, id, parent })
    }

    fn year_basis(&mut self, t: &Table<'_, '_>) -> Option<YearBasis> {
        self.choice(
            t,
            "year_basis",
            &[
                ("fiscal", YearBasis::Fiscal),
                ("calendar", YearBasis::Calendar),
            ],
        )
        .map(|l| l.value)
    }

    fn external(&mut self, v: &Value<'_>) -> Option<ExternalPlan> {
        let t = self.table(v, "`[[external_plan]]`", keys::EXTERNAL)?;
        let id = self.required_string(&t, "id");
        let name = self.note(&t, "name");
        let period = self.period(&t);
        Some(ExternalPlan {
            id: id?,
            name,
            period,
        })
    }

    fn node(&mut self, v: &Value<'_>, key: &str, level: Level) -> Option<NodeDraft> {
        let what = format!("`[[{key}]]`");
        let t = self.table(v, &what, keys::NODE)?;
        let id = self.required_string(&t, "id");
        let name = self.required_string(&t, "name");
        let under = self.string(&t, "under");
        let note = self.note(&t, "note");
        let (Some(id), Some(name)) = (id.clone(), name) else {
            self.broken.push(BrokenDraft {
                kind: EntityKind::Node(level),
                id,
                under,
                relisted_from: None,
                links: Vec::new(),
                replaced_by: Vec::new(),
            });
            return None;
        };
        Some(NodeDraft {
            node: Node {
                plan: 0,
                level,
                id,
                name,
                under: Owner::Plan,
                note,
                children: Vec::new(),
                projects: Vec::new(),
                indicators: Vec::new(),
                span: self.span(t.span.clone()),
            },
            under,
        })
    }

    fn project(&mut self, v: &Value<'_>) -> Option<ProjectDraft> {
        let t = self.table(v, "`[[project]]`", keys::PROJECT)?;
        let id = self.required_string(&t, "id");
        let name = self.required_string(&t, "name");
        let under = self.string(&t, "under");
        let number = self.string(&t, "number");
        let category = self.string(&t, "category");
        let status = self.choice(
            &t,
            "status",
            &[
                ("new", ProjectStatus::New),
                ("continuing", ProjectStatus::Continuing),
                ("completed", ProjectStatus::Completed),
            ],
        );
        let status = status
            .unwrap_or_else(|| Located::new(ProjectStatus::Continuing, self.span(t.span.clone())));
        let relisted_from = self.string(&t, "relisted_from");
        let mut sdgs = Vec::new();
        for sv in self.array(&t, "sdgs") {
            match sv.get_ref() {
                DeValue::Integer(i) => match i.as_str().parse::<i64>() {
                    // The range 1–17 is a rule (consistency.sdg_goal_out_of_range),
                    // so a city can see it as a finding like any other.
                    Ok(n) => sdgs.push(Located::new(n, self.span(sv.span()))),
                    Err(_) => self.error(
                        "bad_value",
                        format!("`{}` is not an SDG goal number", i.as_str()),
                        sv.span(),
                        "not a goal number",
                        Some("SDG goals are numbered 1 to 17".into()),
                    ),
                },
                _ => self.wrong_type_help(
                    sv,
                    "an entry of `sdgs` in `[[project]]`",
                    "a goal number 1–17",
                    Some("write the goal numbers without quotes: `sdgs = [8, 9]`".into()),
                ),
            }
        }
        let department = self.string(&t, "department");
        let mut costs = Vec::new();
        for cv in self.array(&t, "costs") {
            if let Some(ct) = self.table(cv, "a cost of `[[project]]`", keys::COST) {
                let year = self.required_year(&ct, "year");
                if ct.get("value").is_none() {
                    self.missing_key(&ct, "value", "add `value = 1200`");
                }
                let value = self.amount(&ct, "value");
                let unit = self.note(&ct, "unit");
                if let (Some(year), Some(value)) = (year, value) {
                    costs.push(Cost { year, value, unit });
                }
            }
        }
        let mut reviews = Vec::new();
        for rv in self.array(&t, "reviews") {
            if let Some(rt) = self.table(rv, "a review of `[[project]]`", keys::REVIEW) {
                let year = self.required_year(&rt, "year");
                let outcome = self.required_string(&rt, "outcome");
                let note = self.note(&rt, "note");
                if let (Some(year), Some(outcome)) = (year, outcome) {
                    reviews.push(Review {
                        year,
                        outcome,
                        note,
                    });
                }
            }
        }
        let completed_in = self.year(&t, "completed_in");
        let note = self.note(&t, "note");
        let (Some(id), Some(name)) = (id.clone(), name) else {
            self.broken.push(BrokenDraft {
                kind: EntityKind::Project,
                id,
                under,
                relisted_from,
                links: Vec::new(),
                replaced_by: Vec::new(),
            });
            return None;
        };
        Some(ProjectDraft {
            project: Project {
                plan: 0,
                id,
                number,
                name,
                under: Owner::Plan,
                category,
                status,
                relisted_from: None,
                sdgs,
                department,
                costs,
                reviews,
                completed_in,
                note,
                indicators: Vec::new(),
                span: self.span(t.span.clone()),
            },
            under,
            relisted_from,
        })
    }

    fn observation(&mut self, v: &Value<'_>, what: &str) -> Option<Observation> {
        let t = self.table(v, what, keys::OBSERVATION)?;
        let year = self.required_year(&t, "year");
        if t.get("value").is_none() {
            self.missing_key(
                &t,
                "value",
                "add `value = 61.4`, or a no-value token such as `value = \"—\"`",
            );
        }
        let value = self.amount(&t, "value");
        let as_of = self.year(&t, "as_of");
        let note = self.note(&t, "note");
        Some(Observation {
            year: year?,
            value: value?,
            as_of,
            note,
            span: self.span(t.span.clone()),
        })
    }

    fn target(&mut self, v: &Value<'_>) -> Option<Target> {
        let t = self.table(v, "`target` of `[[indicator]]`", keys::TARGET)?;
        if t.entries.is_empty() {
            self.error(
                "empty_target",
                "`target` of `[[indicator]]` is empty".into(),
                t.span.clone(),
                "empty table",
                Some("write `target = { year = 2025, value = 300 }`, a qualitative `text = \"整備完了\"` instead of `value`, or `set_in = 2022` when the target is to be set later; leave `target` out when there is none".into()),
            );
            return None;
        }
        let year = self.required_year(&t, "year");
        let value = self.amount(&t, "value");
        let text = self.string(&t, "text");
        let set_in = self.year(&t, "set_in");
        let note = self.note(&t, "note");
        if value.is_none() && text.is_none() && set_in.is_none() && t.get("value").is_none() {
            self.error(
                "empty_target",
                "`target` of `[[indicator]]` has neither `value`, `text` nor `set_in`".into(),
                t.span.clone(),
                "what is the target?",
                Some("write `value = 300`, a qualitative `text = \"整備完了\"`, or `set_in = 2022` when the target is to be set later".into()),
            );
        }
        Some(Target {
            year: year?,
            value,
            text,
            set_in,
            note,
            span: self.span(t.span.clone()),
        })
    }

    fn indicator(&mut self, v: &Value<'_>) -> Option<IndicatorDraft> {
        let t = self.table(v, "`[[indicator]]`", keys::INDICATOR)?;
        let id = self.required_string(&t, "id");
        let name = self.required_string(&t, "name");
        let under = self.string(&t, "under");
        let unit = self.string(&t, "unit");
        let direction = self.choice(
            &t,
            "direction",
            &[
                ("increase", Direction::Increase),
                ("decrease", Direction::Decrease),
                ("maintain", Direction::Maintain),
            ],
        );
        let kind = self.choice(
            &t,
            "kind",
            &[
                ("activity", IndicatorKind::Activity),
                ("output", IndicatorKind::Output),
                ("outcome", IndicatorKind::Outcome),
            ],
        );
        let department = self.string(&t, "department");
        let description = self.note(&t, "description");
        let baseline = match t.get("baseline") {
            Some(b) => self.observation(b, "`baseline` of `[[indicator]]`"),
            None => None,
        };
        let written = self.array(&t, "actuals");
        let mut actuals = Vec::with_capacity(written.len());
        for a in written {
            if let Some(o) = self.observation(a, "an entry of `actuals`") {
                actuals.push(o);
            }
        }
        actuals.sort_by_key(|o| o.year.value);
        let target = match t.get("target") {
            Some(tv) => self.target(tv),
            None => None,
        };
        let cumulative = self.bool(&t, "cumulative").unwrap_or(false);
        let cumulative_from = self.year(&t, "cumulative_from");
        let monitoring = self.bool(&t, "monitoring").unwrap_or(false);
        let year_basis = self.year_basis(&t);
        let mut links = Vec::new();
        for lv in self.array(&t, "same_as") {
            if let Some(lt) = self.table(lv, "an entry of `same_as`", keys::LINK) {
                let plan = self.required_string(&lt, "plan");
                let indicator = self.required_string(&lt, "indicator");
                let target_differs = self.string(&lt, "target_differs");
                if let (Some(plan), Some(indicator)) = (plan, indicator) {
                    links.push(LinkDraft {
                        plan,
                        indicator,
                        target_differs,
                        span: self.span(lv.span()),
                    });
                }
            }
        }
        let part = match t.get("part") {
            Some(pv) => self
                .table(pv, "`part` of `[[indicator]]`", keys::PART)
                .and_then(|pt| {
                    let group = self.required_string(&pt, "group");
                    let label = self.required_string(&pt, "label");
                    Some(IndicatorPart {
                        group: group?.value,
                        label: label?.value,
                    })
                }),
            None => None,
        };
        let mut revisions = Vec::new();
        let mut replaced_by = Vec::new();
        for rv in self.array(&t, "revisions") {
            if let Some((r, by)) = self.revision(rv) {
                revisions.push(r);
                replaced_by.push(by);
            }
        }
        let note = self.note(&t, "note");
        // An invalid `direction` is not the absent direction of a
        // qualitative target: the indicator is left out.
        let direction_ok = direction.is_some() || t.get("direction").is_none();
        let (Some(id), Some(name), true) = (id.clone(), name, direction_ok) else {
            self.broken.push(BrokenDraft {
                kind: EntityKind::Indicator,
                id,
                under,
                relisted_from: None,
                links,
                replaced_by: replaced_by.into_iter().flatten().collect(),
            });
            return None;
        };
        Some(IndicatorDraft {
            indicator: Indicator {
                plan: 0,
                id,
                name,
                under: Owner::Plan,
                unit,
                direction,
                kind,
                department,
                description,
                baseline,
                actuals,
                target,
                cumulative,
                cumulative_from,
                monitoring,
                year_basis: YearBasis::Fiscal,
                links: Vec::new(),
                part,
                revisions,
                note,
                span: self.span(t.span.clone()),
            },
            under,
            year_basis,
            links,
            replaced_by,
        })
    }

    fn revision(&mut self, v: &Value<'_>) -> Option<(Revision, Option<Located<String>>)> {
        let t = self.table(v, "a revision marker", keys::REVISION)?;
        if t.get("kind").is_none() {
            self.missing_key(
                &t,
                "kind",
                "add `kind = \"added\"`, `\"replaced\"` or `\"target-revised\"`",
            );
        }
        let kind = self.choice(
            &t,
            "kind",
            &[
                ("added", RevisionKind::Added),
                ("replaced", RevisionKind::Replaced),
                ("target-revised", RevisionKind::TargetRevised),
            ],
        );
        let year = self.year(&t, "year");
        let reason = self.string(&t, "reason");
        let from = self.amount(&t, "from");
        let to = self.amount(&t, "to");
        let by = self.string(&t, "by");
        let kind = kind?;
        if kind.value == RevisionKind::TargetRevised && t.get("to").is_none() {
            self.missing_key(
                &t,
                "to",
                "a target revision says the new target: `to = 2500`",
            );
        }
        if kind.value != RevisionKind::Replaced {
            if let Some(b) = &by {
                self.error(
                    "misplaced_key",
                    format!(
                        "`by` belongs to a `replaced` marker, not `{}`",
                        kind_name(kind.value)
                    ),
                    b.span.range(),
                    "only for `kind = \"replaced\"`",
                    Some("remove `by`, or make the marker `kind = \"replaced\"`".into()),
                );
            }
        }
        Some((
            Revision {
                kind: kind.value,
                year,
                reason,
                from,
                to,
                by: None,
                span: self.span(t.span.clone()),
            },
            by,
        ))
    }

    fn summary(&mut self, v: &Value<'_>) -> Option<RecordedSummary> {
        let t = self.table(v, "`[[recorded_summary]]`", keys::SUMMARY)?;
        let year = self.year(&t, "year");
        let title = self.required_string(&t, "title");
        let mut rows = Vec::new();
        for rv in self.array(&t, "rows") {
            if let Some(rt) = self.table(rv, "a row of `[[recorded_summary]]`", keys::SUMMARY_ROW) {
                let category = self.note(&rt, "category");
                let grade = self.note(&rt, "grade");
                let count = match rt.get("count") {
                    Some(cv) => match cv.get_ref() {
                        DeValue::Integer(i) => i
                            .as_str()
                            .parse::<i64>()
                            .ok()
                            .map(|n| Located::new(n, self.span(cv.span()))),
                        _ => {
                            self.wrong_type(cv, "`count`", "a whole number");
                            None
                        }
                    },
                    None => {
                        self.missing_key(&rt, "count", "add `count = 4`");
                        None
                    }
                };
                if let Some(count) = count {
                    rows.push(SummaryRow {
                        category,
                        grade,
                        count,
                    });
                }
            }
        }
        let note = self.note(&t, "note");
        Some(RecordedSummary {
            year,
            title: title?.value,
            rows,
            note,
            span: self.span(t.span.clone()),
        })
    }
}

fn kind_name(k: RevisionKind) -> &'static str {
    match k {
        RevisionKind::Added => "added",
        RevisionKind::Replaced => "replaced",
        RevisionKind::TargetRevised => "target-revised",
    }
}

fn describe(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a decimal number",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// A number written as text, perhaps with thousands separators and a unit
/// (`"61.4%"`, `"1,200人"`): the number as TOML and the unit.
fn number_with_unit(text: &str) -> Option<(String, &str)> {
    let t = text.trim();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || c == ',' || (i == 0 && c == '-')))
        .map_or(t.len(), |(i, _)| i);
    let number: String = t[..end].chars().filter(|&c| c != ',').collect();
    parse_decimal(&number)?;
    Some((number, t[end..].trim()))
}

/// The closest known name, when it is close enough to be a typo.
pub fn did_you_mean<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= (k.chars().count().max(3) / 3).max(1) + 1 && *d < k.chars().count())
        .min_by_key(|&(d, k)| (d, k))
        .map(|(_, k)| k)
}

/// The year `v` denotes when it is a valid one; `None` sends the caller to
/// the slow path that says what is wrong. Must accept exactly what
/// `Reader::year_value` accepts.
fn valid_year(v: &DeValue<'_>) -> Option<i32> {
    match v {
        DeValue::Integer(i) if !i.as_str().contains('_') => {
            year::check_range(i.as_str().parse::<i32>().ok()?).ok()
        }
        DeValue::String(s) => year::parse_year(s).ok(),
        _ => None,
    }
}

/// The amount `v` denotes when it is a valid one (see [`valid_year`]).
/// Must accept exactly what `Reader::amount_value` accepts.
fn valid_amount(v: &DeValue<'_>) -> Option<Amount> {
    match v {
        DeValue::Integer(i) if i.radix() == 10 => parse_decimal(i.as_str()).map(Amount::Number),
        DeValue::Float(f) => parse_decimal(f.as_str()).map(Amount::Number),
        DeValue::String(s) => NoValue::from_token(s).map(Amount::Missing),
        _ => None,
    }
}

/// Parses TOML number text into an exact decimal. `None` for exponents,
/// `inf`/`nan` and numbers too long to hold exactly.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    };
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if int.len() + frac.len() > 18 || frac.len() > 18 {
        return None;
    }
    let mut m: i64 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        m = m * 10 + (b - b'0') as i64;
    }
    Some(Decimal {
        mantissa: if neg { -m } else { m },
        scale: frac.len() as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(
            parse_decimal("61.4"),
            Some(Decimal {
                mantissa: 614,
                scale: 1
            })
        );
        assert_eq!(
            parse_decimal("-490"),
            Some(Decimal {
                mantissa: -490,
                scale: 0
            })
        );
        assert_eq!(
            parse_decimal("1_000"),
            Some(Decimal {
                mantissa: 1000,
                scale: 0
            })
        );
        assert_eq!(parse_decimal("1e3"), None);
        assert_eq!(parse_decimal("inf"), None);
        assert_eq!(
            Decimal {
                mantissa: -5,
                scale: 2
            }
            .to_string(),
            "-0.05"
        );
        assert_eq!(
            Decimal {
                mantissa: 614,
                scale: 1
            }
            .to_string(),
            "61.4"
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("targt", keys::INDICATOR), Some("target"));
        assert_eq!(did_you_mean("dept", keys::INDICATOR), None);
        assert_eq!(did_you_mean("baseine", keys::INDICATOR), Some("baseline"));
        // Ties go to the first name in order, whatever the order given.
        assert_eq!(did_you_mean("M2-4", &["M2-5", "M2-3"]), Some("M2-3"));
        assert_eq!(did_you_mean("M2-4", &["M2-3", "M2-5"]), Some("M2-3"));
    }

    #[test]
    fn numbers_written_as_text() {
        assert_eq!(number_with_unit("61.4%"), Some(("61.4".into(), "%")));
        assert_eq!(number_with_unit("1,200人"), Some(("1200".into(), "人")));
        assert_eq!(number_with_unit("-490"), Some(("-490".into(), "")));
        assert_eq!(number_with_unit("集計"), None);
        assert_eq!(number_with_unit("R6"), None);
    }
}
