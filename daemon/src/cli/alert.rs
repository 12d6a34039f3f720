//! `mzd alert list|ack`: the alerts of the current dashboard, and acknowledging one.

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

/// Why a dashboard was not answered: the socket is the city daemon's (which has no dashboard
/// of alerts yet), else `e`.
async fn city_or(socket: &std::path::Path, e: mz_client::ClientError) -> anyhow::Error {
    let mut c = match Client::connect(socket, "mzd alert").await {
        Ok(c) => c,
        Err(_) => return e.into(),
    };
    match c.any_status().await {
        Ok(mz_client::AnyStatus::City(s)) => anyhow::anyhow!(
            "{} is the city daemon: it has {} active alert(s) of its own and lists no alerts yet; \
             run `mzd alert list` against a district's socket for its alerts",
            socket.display(),
            s.alerts.active
        ),
        _ => e.into(),
    }
}

/// `mzd alert list|ack`: the alerts of the current dashboard, or acknowledging one.
pub(super) fn alert_command(command: AlertCommand, socket: &std::path::Path) -> Result<ExitCode> {
    runtime()?.block_on(async {
        let mut c = Client::connect(socket, "mzd alert").await?;
        let mut out = std::io::stdout().lock();
        match command {
            AlertCommand::List { json } => {
                let d = match c.dashboard().await {
                    Ok(d) => d,
                    Err(e @ mz_client::ClientError::Protocol(_)) => return Err(city_or(socket, e).await),
                    Err(e) => return Err(e.into()),
                };
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
        let j = a.to_json(tz);
        let s = |k: &str| j[k].as_str().unwrap_or("-").to_owned();
        let state = if a.is_active() {
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
    }
    Ok(())
}
