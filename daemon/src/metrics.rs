//! `--metrics ADDR`: the status figures in the Prometheus text format over plain HTTP, for ops
//! dashboards. Every request gets the same page.

use crate::server::{current_status, ServerContext};
use std::fmt::Write;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The metrics page.
pub fn render(ctx: &ServerContext) -> String {
    let s = current_status(ctx);
    let mut out = String::new();
    let mut gauge = |name: &str, help: &str, rows: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    gauge("mz_healthy", "1 when mzd is healthy", &[(String::new(), u64::from(s.healthy))]);
    gauge(
        "mz_files",
        "files handled since the store was created, by outcome",
        &[
            ("{outcome=\"ingested\"}".into(), s.files.ingested),
            ("{outcome=\"quarantined\"}".into(), s.files.quarantined),
            ("{outcome=\"duplicate\"}".into(), s.files.duplicates),
            ("{outcome=\"in_progress\"}".into(), s.files.in_progress),
        ],
    );
    for (name, help, counts) in [
        ("mz_records", "distinct stored records", s.records),
        ("mz_rejected_rows", "rejected rows since the store was created", s.rejected_rows),
        ("mz_duplicate_rows", "duplicate rows since the store was created", s.duplicate_rows),
    ] {
        let rows: Vec<(String, u64)> = mz_shared::feed::Feed::ALL
            .iter()
            .map(|f| (format!("{{feed=\"{}\"}}", f.as_str()), counts.get(*f)))
            .collect();
        gauge(name, help, &rows);
    }
    let rows: Vec<(String, u64)> =
        s.stations.iter().map(|st| (format!("{{station=\"{}\"}}", st.id), u64::from(st.occupied))).collect();
    gauge("mz_station_occupied", "people admitted per station", &rows);
    let rows: Vec<(String, u64)> = s.alerts.by_kind.iter().map(|(k, v)| (format!("{{kind=\"{k}\"}}"), *v)).collect();
    gauge("mz_alerts_active", "active alerts by kind", &rows);
    let rows = [("{state=\"open\"}".to_owned(), s.tasks.open), ("{state=\"overdue\"}".to_owned(), s.tasks.overdue)];
    gauge("mz_tasks", "station tasks open, and of those overdue", &rows);
    out
}

pub async fn serve(listener: TcpListener, ctx: ServerContext, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut stream, _)) = accepted else { continue };
                let body = render(&ctx);
                tokio::spawn(async move {
                    let mut buf = [0u8; 1024];
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), stream.read(&mut buf)).await;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(body.as_bytes()).await;
                });
            }
            _ = stop.changed() => return,
        }
    }
}
