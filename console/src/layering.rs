//! The console's module layering, checked: which top-level modules name which (every
//! `crate::<module>` path outside comments and test code), that none of them import each other
//! in a cycle, and that each imports only the layers above it (listed in `lib.rs`).
//!
//! Test code (`#[cfg(test)]` parts and `tests.rs` files) may reach any module: render tests
//! build an app and draw it.

use std::collections::{BTreeMap, BTreeSet};
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

/// The part of a source file that is not test code.
fn non_test(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// Top-level module → the top-level modules its code names.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("console/src is readable").flatten() {
        let path = entry.path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if ["lib", "main", "layering"].contains(&name.as_str()) {
            continue;
        }
        let deps = out.entry(name.clone()).or_default();
        for file in rust_files(&path) {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("source files are readable");
            for line in non_test(&text).lines().filter(|l| !l.trim_start().starts_with("//")) {
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let dep: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if !dep.is_empty() && dep != name {
                        deps.insert(dep);
                    }
                }
            }
        }
    }
    out
}

fn rust_files(path: &Path) -> Vec<std::path::PathBuf> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).expect("module folders are readable").flatten();
        entries.flat_map(|e| rust_files(&e.path())).collect()
    } else if path.extension().is_some_and(|e| e == "rs") {
        vec![path.to_owned()]
    } else {
        Vec::new()
    }
}

/// The modules reachable from `from`.
fn reachable(g: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(m) = stack.pop() {
        for d in g.get(&m).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console_graph() -> BTreeMap<String, BTreeSet<String>> {
        graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
    }

    #[test]
    fn no_import_cycles() {
        let g = console_graph();
        let cyclic: Vec<&String> = g.keys().filter(|m| reachable(&g, m).contains(*m)).collect();
        assert!(cyclic.is_empty(), "modules in an import cycle: {cyclic:?}\n{g:#?}");
    }

    #[test]
    fn each_module_imports_the_layers_above_it_only() {
        let g = console_graph();
        for (m, deps) in &g {
            let Some(own) = layer(m) else { panic!("module {m} is in no layer: add it to LAYERS") };
            for d in deps {
                let Some(theirs) = layer(d) else { continue }; // not a module (a macro, a type path)
                let allowed = theirs < own || SAME_LAYER.contains(&(m.as_str(), d.as_str()));
                assert!(allowed, "{m} (layer {own}) imports {d} (layer {theirs})");
            }
        }
        // The state knows neither how it is drawn nor how keys change it.
        for upper in ["views", "control", "keymap", "palette"] {
            assert!(!reachable(&g, "app").contains(upper), "app reaches {upper}");
        }
    }

    #[test]
    fn finds_a_cycle_and_skips_test_code() {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        g.entry("a".into()).or_default().insert("b".into());
        g.entry("b".into()).or_default().insert("a".into());
        assert!(reachable(&g, "a").contains("a"));
        assert_eq!(non_test("use crate::x;\n#[cfg(test)]\nuse crate::y;"), "use crate::x;\n");
    }
}
