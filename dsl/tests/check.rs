//! Checker tests: every file under `fixtures/check/good` compiles, and its
//! compiled summary is snapshotted; every file under `fixtures/check/bad`
//! fails, and its diagnostics are snapshotted as a user sees them (message,
//! underlined source, help), rendered without colour.
//!
//! Fixture directives (comment lines at the top of a file):
//! - `// @override param PACK.NAME = VALUE` and `// @override rule PACK.ID =
//!   VALUE`: a user override from `hyoka.toml`;
//! - `// @pack NAME [extends A B]`: starts a new pack (a fixture without it is
//!   one pack called `test`); its rule file is the text up to the next
//!   `// @pack`.

use std::fmt::Write as _;
use std::path::Path;

use hyoka_dsl::schema::testing::plan_model;
use hyoka_dsl::{compile, Overrides, PackSource, Program, Setting};
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Splits a fixture into packs and overrides.
fn load(path: &Path) -> (Vec<PackSource>, Overrides) {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let mut overrides = Overrides::default();
    let mut packs: Vec<PackSource> = Vec::new();
    let mut current: Option<(PackSource, String)> = None;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("// @override ") {
            let (what, setting) = rest.split_once(' ').unwrap();
            let (key, value) = setting.split_once(" = ").unwrap();
            let s = Setting::new(key.trim(), value.trim());
            match what {
                "param" => overrides.params.push(s),
                "rule" => overrides.rules.push(s),
                other => panic!("unknown override `{other}`"),
            }
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("// @pack ") {
            if let Some((mut p, body)) = current.take() {
                p.files.push((format!("{file}#{}", p.name), body));
                packs.push(p);
            }
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap().to_string();
            let mut pack = PackSource::new(name, Vec::new());
            if words.next() == Some("extends") {
                pack.extends = words.map(str::to_string).collect();
            }
            current = Some((pack, String::new()));
            continue;
        }
        match &mut current {
            Some((_, body)) => body.push_str(line),
            None => {
                current = Some((PackSource::new("test", Vec::new()), line.to_string()));
            }
        }
    }
    if let Some((mut p, body)) = current.take() {
        let name = if packs.is_empty() && p.name == "test" {
            file.clone()
        } else {
            format!("{file}#{}", p.name)
        };
        p.files.push((name, body));
        packs.push(p);
    }
    (packs, overrides)
}

fn compile_fixture(path: &Path) -> Result<Program, String> {
    let model = plan_model();
    let (packs, overrides) = load(path);
    compile(&packs, &model.schema, &overrides).map_err(|errors| {
        let handler =
            GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
        let mut out = String::new();
        for e in &errors {
            handler.render_report(&mut out, e).unwrap();
            out.push('\n');
        }
        out
    })
}

/// What a good file compiled to: derives in evaluation order, parameters,
/// scales, rules.
fn summary(p: &Program) -> String {
    let mut out = String::new();
    for d in p.derives() {
        let _ = writeln!(
            out,
            "derive {}.{} for {}",
            d.pack,
            d.name,
            p.kind_name(d.kind)
        );
    }
    for param in p.params() {
        let _ = writeln!(
            out,
            "param {}.{} = {} ({})",
            param.pack,
            param.name,
            show(&param.value),
            param.set_by
        );
    }
    for s in p.scales() {
        let bands: Vec<String> = s
            .bands
            .iter()
            .map(|b| {
                let lo = b.lo.map_or(String::new(), |l| format!("{l} "));
                let hi = match b.hi {
                    Some((h, true)) => format!("..= {h}"),
                    Some((h, false)) => format!(".. {h}"),
                    None => "..".to_string(),
                };
                format!("{} = {lo}{hi}", b.name)
            })
            .collect();
        let _ = writeln!(
            out,
            "scale {}: {}; states {:?}, missing → {}",
            s.name,
            bands.join(", "),
            s.states,
            s.label(s.missing_grade())
        );
    }
    for r in p.rules() {
        let scope = match r.scope {
            hyoka_dsl::Scope::Each(k) => p.kind_name(k).to_string(),
            hyoka_dsl::Scope::Group(k) => format!("group {}", p.kind_name(k)),
        };
        let _ = writeln!(
            out,
            "rule {} for {scope}: {}{}",
            r.qualified_id(),
            r.severity.keyword(),
            r.suggest
                .as_ref()
                .map_or(String::new(), |s| format!(", suggest {s}"))
        );
    }
    out
}

fn show(v: &hyoka_dsl::OwnedValue) -> String {
    match v {
        hyoka_dsl::OwnedValue::Num(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

#[test]
fn good() {
    insta::glob!("fixtures/check/good/*.hyk", |path| {
        match compile_fixture(path) {
            Ok(p) => insta::assert_snapshot!(summary(&p)),
            Err(e) => panic!("{} should compile:\n{e}", path.display()),
        }
    });
}

#[test]
fn bad() {
    insta::glob!("fixtures/check/bad/*.hyk", |path| {
        match compile_fixture(path) {
            Ok(_) => panic!("{} should not compile", path.display()),
            Err(e) => insta::assert_snapshot!(e),
        }
    });
}
