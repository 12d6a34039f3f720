//! A crate's module layering, read from its sources: which top-level modules of `src/` name
//! which (every `crate::<module>` path outside comment lines), the modules reachable from one,
//! and the groups that import each other in a cycle.
//!
//! The console and the daemon each keep their own rules (layers, allowed imports) in a
//! `layering` test module and ask this crate for the graph; the reading and the graph walks are
//! written once, here. It reads text, not the compiler's view: a `crate::x` inside a string
//! counts too, which errs on the side of reporting an import. `lib.rs`, `main.rs` and
//! `layering.rs` are not modules of the graph.
//!
//! Invariant: reading never panics on a missing or unreadable file other than `src/` itself;
//! such a file simply names nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Whether test code counts as an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestCode {
    /// Test code (everything after a file's first `#[cfg(test)]`, and `tests.rs` files) may
    /// reach any module: it is left out.
    Skip,
    /// Test code counts like the rest.
    Count,
}

/// Top-level module → the top-level modules its code names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleGraph(pub BTreeMap<String, BTreeSet<String>>);

impl ModuleGraph {
    /// Reads the crate whose sources are in `src`.
    ///
    /// # Panics
    /// When `src` cannot be listed (the test that asks is then wrongly set up).
    pub fn read(src: &Path, tests: TestCode) -> ModuleGraph {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let entries = std::fs::read_dir(src).unwrap_or_else(|e| panic!("{} cannot be listed: {e}", src.display()));
        for path in entries.flatten().map(|e| e.path()) {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_owned();
            if ["lib", "main", "layering"].contains(&name.as_str()) {
                continue;
            }
            let deps = out.entry(name.clone()).or_default();
            for file in rust_files(&path) {
                if tests == TestCode::Skip && file.file_name().is_some_and(|n| n == "tests.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                let code = if tests == TestCode::Skip { non_test(&text) } else { &text };
                deps.extend(named_modules(code).filter(|d| *d != name));
            }
        }
        ModuleGraph(out)
    }

    /// The modules `module` names directly.
    pub fn deps(&self, module: &str) -> impl Iterator<Item = &String> {
        self.0.get(module).into_iter().flatten()
    }

    /// The modules that name `module` directly.
    pub fn importers(&self, module: &str) -> Vec<&String> {
        self.0.iter().filter(|(_, d)| d.contains(module)).map(|(m, _)| m).collect()
    }

    /// The modules reachable from `from`.
    pub fn reachable(&self, from: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for d in self.deps(&m) {
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        seen
    }

    /// Groups of two or more modules that reach each other, each sorted.
    pub fn cycles(&self) -> BTreeSet<Vec<String>> {
        let reach: BTreeMap<&String, BTreeSet<String>> = self.0.keys().map(|m| (m, self.reachable(m))).collect();
        let mut out = BTreeSet::new();
        for (m, r) in &reach {
            let mut group: Vec<String> =
                r.iter().filter(|d| reach.get(d).is_some_and(|back| back.contains(*m))).cloned().collect();
            if !group.is_empty() {
                group.sort();
                out.insert(group);
            }
        }
        out
    }
}

/// The part of a source file that is not test code.
fn non_test(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

/// The top-level modules named by `crate::<module>` paths in `code`, outside comment lines.
fn named_modules(code: &str) -> impl Iterator<Item = String> + '_ {
    code.lines().filter(|l| !l.trim_start().starts_with("//")).flat_map(|line| {
        line.match_indices("crate::").filter_map(move |(i, _)| {
            let rest = &line[i + "crate::".len()..];
            let dep: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            (!dep.is_empty()).then_some(dep)
        })
    })
}

/// The `.rs` files of a module: the file itself, or every one under its folder.
fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).into_iter().flatten().flatten();
        entries.flat_map(|e| rust_files(&e.path())).collect()
    } else if path.extension().is_some_and(|e| e == "rs") {
        vec![path.to_owned()]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &str)]) -> ModuleGraph {
        let mut g = ModuleGraph::default();
        for (a, b) in edges {
            g.0.entry((*a).into()).or_default().insert((*b).into());
        }
        g
    }

    #[test]
    fn finds_a_cycle_and_what_reaches_it() {
        let g = graph(&[("a", "b"), ("b", "a"), ("c", "a")]);
        assert_eq!(g.cycles(), BTreeSet::from([vec!["a".to_string(), "b".to_string()]]));
        assert!(g.reachable("c").contains("b"));
        assert_eq!(g.importers("a"), ["b", "c"]);
    }

    #[test]
    fn reads_paths_outside_comments_and_test_code() {
        assert_eq!(non_test("use crate::x;\n#[cfg(test)]\nuse crate::y;"), "use crate::x;\n");
        let named: Vec<String> =
            named_modules("use crate::app::App;\n// crate::views\nlet x = crate::i18n::L;").collect();
        assert_eq!(named, ["app", "i18n"]);
    }

    #[test]
    fn reads_a_crate_from_its_files() {
        let dir = std::env::temp_dir().join(format!("mz-layering-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("a.rs"), "use crate::b::X;\n#[cfg(test)]\nuse crate::c;").unwrap();
        std::fs::write(dir.join("b").join("mod.rs"), "use crate::a;").unwrap();
        std::fs::write(dir.join("b").join("tests.rs"), "use crate::c;").unwrap();
        std::fs::write(dir.join("lib.rs"), "use crate::c;").unwrap();
        let skip = ModuleGraph::read(&dir, TestCode::Skip);
        let count = ModuleGraph::read(&dir, TestCode::Count);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(skip, graph(&[("a", "b"), ("b", "a")]));
        assert_eq!(count, graph(&[("a", "b"), ("a", "c"), ("b", "a"), ("b", "c")]));
    }
}
