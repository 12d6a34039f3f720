//! Fuzzing on the stable toolchain: property tests that throw arbitrary and mutated input at every
//! decoder a drop file, a registry save or a client reaches, and require that each one answers
//! (a value or an error) without panicking or looping.
//!
//! - the source decoder: encoding detection, CSV / JSONL / `.xlsx` rows and rejects cells;
//! - row validation of the three feeds, with arbitrary cell text;
//! - registry parsing, from arbitrary text and from mutations of the demo registry;
//! - the socket protocol's message decoder, from arbitrary lines and mutated valid messages.
//!
//! CI runs the default number of cases (a few seconds). A long run:
//! `PROPTEST_CASES=200000 cargo test --release -p mzd --test fuzz -- --nocapture`.

use mz_shared::feed::Feed;
use mz_shared::id_number::IdHasher;
use mz_shared::protocol::ClientMessage;
use mz_shared::registry::{Registry, DEMO_REGISTRY};
use mz_shared::validate::{validate_row, ValidationContext};
use mzd::source::{self, RowReader, SourceFormat};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A small valid workbook of each feed, to mutate.
fn seed_xlsx() -> &'static Vec<u8> {
    static SEED: OnceLock<Vec<u8>> = OnceLock::new();
    SEED.get_or_init(|| {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let rows = [
            ["record_id", "station_id", "event", "occurred_at", "person_ref"],
            ["R1", "TZ-JZZ", "admit", "2026-11-20 08:00", "P1"],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, *v).expect("writing a cell");
            }
        }
        sheet.write_number(2, 0, 12345.5).expect("writing a number");
        book.save_to_buffer().expect("a workbook in memory")
    })
}

const CSV_SEED: &str = "record_id,station_id,event,occurred_at,person_ref,name,id_number\n\
R1,TZ-JZZ,admit,2026-11-20 08:00,P1,张三,110112198001010012\n\
\"R2\",TZ-JZZ,\"dis,charge\",2026-11-20,P1,\"李\"\"四\",\n";

const JSONL_SEED: &str =
    "{\"record_id\":\"R1\",\"station_id\":\"TZ-JZZ\",\"event\":\"admit\",\"occurred_at\":\"2026-11-20 08:00\"}\n\
{\"record_id\":2,\"age\":30,\"flags\":null}\n";

/// `seed` with a few bytes replaced, inserted or removed at the given places.
fn mutate(seed: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for &(at, byte, op) in edits {
        if out.is_empty() {
            out.push(byte);
            continue;
        }
        let i = at % out.len();
        match op % 3 {
            0 => out[i] = byte,
            1 => out.insert(i, byte),
            _ => drop(out.remove(i)),
        }
    }
    out
}

/// Reads a file as the engine does, through to the rejects cells; never panics.
fn read_all(bytes: &[u8], ext: &str, feed: Feed) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("drop.{ext}"));
    std::fs::write(&path, bytes).expect("writing the drop");
    let inspection = source::inspect(&path).expect("inspect reads a regular file");
    let format = SourceFormat::of(&path).expect("a known extension");
    let Ok(encoding) = source::encoding_for(&inspection, format) else { return };
    let Ok(mut reader) = RowReader::open(&path, feed, format, encoding) else { return };
    let _ = reader.source_columns();
    for _ in 0..10_000 {
        match reader.next_row() {
            Ok(Some(row)) => {
                assert!(row.line >= 1, "lines are 1-based");
            }
            Ok(None) | Err(_) => break,
        }
        let _ = reader.source_cells();
    }
}

fn feed() -> impl Strategy<Value = Feed> {
    prop_oneof![Just(Feed::Admissions), Just(Feed::Burials), Just(Feed::Marriages)]
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12)
}

proptest! {
    #[test]
    fn the_source_decoder_answers_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096), feed in feed(),
                                            ext in prop_oneof![Just("csv"), Just("jsonl"), Just("xlsx")]) {
        read_all(&bytes, ext, feed);
    }

    #[test]
    fn the_source_decoder_answers_mutated_files(e in edits(), feed in feed(), which in 0u8..3) {
        let (seed, ext): (&[u8], &str) = match which {
            0 => (CSV_SEED.as_bytes(), "csv"),
            1 => (JSONL_SEED.as_bytes(), "jsonl"),
            _ => (seed_xlsx(), "xlsx"),
        };
        read_all(&mutate(seed, &e), ext, feed);
    }

    #[test]
    fn validation_answers_any_cells(cells in prop::collection::vec(prop::option::of(".{0,40}"), 0..20), feed in feed()) {
        let registry = registry();
        let hasher = IdHasher::new([7; 32]);
        let mut values: Vec<Option<&str>> = cells.iter().map(|c| c.as_deref()).collect();
        values.resize(feed.columns().len(), None);
        let _ = validate_row(feed, &values, &ValidationContext { registry, hasher: &hasher });
    }

    #[test]
    fn the_registry_parser_answers_any_text(text in ".{0,400}") {
        let _ = Registry::parse(&text);
    }

    #[test]
    fn the_registry_parser_answers_mutated_registries(e in edits()) {
        let text = String::from_utf8_lossy(&mutate(DEMO_REGISTRY.as_bytes(), &e)).into_owned();
        if let Ok(r) = Registry::parse(&text) {
            let _ = registry().check_replacement(&r);
        }
    }

    #[test]
    fn the_protocol_decoder_answers_any_line(line in prop::collection::vec(any::<u8>(), 0..512), e in edits()) {
        let _ = serde_json::from_slice::<ClientMessage>(&line);
        let valid = br#"{"type":"request","request":"case_act","id":"JJN-2026-000001","action":{"pay":{"amount":"100.00","note":null}},"expected_version":1}"#;
        let _ = serde_json::from_slice::<ClientMessage>(&mutate(valid, &e));
    }
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::demo)
}
