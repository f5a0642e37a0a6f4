//! The editor grammar of `editors/vscode/` (TextMate, as VS Code reads it):
//! the manifests parse, the grammar's includes resolve, every pattern
//! compiles, and its scopes cover the language: every keyword of
//! `dsl/src/grammar.pest` (the `kw_*` and word-operator rules) and of
//! docs/rule-language.md is matched, as a whole word, by a pattern whose
//! scope is a keyword, a storage type or a language constant; comments, doc
//! comments, strings with `{interpolation}`, numbers and percents and the
//! operators have scopes of their own.

use std::collections::BTreeSet;

use fancy_regex::Regex;
use serde_json::Value;

const GRAMMAR: &str = "editors/vscode/syntaxes/hyoka.tmLanguage.json";

fn read_json(path: &str) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// Every pattern object of the grammar, with the scope it gives (its
/// `name`, or the name of capture 1).
fn patterns(v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(m)) = map.get("match") {
                let scope = map
                    .get("name")
                    .and_then(Value::as_str)
                    .or_else(|| map.get("captures")?.get("1")?.get("name")?.as_str())
                    .unwrap_or("")
                    .to_string();
                out.push((m.clone(), scope));
            }
            for (_, x) in map {
                patterns(x, out);
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| patterns(x, out)),
        _ => {}
    }
}

/// The keywords of the language: the text of every `kw_*` rule of the
/// grammar, the word operators (`and`, `or`, `not`, `in`), and the list in
/// docs/rule-language.md ("Reserved words: …").
fn keywords() -> BTreeSet<String> {
    let pest = std::fs::read_to_string("dsl/src/grammar.pest").expect("dsl/src/grammar.pest");
    let rule = Regex::new(r#"(?m)^(kw_\w+|op_(?:and|or|not|in))\s*=\s*@\{\s*"(\w+)""#).unwrap();
    let mut out: BTreeSet<String> = rule
        .captures_iter(&pest)
        .map(|c| c.unwrap().get(2).unwrap().as_str().to_string())
        .collect();
    assert!(
        out.len() >= 25,
        "too few keywords read from grammar.pest: {out:?}"
    );
    // The docs' list ("Reserved words: `and by …`", possibly over several
    // lines), when there is one; the grammar is the authority.
    let doc = std::fs::read_to_string("docs/rule-language.md").expect("docs/rule-language.md");
    for intro in ["Reserved words: `", "Keywords: `"] {
        if let Some(at) = doc.find(intro) {
            let listed = doc[at + intro.len()..].split('`').next().unwrap_or("");
            out.extend(
                listed
                    .split_whitespace()
                    .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                    .map(str::to_string),
            );
        }
    }
    out
}

#[test]
fn manifests_parse_and_point_at_the_grammar() {
    let pkg = read_json("editors/vscode/package.json");
    let lang = &pkg["contributes"]["languages"][0];
    assert_eq!(lang["id"], "hyoka");
    assert_eq!(lang["extensions"][0], ".hyk");
    let grammar = &pkg["contributes"]["grammars"][0];
    assert_eq!(grammar["scopeName"], "source.hyoka");
    let path = grammar["path"].as_str().unwrap().trim_start_matches("./");
    assert_eq!(format!("editors/vscode/{path}"), GRAMMAR);
    let conf = read_json("editors/vscode/language-configuration.json");
    assert_eq!(conf["comments"]["lineComment"], "//");
    assert_eq!(read_json(GRAMMAR)["scopeName"], "source.hyoka");
}

#[test]
fn every_pattern_compiles_and_every_include_resolves() {
    let g = read_json(GRAMMAR);
    let mut all = Vec::new();
    patterns(&g, &mut all);
    for (m, scope) in &all {
        Regex::new(m).unwrap_or_else(|e| panic!("pattern of `{scope}` does not compile: {m}: {e}"));
    }
    fn includes(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(i)) = map.get("include") {
                    out.push(i.clone());
                }
                map.values().for_each(|x| includes(x, out));
            }
            Value::Array(xs) => xs.iter().for_each(|x| includes(x, out)),
            _ => {}
        }
    }
    let mut inc = Vec::new();
    includes(&g, &mut inc);
    for i in inc {
        let name = i
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("include `{i}` is not local"));
        assert!(
            g["repository"].get(name).is_some(),
            "include `{i}` has no repository entry"
        );
    }
}

