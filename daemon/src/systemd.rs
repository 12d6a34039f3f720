//! Notifications to the service manager (systemd's `sd_notify` protocol, `Type=notify`).
//!
//! What the service manager is told, and when:
//! - `READY=1` once the daemon can do its job: the store is open (the engine is running), the
//!   socket is bound and the watcher has scanned the inbox once. Never before: a unit ordered
//!   after `mzd.service` may connect to the socket at once.
//! - `RELOADING=1` (with `MONOTONIC_USEC`) before a changed registry is handed to the engine, and
//!   `READY=1` after it; a refused registry sends neither (the old one stays in force).
//! - `STATUS=…`: one line with the counts an operator looks for first, when it changes.
//! - `WATCHDOG=1` every half `WatchdogSec` while the engine thread is alive and beating; an engine
//!   stuck in a file or in the storage engine stops the pings, and the manager restarts mzd.
//! - `STOPPING=1` when a clean shutdown starts.
//!
//! Without `NOTIFY_SOCKET` (not started by a service manager) every call does nothing. The
//! variables are left in the environment on purpose: after a failed commit `mzd run` replaces
//! itself with the same pid ([`crate::restart`]) and must go on notifying.

use crate::health::EngineHealth;
use crate::server::{current_status, ServerContext};
use crate::shutdown::Shutdown;
use crate::watcher::Watcher;
use sd_notify::NotifyState;
use std::sync::Arc;
use std::time::Duration;

/// How often the `STATUS=` line is refreshed (only sent when its text changed).
const STATUS_EVERY: Duration = Duration::from_secs(5);

/// Sends `states`; a failure is logged once per kind, never fatal (the daemon works without).
fn send(states: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}

/// Tells the service manager a registry reload starts (`RELOADING=1`).
pub fn reloading() {
    match NotifyState::monotonic_usec_now() {
        Ok(now) => send(&[NotifyState::Reloading, now]),
        Err(_) => send(&[NotifyState::Reloading]),
    }
}

/// Tells the service manager the daemon is ready again after a reload.
pub fn reloaded() {
    send(&[NotifyState::Ready]);
}

/// Tells the service manager a clean shutdown has started.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("stopping: finishing the file in hand")]);
}

/// Whether a service manager listens (`NOTIFY_SOCKET` is set).
fn managed() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// The engine is alive and beating: idle it beats every second, busy at every step of a file.
fn engine_alive(health: &EngineHealth) -> bool {
    !health.is_stopped() && health.since_beat() < crate::health::stuck_after()
}

/// One status line: health and the main counts.
fn status_line(ctx: &ServerContext) -> String {
    let s = current_status(ctx);
    let health = if s.healthy { "healthy" } else { "UNHEALTHY" };
    format!(
        "{health}; files {} ingested, {} quarantined; records {}; cases open {}; alerts active {}",
        s.files.ingested,
        s.files.quarantined,
        s.records.admissions + s.records.burials + s.records.marriages,
        s.cases.open,
        s.alerts.active
    )
}

/// Runs until `stop`: sends `READY=1` once the daemon is ready, then the status line and the
/// watchdog pings. Does nothing without a service manager.
pub async fn supervise(ctx: ServerContext, health: Arc<EngineHealth>, watcher: Arc<Watcher>, mut stop: Shutdown) {
    if !managed() {
        return;
    }
    let watchdog = sd_notify::watchdog_enabled().map(|d| (d / 2).max(Duration::from_millis(100)));
    let mut tick = tokio::time::interval(watchdog.unwrap_or(STATUS_EVERY).min(STATUS_EVERY));
    let (mut ready, mut last_status, mut status_at) = (false, String::new(), tokio::time::Instant::now());
    let mut ping_at = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.recv() => return,
        }
        if !ready {
            ready = health.is_running() && watcher.scans() > 0;
            if !ready {
                continue;
            }
            let line = status_line(&ctx);
            send(&[NotifyState::Ready, NotifyState::Status(&line)]);
            tracing::info!("ready: told the service manager");
            last_status = line;
        }
        let now = tokio::time::Instant::now();
        if let Some(every) = watchdog.filter(|every| now >= ping_at + *every - Duration::from_millis(20)) {
            if engine_alive(&health) {
                send(&[NotifyState::Watchdog]);
                ping_at = now;
            } else if now >= ping_at + every * 2 {
                tracing::error!("the engine is not beating: watchdog pings stopped, the service manager restarts mzd");
                ping_at = now;
            }
        }
        if now >= status_at + STATUS_EVERY {
            status_at = now;
            let line = status_line(&ctx);
            if line != last_status {
                send(&[NotifyState::Status(&line)]);
                last_status = line;
            }
        }
    }
}
