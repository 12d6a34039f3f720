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
//! the lower one, or a small module of its own). The graph is read by `mz-layering`; the rules
//! are here.

use mz_layering::{ModuleGraph, TestCode};
use std::collections::BTreeSet;
use std::path::Path;

/// Groups of modules allowed to import each other (strongly connected components), sorted:
/// none. Kept as a list so that the test says which group appeared.
const KNOWN_CYCLES: &[&[&str]] = &[];

fn daemon_graph() -> ModuleGraph {
    ModuleGraph::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), TestCode::Count)
}

#[test]
fn service_only_wires() {
    let g = daemon_graph();
    assert_eq!(g.importers("service"), ["config"], "only config may import service (its settings)");
    for m in ["engine", "server"] {
        assert!(!g.reachable(m).contains("service"), "{m} reaches service");
    }
    assert!(!g.deps("engine").any(|d| d == "server"), "the engine imports the server");
}

#[test]
fn no_new_import_cycles() {
    let known: BTreeSet<Vec<String>> = KNOWN_CYCLES.iter().map(|c| c.iter().map(|s| s.to_string()).collect()).collect();
    assert_eq!(daemon_graph().cycles(), known, "import cycles among the daemon's modules changed");
}
