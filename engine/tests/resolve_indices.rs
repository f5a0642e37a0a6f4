//! The loader resolves each plan's entities in parallel, numbered from zero,
//! and moves them to their place afterwards: every index in the corpus must
//! then point at an entity of the right plan, and the lists of children
//! must agree with the `under` of each child. Checked on a generated corpus
//! of several municipalities (re-listed projects, `same_as` links across
//! plans, replaced indicators).

use std::sync::Arc;

use hyoka_engine::generate::{generate_municipality, CorpusSpec};
use hyoka_engine::model::{Corpus, Owner, SourceFile};

fn generated(municipalities: u32) -> Corpus {
    let spec = CorpusSpec {
        indicators_per_municipality: 300,
        ..CorpusSpec::new(municipalities)
    };
    let sources: Vec<SourceFile> = (0..municipalities)
        .flat_map(|m| generate_municipality(&spec, m).0)
        .map(|(name, text)| SourceFile {
            name,
            text: Arc::from(text),
        })
        .collect();
    let loaded = hyoka_engine::load_sources(sources);
    assert!(
        loaded.diagnostics.is_empty(),
        "a generated corpus loads cleanly: {:?}",
        loaded.diagnostics.first()
    );
    loaded.corpus
}

#[test]
fn every_index_points_inside_its_plan() {
    let c = generated(4);
    assert!(c.plans.len() >= 8, "several plans, so most start past 0");
    let mut links = 0;
    let mut relisted = 0;
    for (p, plan) in c.plans.iter().enumerate() {
        let p = p as u32;
        // A plan's lists hold exactly its own entities, in corpus order.
        let own = |plans: Vec<u32>| -> Vec<u32> {
            plans
                .iter()
                .enumerate()
                .filter(|(_, &q)| q == p)
                .map(|(i, _)| i as u32)
                .collect()
        };
        assert_eq!(plan.nodes, own(c.nodes.iter().map(|n| n.plan).collect()));
        assert_eq!(
            plan.projects,
            own(c.projects.iter().map(|x| x.plan).collect())
        );
        assert_eq!(
            plan.indicators,
            own(c.indicators.iter().map(|i| i.plan).collect())
        );
    }
    for (n, node) in c.nodes.iter().enumerate() {
        let n = n as u32;
        for &child in &node.children {
            assert_eq!(c.nodes[child as usize].under, Owner::Node(n));
        }
        for &project in &node.projects {
            assert_eq!(c.projects[project as usize].under, Owner::Node(n));
        }
        for &i in &node.indicators {
            assert_eq!(c.indicators[i as usize].under, Owner::Node(n));
        }
        if let Owner::Node(parent) = node.under {
            assert_eq!(c.nodes[parent as usize].plan, node.plan);
            assert!(c.nodes[parent as usize].children.contains(&n));
        }
    }
    for (x, project) in c.projects.iter().enumerate() {
        for &i in &project.indicators {
            assert_eq!(c.indicators[i as usize].under, Owner::Project(x as u32));
        }
        if let Some(orig) = &project.relisted_from {
            relisted += 1;
            assert_eq!(c.projects[orig.value as usize].plan, project.plan);
            assert_ne!(orig.value, x as u32);
        }
    }
    for indicator in &c.indicators {
        match indicator.under {
            Owner::Node(n) => assert_eq!(c.nodes[n as usize].plan, indicator.plan),
            Owner::Project(x) => assert_eq!(c.projects[x as usize].plan, indicator.plan),
            Owner::Plan => {}
        }
        for link in &indicator.links {
            links += 1;
            let target = &c.indicators[link.indicator as usize];
            assert_ne!(target.plan, indicator.plan, "`same_as` names another plan");
            // The generator links a sectoral indicator to the top plan of
            // the same municipality.
            assert_eq!(
                c.plans[target.plan as usize].municipality.value,
                c.plans[indicator.plan as usize].municipality.value
            );
        }
        for revision in &indicator.revisions {
            if let Some(by) = &revision.by {
                assert_eq!(c.indicators[by.value as usize].plan, indicator.plan);
            }
        }
    }
    assert!(
        links > 0 && relisted > 0,
        "links {links}, re-listed {relisted}"
    );
}

#[test]
fn the_corpus_does_not_depend_on_the_thread_count() {
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| format!("{:?}", generated(3)))
    };
    assert_eq!(on(1), on(2));
}
