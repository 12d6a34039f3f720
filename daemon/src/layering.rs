//! The daemon's module layering, checked: which top-level modules depend on which (every
//! `crate::<module>` path outside comments, in `use` lines and inline), and that none of them
//! import each other in a cycle.
//!
//! The domain modules form layers; each imports only the layers below it:
//!
//! 1. `files`, `masking`, `funds`, `source`: leaves (names and moves of files, what a viewer sees
//!    of a name, the reserve-fund figures, reading drop files).
//! 2. `store` (the sled database), then `task_archive` and `statistics` on it.
//! 3. `state`: the maintained figures and the indexes over them (`state::PersonIndex`, the open
//!    case of each person; `state::TaskIndex`, the open station tasks), so it names none of the
//!    modules that change cases or tasks.
//! 4. `tasks` and `cases`: change tasks and cases through `state` (time and registry passed in,
//!    not the rules' context).
//! 5. `rules`: applies rows to `state`, creating and voiding tasks through `tasks`.
//! 6. `report`: the status and dashboard, read from `state`, `tasks` and `funds`.
//! 7. `engine` (the single writer), then `server`, then `service`, which only wires.
//!
//! Invariants: `service` only wires (nothing imports it but `config` for its settings); the
//! server asks the engine through [`crate::engine::EngineHandle`] and never imports `service`;
//! the engine imports neither the server nor `service`. There is no import cycle:
//! [`KNOWN_CYCLES`] is empty, and a new cycle fails the test (a type two modules need goes into
//! the lower one, or a small module of its own).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Groups of modules allowed to import each other (strongly connected components), sorted:
/// none. Kept as a list so that the test says which group appeared.
const KNOWN_CYCLES: &[&[&str]] = &[];

/// Top-level module → the top-level modules its code names.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("daemon/src is readable").flatten() {
        let path = entry.path();
        let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
        if name == "lib" || name == "main" || name == "layering" {
            continue;
        }
        let deps = out.entry(name.clone()).or_default();
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).expect("source files are readable");
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
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

/// Groups of two or more modules that reach each other.
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    let reach: BTreeMap<&String, BTreeSet<String>> = g.keys().map(|m| (m, reachable(g, m))).collect();
    let mut out = BTreeSet::new();
    for (m, r) in &reach {
        let mut group: Vec<String> =
            r.iter().filter(|d| reach.get(d).is_some_and(|back| back.contains(*m))).cloned().collect();
        if !group.is_empty() {
            group.sort();
            group.dedup();
            out.insert(group);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daemon_graph() -> BTreeMap<String, BTreeSet<String>> {
        graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
    }

    #[test]
    fn service_only_wires() {
        let g = daemon_graph();
        let importers: Vec<&String> = g.iter().filter(|(_, d)| d.contains("service")).map(|(m, _)| m).collect();
        assert_eq!(importers, ["config"], "only config may import service (its settings)");
        for m in ["engine", "server"] {
            assert!(!reachable(&g, m).contains("service"), "{m} reaches service");
        }
        assert!(!g["engine"].contains("server"), "the engine imports the server");
    }

    #[test]
    fn no_new_import_cycles() {
        let found = cycles(&daemon_graph());
        let known: BTreeSet<Vec<String>> =
            KNOWN_CYCLES.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect();
        assert_eq!(found, known, "import cycles among the daemon's modules changed");
    }

    #[test]
    fn finds_a_cycle() {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        g.entry("a".into()).or_default().insert("b".into());
        g.entry("b".into()).or_default().insert("a".into());
        g.entry("c".into()).or_default().insert("a".into());
        assert_eq!(cycles(&g), BTreeSet::from([vec!["a".to_string(), "b".to_string()]]));
    }
}
