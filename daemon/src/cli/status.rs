//! `mzd status`: the daemon's status (SPEC §6). Exit 0 healthy, 1 unhealthy, 2 unreachable.

use super::{error_chain, runtime};
use anyhow::Result;
use mz_client::{AnyStatus, Client};
use mz_shared::feed::Feed;
use mz_shared::protocol::StatusReport;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// `mzd status [--json]`.
pub(super) fn status(socket: &Path, json: bool) -> Result<ExitCode> {
    let rt = runtime()?;
    let status = rt.block_on(async {
        let mut c = Client::connect(socket, "mzd status").await?;
        anyhow::Ok(c.any_status().await?)
    });
    let status: StatusReport = match status {
        Ok(AnyStatus::District(s)) => *s,
        Ok(AnyStatus::City(city)) => return print_city_status(&city, json),
        Err(e) => {
            if json {
                println!("{}", serde_json::json!({"healthy": false, "reachable": false, "error": e.to_string()}));
            }
            eprintln!("mzd: {}", error_chain(&e));
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        writeln!(std::io::stdout(), "{}", serde_json::to_string_pretty(&status)?)?;
    } else {
        print_status(&status)?;
    }
    Ok(if status.healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The status for a person: health, problems, files, feeds, stations, tasks, alerts.
pub(super) fn print_status(s: &StatusReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "mzd {} — {}", s.version, if s.healthy { "healthy" } else { "UNHEALTHY" })?;
    for p in &s.problems {
        writeln!(out, "  problem: {p}")?;
    }
    writeln!(
        out,
        "files: {} ingested, {} quarantined, {} duplicate, {} waiting",
        s.files.ingested, s.files.quarantined, s.files.duplicates, s.files.in_progress
    )?;
    for feed in Feed::ALL {
        writeln!(
            out,
            "{:<11} {:>9} records, {:>7} rejected rows, {:>7} duplicate rows",
            feed.as_str(),
            s.records.get(feed),
            s.rejected_rows.get(feed),
            s.duplicate_rows.get(feed)
        )?;
    }
    for st in &s.stations {
        writeln!(out, "station {:<12} {:>4}/{:<4} beds", st.id, st.occupied, st.beds)?;
    }
    writeln!(out, "tasks: {} open, {} overdue", s.tasks.open, s.tasks.overdue)?;
    writeln!(out, "alerts: {} active", s.alerts.active)
}

/// `mzd status` against the city daemon (SPEC §9): exit 0 healthy, 1 not.
fn print_city_status(s: &mz_shared::city::CityStatus, json: bool) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(s)?)?;
    } else {
        writeln!(out, "mzd city {} ({}) — {}", s.name, s.version, if s.healthy { "healthy" } else { "UNHEALTHY" })?;
        for p in &s.problems {
            writeln!(out, "  problem: {p}")?;
        }
        for d in &s.districts {
            let f = &d.figures;
            writeln!(
                out,
                "  {} {}: seq {}, last event {}, records {}/{}/{}, cases open {}, alerts {}",
                d.code,
                d.name,
                d.last_seq,
                d.last_event_at.as_deref().unwrap_or("-"),
                f.records.admissions,
                f.records.burials,
                f.records.marriages,
                f.cases.open,
                f.alerts.active
            )?;
        }
    }
    Ok(if s.healthy { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