#[test]
fn every_keyword_has_a_keyword_scope() {
    let g = read_json(GRAMMAR);
    let mut all = Vec::new();
    patterns(&g, &mut all);
    let keyword_patterns: Vec<(Regex, &str)> = all
        .iter()
        .filter(|(_, s)| {
            s.starts_with("keyword.")
                || s.starts_with("storage.")
                || s.starts_with("constant.language")
        })
        .map(|(m, s)| (Regex::new(m).unwrap(), s.as_str()))
        .collect();
    let mut missing = Vec::new();
    for kw in keywords() {
        // The keyword alone, and as a word in a line; never inside a longer name.
        let whole = keyword_patterns.iter().any(|(re, _)| {
            re.find(&kw).unwrap().is_some_and(|m| m.as_str() == kw)
                && re
                    .find(&format!("x {kw} y"))
                    .unwrap()
                    .is_some_and(|m| m.as_str() == kw)
        });
        let inside = keyword_patterns.iter().any(|(re, _)| {
            re.find(&format!("my_{kw}_name"))
                .unwrap()
                .is_some_and(|m| m.as_str() == kw)
        });
        if !whole || inside {
            missing.push(kw);
        }
    }
    assert!(
        missing.is_empty(),
        "keywords without a keyword scope (or matched inside names): {missing:?}"
    );
}

#[test]
fn comments_strings_numbers_and_operators_have_scopes() {
    let g = read_json(GRAMMAR);
    let mut all = Vec::new();
    patterns(&g, &mut all);
    let scope_of = |text: &str| -> Vec<String> {
        all.iter()
            .filter(|(m, _)| {
                Regex::new(m)
                    .unwrap()
                    .find(text)
                    .unwrap()
                    .is_some_and(|x| x.start() == 0 && x.end() == text.len())
            })
            .map(|(_, s)| s.clone())
            .collect()
    };
    let has = |text: &str, prefix: &str| {
        let scopes = scope_of(text);
        assert!(
            scopes.iter().any(|s| s.starts_with(prefix)),
            "`{text}` has no `{prefix}` scope: {scopes:?}"
        );
    };
    has("/// Lower bound of grade A.", "comment.line.documentation");
    has("// a comment", "comment.line.double-slash");
    has("61.4", "constant.numeric");
    has("1_000", "constant.numeric");
    has("90%", "constant.numeric");
    for op in [
        "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "??", "=>", "..", "..=", "=",
    ] {
        has(op, "keyword.operator");
    }
    // A doc comment is not an ordinary comment first: the documentation
    // pattern comes before it.
    let comments = g["repository"]["comments"]["patterns"].as_array().unwrap();
    assert_eq!(comments[0]["name"], "comment.line.documentation.hyoka");
    // Strings: begin/end with escapes and `{expr}` interpolation inside.
    let s = &g["repository"]["strings"];
    assert_eq!(s["name"], "string.quoted.double.hyoka");
    assert_eq!(s["begin"], "\"");
    let inner: Vec<&str> = s["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.get("include").and_then(Value::as_str))
        .collect();
    assert!(inner.contains(&"#interpolation"));
    let i = &g["repository"]["interpolation"];
    assert_eq!(i["name"], "meta.interpolation.hyoka");
    assert_eq!(i["begin"], "\\{");
    assert_eq!(i["patterns"][0]["include"], "#expression");
    let escape = Regex::new(s["patterns"][0]["match"].as_str().unwrap()).unwrap();
    for e in ["\\\"", "\\\\", "\\n", "\\u{3042}"] {
        assert!(escape.is_match(e).unwrap(), "escape `{e}`");
    }
}
