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

/// The checker never panics, whatever it is given: every syntax fixture
/// (good and bad) goes through the whole pipeline.
#[test]
fn never_panics_on_syntax_fixtures() {
    let model = plan_model();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax");
    let mut seen = 0;
    for sub in ["good", "bad"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let pack = PackSource::new("p", vec![("f.hyk".into(), text)]);
            let _ = compile(&[pack], &model.schema, &Overrides::default());
            seen += 1;
        }
    }
    assert!(seen > 0, "no syntax fixtures found");
}

/// Functions nested too deeply are an error, not a stack overflow later.
#[test]
fn deep_inlining_is_refused() {
    let model = plan_model();
    let mut text = String::from("fn f0(x: number): number = x + 1\n");
    for i in 1..20 {
        text.push_str(&format!("fn f{i}(x: number): number = f{}(x) + 1\n", i - 1));
    }
    text.push_str("derive d for indicator: number = f19(1)\n");
    let pack = PackSource::new("p", vec![("f.hyk".into(), text)]);
    let errors = compile(&[pack], &model.schema, &Overrides::default()).unwrap_err();
    assert!(errors
        .iter()
        .any(|e| e.to_string() == "`d` expands to too large a program"));
}

/// A 100,000-line rule file parses, checks and compiles without a stack
/// overflow, every one of its rules kept.
#[test]
fn a_hundred_thousand_line_file_checks() {
    let model = plan_model();
    let mut text = String::from(
        "derive rate for indicator: number = latest(indicator) / indicator.target.value\n",
    );
    let rules = 100_000 / 7 + 1;
    for n in 0..rules {
        text.push_str(&format!(
            "/// Rule {n}.\nrule r{n} for indicator {{\n    severity warning\n    when indicator.rate < {}% and not indicator.monitoring\n    message \"{{indicator.name}}: {{indicator.rate}}\"\n}}\n\n",
            n % 100
        ));
    }
    assert!(text.lines().count() >= 100_000);
    let pack = PackSource::new("big", vec![("big.hyk".into(), text)]);
    let program = compile(&[pack], &model.schema, &Overrides::default())
        .unwrap_or_else(|e| panic!("compiles: {:?}", e.first()));
    assert_eq!(program.rules().len(), rules);
}

fn pack(name: &str, extends: &[&str], text: &str) -> PackSource {
    let mut p = PackSource::new(name, vec![(format!("{name}.hyk"), text.to_string())]);
    p.extends = extends.iter().map(|e| e.to_string()).collect();
    p
}

/// Error messages of compiling `packs` with `overrides`.
fn errors(packs: &[PackSource], overrides: &Overrides) -> Vec<String> {
    let model = plan_model();
    match compile(packs, &model.schema, overrides) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.to_string()).collect(),
    }
}

const RATES: &str = "param band: number = 10%\n\
    rule wide for indicator {\n severity info\n when band > 50%\n message \"wide\"\n}";

#[test]
fn pack_settings_apply_in_extension_order() {
    let model = plan_model();
    let mut grades = pack("grades", &["rates"], "param a: number = band * 2");
    grades.params.push(Setting::new("rates.band", "20%"));
    grades.rules.push(Setting::new("rates.wide", "off"));
    // Packs may be given in any order; `rates` is checked first.
    let p = compile(
        &[grades.clone(), pack("rates", &[], RATES)],
        &model.schema,
        &Overrides::default(),
    )
    .unwrap();
    let text = summary(&p);
    assert!(
        text.contains("param rates.band = 0.2 (pack grades)"),
        "{text}"
    );
    assert!(text.contains("param grades.a = 0.4 (default)"), "{text}");
    assert!(!text.contains("rule"), "{text}");
    // The user's settings come last.
    let user = Overrides {
        params: vec![Setting::new("rates.band", "30%")],
        rules: vec![Setting::new("rates.wide", "error")],
    };
    let p = compile(&[pack("rates", &[], RATES), grades], &model.schema, &user).unwrap();
    let text = summary(&p);
    assert!(
        text.contains("param rates.band = 0.3 (hyoka.toml)"),
        "{text}"
    );
    assert!(
        text.contains("rule rates.wide for indicator: error"),
        "{text}"
    );
}

#[test]
fn pack_settings_are_checked() {
    let mut quality = pack("quality", &[], "param q: number = 1");
    quality.params.push(Setting::new("rates.band", "20%"));
    quality.params.push(Setting::new("band", "20%"));
    assert_eq!(
        errors(&[pack("rates", &[], RATES), quality], &Overrides::default()),
        [
            "pack `quality` sets `rates.band` but does not extend `rates`",
            "`band` is not a qualified name",
        ]
    );
    assert_eq!(
        errors(
            &[pack("rates", &[], RATES), pack("rates", &[], RATES)],
            &Overrides::default()
        ),
        ["pack `rates` is given twice"]
    );
    let user = Overrides {
        params: vec![Setting::new("rats.band", "1")],
        rules: vec![Setting::new("rates.wide", "warn")],
    };
    assert_eq!(
        errors(&[pack("rates", &[], RATES)], &user),
        [
            "unknown pack `rats`",
            "`rates.wide` = `warn` is not a rule setting",
        ]
    );
}
