//! `mzd alert list|ack`: the alerts of the current dashboard, and acknowledging one; against
//! the city daemon, the city's own cross-district alerts (SPEC §9) in the same shape.

use super::runtime;
use anyhow::Result;
use clap::Subcommand;
use mz_client::Client;
use std::io::Write;
use std::process::ExitCode;

#[derive(Subcommand)]
pub(super) enum AlertCommand {
    /// Active alerts first, then acknowledged ones.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge an alert by its id (officer or above); every console sees it.
    Ack { id: String },
}

/// The city's alerts, printed like a district's (times in Asia/Shanghai).
fn print_city_alerts(out: &mut impl Write, alerts: &[mz_shared::cross_district::CityAlert], json: bool) -> Result<()> {
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC);
    let list: Vec<_> = alerts.iter().map(|a| a.to_json(&tz)).collect();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
        return Ok(());
    }
    for (a, j) in alerts.iter().zip(&list) {
        print_line(out, a.is_active(), j)?;
    }
    Ok(())
}

/// `mzd alert list|ack`: the alerts of the current dashboard, or acknowledging one.
pub(super) fn alert_command(command: AlertCommand, socket: &std::path::Path) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd alert").await?;
        let mut out = std::io::stdout().lock();
        match command {
            AlertCommand::List { json } => {
                // The city daemon has no dashboard: it lists its own alerts.
                if let Ok(mz_client::AnyStatus::City(_)) = c.any_status().await {
                    print_city_alerts(&mut out, &c.city_alerts().await?, json)?;
                    return Ok(ExitCode::SUCCESS);
                }
                let d = c.dashboard().await?;
                let tz = jiff::tz::TimeZone::get(&d.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
                if json {
                    let list: Vec<_> = d.alerts.iter().map(|a| a.to_json(&tz)).collect();
                    writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                } else {
                    print_alerts(&mut out, &d.alerts, &tz)?;
                }
            }
            AlertCommand::Ack { id } => {
                c.ack_alert(&id).await?;
                writeln!(out, "{id}: acknowledged")?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// One line per alert: what `--json` shows, in columns.
pub(super) fn print_alerts(
    out: &mut impl Write,
    alerts: &[mz_shared::alert::Alert],
    tz: &jiff::tz::TimeZone,
) -> Result<()> {
    for a in alerts {
        print_line(out, a.is_active(), &a.to_json(tz))?;
    }
    Ok(())
}

/// One alert as `--json` shows it, in columns.
fn print_line(out: &mut impl Write, active: bool, j: &serde_json::Value) -> Result<()> {
    let s = |k: &str| j[k].as_str().unwrap_or("-").to_owned();
    let state = if active {
        "ACTIVE".to_owned()
    } else {
        format!("acked by {} {}", s("acknowledged_by"), s("acknowledged_at"))
    };
    writeln!(
        out,
        "{:<6} {:<40} {:<16} {}  {} | {}",
        state,
        s("id"),
        s("kind"),
        s("raised_at"),
        s("message"),
        s("message_en")
    )?;
    Ok(())
}
