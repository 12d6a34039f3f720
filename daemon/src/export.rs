//! Rendering stored records with the canonical field names, for `mzd export` (CSV or JSONL).
//! ID numbers appear only in their masked form; times in RFC 3339 in the registry's zone; names
//! reduced to their first character for viewers (SPEC §5), as cases and the console show them.
//! Also the console's preview of a rejects file ([`rejects_preview`]), masked the same way.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use mz_shared::feed::Feed;
use mz_shared::records::Record;
use serde_json::{Map, Value};

/// How records are shown to the one who asked.
#[derive(Debug, Clone)]
pub struct View {
    /// The registry's time zone.
    pub tz: TimeZone,
    /// True for viewers: `张三丰` becomes `张**`.
    pub mask_names: bool,
}

impl View {
    fn name(&self, name: &str) -> String {
        if self.mask_names {
            crate::masking::mask_name(name)
        } else {
            name.to_owned()
        }
    }
}

fn time(t: Timestamp, tz: &TimeZone) -> Value {
    Value::String(t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map_or(Value::Null, Into::into)
}

/// The record's fields in canonical column order ([`Feed::columns`]).
pub fn fields(record: &Record, view: &View) -> Vec<(&'static str, Value)> {
    let tz = &view.tz;
    let values: Vec<Value> = match record {
        Record::Station(r) => vec![
            r.record_id.clone().into(),
            r.station_id.clone().into(),
            r.event.as_str().into(),
            time(r.occurred_at, tz),
            r.person_ref.clone().into(),
            opt(r.name.as_deref().map(|n| view.name(n))),
            opt(r.id_number.as_ref().map(|i| i.masked.clone())),
            opt(r.gender.map(|g| g.as_str())),
            opt(r.age),
            opt(r.origin.clone()),
            opt(r.referral.map(|x| x.as_str())),
            if r.flags.is_empty() {
                Value::Null
            } else {
                r.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(";").into()
            },
            opt(r.bed.clone()),
            opt(r.discharge_reason.map(|x| x.as_str())),
            opt(r.incident_type.map(|x| x.as_str())),
            opt(r.note.clone()),
        ],
        Record::Burial(r) => vec![
            r.record_id.clone().into(),
            r.site_id.clone().into(),
            r.reported_on.to_string().into(),
            r.capacity_total.into(),
            r.occupied.into(),
            opt(r.new_interments),
            opt(r.eco_interments),
            opt(r.free_basic_services),
            opt(r.note.clone()),
        ],
        Record::Marriage(r) => vec![
            r.record_id.clone().into(),
            r.office_id.clone().into(),
            time(r.registered_at, tz),
            r.kind.as_str().into(),
            opt(r.party_a_id.as_ref().map(|i| i.masked.clone())),
            opt(r.party_b_id.as_ref().map(|i| i.masked.clone())),
            opt(r.party_a_hukou.clone()),
            opt(r.party_b_hukou.clone()),
            opt(r.counselling),
        ],
    };
    record.feed().columns().iter().map(|c| c.name).zip(values).collect()
}

/// One JSON object, canonical field names.
pub fn jsonl_line(record: &Record, view: &View) -> String {
    let map: Map<String, Value> = fields(record, view).into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Value::Object(map).to_string()
}

/// The CSV header line of a feed.
pub fn csv_header(feed: Feed) -> String {
    csv_line(feed.columns().iter().map(|c| c.name.to_owned()))
}

/// One CSV line (no newline), canonical column order.
pub fn csv_record(record: &Record, view: &View) -> String {
    csv_line(fields(record, view).into_iter().map(|(_, v)| match v {
        Value::Null => String::new(),
        Value::String(s) => s,
        other => other.to_string(),
    }))
}

/// One CSV line (no newline) of the given cells.
pub fn csv_cells(cells: impl IntoIterator<Item = String>) -> String {
    csv_line(cells)
}

fn csv_line(cells: impl IntoIterator<Item = String>) -> String {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(cells.into_iter().collect::<Vec<_>>()).expect("writing to memory");
    let mut bytes = w.into_inner().expect("writing to memory");
    bytes.pop();
    String::from_utf8(bytes).expect("csv of UTF-8 strings is UTF-8")
}

/// Columns of a rejects file that hold a person's name (masked for viewers).
const NAME_COLUMNS: [&str; 2] = ["name", "姓名"];

/// The first `n` lines of a rejects file, for the console's preview: each record re-written as
/// one CSV line, every ID number in it masked, and with `mask_names` the name column masked too.
pub fn rejects_preview(path: &std::path::Path, n: usize, mask_names: bool) -> std::io::Result<Vec<String>> {
    let file = std::fs::File::open(path)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(file);
    let mut name_cols = Vec::new();
    let mut out = Vec::with_capacity(n);
    for (i, rec) in reader.records().take(n).enumerate() {
        let rec = rec.map_err(|e| std::io::Error::other(e.to_string()))?;
        let cells: Vec<String> = rec
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let cell = if i == 0 && c == 0 { cell.trim_start_matches('\u{feff}') } else { cell };
                if i == 0 && NAME_COLUMNS.contains(&cell.trim()) {
                    name_cols.push(c);
                }
                let cell = mz_shared::id_number::redact_id_numbers(cell);
                if i > 0 && mask_names && name_cols.contains(&c) {
                    crate::masking::mask_name(&cell)
                } else {
                    cell
                }
            })
            .collect();
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        w.write_record(&cells).map_err(|e| std::io::Error::other(e.to_string()))?;
        let bytes = w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))?;
        out.push(String::from_utf8_lossy(&bytes).trim_end_matches('\n').to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod preview_tests {
    use super::*;

    #[test]
    fn a_rejects_preview_masks_id_numbers_always_and_names_for_viewers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.csv.rejects.csv");
        let id = "11010519491231002X";
        std::fs::write(&path, format!("\u{feff}line,reason,name,id_number\r\n2,bad,张三丰,{id}\r\n")).unwrap();
        let officer = rejects_preview(&path, 20, false).unwrap();
        assert_eq!(officer[0], "line,reason,name,id_number");
        assert!(officer[1].contains("张三丰") && !officer[1].contains(id), "{officer:?}");
        let viewer = rejects_preview(&path, 20, true).unwrap();
        assert!(!viewer[1].contains("张三丰") && !viewer[1].contains(id), "{viewer:?}");
        assert_eq!(rejects_preview(&path, 1, true).unwrap().len(), 1);
    }
}
