//! `--metrics ADDR`: Prometheus / OpenMetrics over HTTP, for ops dashboards and alerting.
//!
//! `GET /metrics` (and `HEAD`) answers the OpenMetrics text encoding of `prometheus-client`;
//! every other path is 404, every other method 405. HTTP is `hyper`'s.
//!
//! What is exposed:
//! - from the status figures, read at each scrape (no scan, the same numbers `mzd status`
//!   shows): totals since the store was created as **counters** (`mz_files_total{outcome}`,
//!   `mz_rejected_rows_total{feed}`, `mz_duplicate_rows_total{feed}`), current values as
//!   **gauges** (`mz_healthy`, `mz_records{feed}`, `mz_station_occupied{station}`,
//!   `mz_alerts_active{kind}`, `mz_cases_open`, `mz_cases_overdue`, `mz_tasks_open`,
//!   `mz_tasks_overdue`, `mz_audit_entries`);
//! - measured by the engine since this process started: `mz_ingest_file_seconds{feed}`, a
//!   histogram of the time from taking a feed file to its commit.
//!
//! Label values come from the registry, which ops engineers write by hand: they are escaped as
//! the text format requires (`\\`, `\"`, `\n`), which `prometheus-client` itself does not do.

use crate::server::{current_status, ServerContext};
use crate::shutdown::Shutdown;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::time::Duration;
use tokio::net::TcpListener;

use crate::measured::{label, Labels};

fn counters(registry: &mut Registry, name: &str, help: &str, rows: &[(Labels, u64)]) {
    let family = Family::<Labels, Counter>::default();
    for (labels, v) in rows {
        family.get_or_create(labels).inc_by(*v);
    }
    registry.register(name, help, family);
}

fn gauges(registry: &mut Registry, name: &str, help: &str, rows: &[(Labels, i64)]) {
    let family = Family::<Labels, Gauge>::default();
    for (labels, v) in rows {
        family.get_or_create(labels).set(*v);
    }
    registry.register(name, help, family);
}

fn gauge(registry: &mut Registry, name: &str, help: &str, v: i64) {
    let g = Gauge::<i64>::default();
    g.set(v);
    registry.register(name, help, g);
}

fn per_feed(counts: mz_shared::protocol::FeedCounts) -> Vec<(Labels, u64)> {
    mz_shared::feed::Feed::ALL.iter().map(|f| (label("feed", f.as_str()), counts.get(*f))).collect()
}

/// The metrics page, in the OpenMetrics text format.
pub fn render(ctx: &ServerContext) -> String {
    let s = current_status(ctx);
    let mut r = Registry::default();
    let files = &s.files;
    let outcome = |o: &str, v: u64| (label("outcome", o), v);
    counters(
        &mut r,
        "mz_files",
        "feed files handled since the store was created, by outcome",
        &[
            outcome("ingested", files.ingested),
            outcome("quarantined", files.quarantined),
            outcome("duplicate", files.duplicates),
        ],
    );
    counters(&mut r, "mz_rejected_rows", "rows rejected since the store was created", &per_feed(s.rejected_rows));
    counters(&mut r, "mz_duplicate_rows", "duplicate rows since the store was created", &per_feed(s.duplicate_rows));
    let records: Vec<(Labels, i64)> = per_feed(s.records).into_iter().map(|(l, v)| (l, v as i64)).collect();
    gauges(&mut r, "mz_records", "distinct stored records", &records);
    gauge(&mut r, "mz_healthy", "1 when mzd is healthy", i64::from(s.healthy));
    gauge(&mut r, "mz_files_in_progress", "feed files being read or waiting", files.in_progress as i64);
    let occupied: Vec<(Labels, i64)> =
        s.stations.iter().map(|st| (label("station", &st.id), i64::from(st.occupied))).collect();
    gauges(&mut r, "mz_station_occupied", "people admitted per station", &occupied);
    let alerts: Vec<(Labels, i64)> = s.alerts.by_kind.iter().map(|(k, v)| (label("kind", k), *v as i64)).collect();
    gauges(&mut r, "mz_alerts_active", "active alerts by kind", &alerts);
    gauge(&mut r, "mz_cases_open", "open emergency cases", s.cases.open as i64);
    gauge(&mut r, "mz_cases_overdue", "open cases past a time limit", s.cases.overdue as i64);
    gauge(&mut r, "mz_tasks_open", "open station tasks", s.tasks.open as i64);
    gauge(&mut r, "mz_tasks_overdue", "open station tasks past their due time", s.tasks.overdue as i64);
    gauge(&mut r, "mz_audit_entries", "entries in the audit trail", s.audit.entries as i64);
    r.register(
        "mz_ingest_file_seconds",
        "time from taking a feed file to its commit, since mzd started",
        crate::measured::ingest_seconds(),
    );
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &r) {
        tracing::error!(error = %e, "cannot encode the metrics");
    }
    out
}

/// Media type of the OpenMetrics text format.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn answer(req: &Request<Incoming>, ctx: &ServerContext) -> Response<Full<Bytes>> {
    let plain = |status: StatusCode, text: &'static str| {
        let mut resp = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
        *resp.status_mut() = status;
        resp
    };
    if req.uri().path() != "/metrics" {
        return plain(StatusCode::NOT_FOUND, "not found: metrics are at /metrics\n");
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "only GET /metrics\n");
    }
    let mut resp = Response::new(Full::new(Bytes::from(render(ctx))));
    if let Ok(v) = CONTENT_TYPE.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    resp
}

/// Serves `/metrics` until `stop`; each connection is served by its own task.
pub async fn serve(listener: TcpListener, ctx: ServerContext, mut stop: Shutdown) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.recv() => return,
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                let resp = answer(&req, &ctx);
                async move { Ok::<_, std::convert::Infallible>(resp) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(5))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "metrics connection ended with an error");
            }
        });
    }
}
