use hyoka_dsl::schema::testing::plan_model;
use hyoka_dsl::{compile, Overrides, PackSource};
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let src = std::fs::read_to_string(&path).unwrap();
    let model = plan_model();
    let pack = PackSource::new("bench", vec![("bench.hyk".into(), src.into())]);
    let program = compile(&[pack], &model.schema, &Overrides::default()).unwrap_or_else(|e| panic!("{e:?}"));
    let s = format!("{program:#?}");
    for line in s.lines() { if !line.contains("text:") { println!("{line}"); } }
}
