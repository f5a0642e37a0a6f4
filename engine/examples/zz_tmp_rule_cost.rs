use hyoka_dsl::{Ctx, RuleId, Scope};
use hyoka_engine::config::{self, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::eval::{evaluate, latest_actual_year};
use hyoka_engine::schema::PlanSchema;
fn main() {
    let corpus = hyoka_engine::load(&[std::path::PathBuf::from("/tmp/corpus10")]).corpus;
    let schema = PlanSchema::new();
    let packs: Vec<_> = DEFAULT_PACKS.iter().map(|n| config::read_pack(&std::path::Path::new("rules").join(n)).unwrap()).collect();
    let program = hyoka_engine::rules::compile(&packs, &ProjectConfig::default(), &[], &schema).unwrap();
    let year = latest_actual_year(&corpus).unwrap();
    let e = evaluate(&corpus, &schema, &program, year);
    let ctx = Ctx { year };
    let mut rows = Vec::new();
    for (i, r) in program.rules().iter().enumerate() {
        let Scope::Each(k) = r.scope else { rows.push((0.0, r.qualified_id() + " (group)", 0)); continue };
        let objs = e.data.entities(k);
        let t = std::time::Instant::now();
        let mut fired = 0;
        for &o in &objs { if let Ok(Some(_)) = program.eval_rule(RuleId(i as u32), o, &e.data, &ctx) { fired += 1 } }
        rows.push((t.elapsed().as_secs_f64() * 1e3, r.qualified_id(), fired));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, id, fired) in rows.iter().take(14) { println!("{ms:8.2} ms  {id} (fired {fired})"); }
    println!("total each-rules: {:.1} ms", rows.iter().map(|r| r.0).sum::<f64>());
}
