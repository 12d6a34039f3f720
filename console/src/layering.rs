//! The console's module layering, checked: which top-level modules name which (every
//! `crate::<module>` path outside comments and test code), that none of them import each other
//! in a cycle, and that each imports only the layers above it (listed in `lib.rs`).
//!
//! Test code (`#[cfg(test)]` parts and `tests.rs` files) may reach any module: render tests
//! build an app and draw it. The graph is read by `mz-layering`; the rules are here.

use mz_layering::{ModuleGraph, TestCode};
use std::path::Path;

/// The layers, top (imported by everything below) first; a module may import its own layer's
/// other modules only when listed here as allowed.
const LAYERS: &[&[&str]] = &[
    &["i18n", "lists", "client", "casepage"],
    &["widgets"],
    &["caseform", "stationform"],
    &["modal"],
    &["app"],
    &["keymap"],
    &["palette"],
    &["views"],
    &["control"],
    &["demo"],
];

/// Imports within one layer that are allowed (importer, imported).
const SAME_LAYER: &[(&str, &str)] = &[("stationform", "caseform")];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn console_graph() -> ModuleGraph {
    ModuleGraph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), TestCode::Skip)
}

#[test]
fn no_import_cycles() {
    let cycles = console_graph().cycles();
    assert!(cycles.is_empty(), "modules in an import cycle: {cycles:?}");
}

#[test]
fn each_module_imports_the_layers_above_it_only() {
    let g = console_graph();
    for (m, deps) in &g.0 {
        let Some(own) = layer(m) else { panic!("module {m} is in no layer: add it to LAYERS") };
        for d in deps {
            let Some(theirs) = layer(d) else { continue }; // not a module (a macro, a type path)
            let allowed = theirs < own || SAME_LAYER.contains(&(m.as_str(), d.as_str()));
            assert!(allowed, "{m} (layer {own}) imports {d} (layer {theirs})");
        }
    }
    // The state knows neither how it is drawn nor how keys change it.
    for upper in ["views", "control", "keymap", "palette"] {
        assert!(!g.reachable("app").contains(upper), "app reaches {upper}");
    }
}
