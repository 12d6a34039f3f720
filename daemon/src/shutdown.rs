//! [`Shutdown`]: how every part of `mzd run` learns that the daemon is stopping (after tokio's
//! mini-redis). One [`ShutdownSignal`] is made at start; each part (socket server, connections,
//! metrics server, registry reloads, systemd supervision, the engine thread and its file in
//! hand) holds a [`Shutdown`] from it.
//!
//! Invariants: the signal fires once and never un-fires; [`Shutdown::is_shutdown`] is a plain
//! read that blocking code (the engine between the parts of a large file) may poll, and
//! [`Shutdown::recv`] is what async code awaits; a dropped signal counts as fired, so nothing
//! waits on a daemon that is gone. Waking a thread blocked on its own channel is that thread's
//! business: it registers a waker with [`ShutdownSignal::on_fire`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

type Waker = Box<dyn FnOnce() + Send>;

/// The firing side: held by `mzd run`, fired once when a stop is asked for.
pub struct ShutdownSignal {
    fired: Arc<AtomicBool>,
    notify: watch::Sender<bool>,
    wakers: Mutex<Vec<Waker>>,
}

impl Default for ShutdownSignal {
    fn default() -> Self {
        ShutdownSignal::new()
    }
}

impl ShutdownSignal {
    pub fn new() -> ShutdownSignal {
        ShutdownSignal { fired: Arc::default(), notify: watch::channel(false).0, wakers: Mutex::default() }
    }

    /// A listener for this signal.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { fired: self.fired.clone(), notify: self.notify.subscribe() }
    }

    /// Runs `wake` when the signal fires (at once if it has): for threads that block on
    /// something else, e.g. the engine waiting on its channel.
    pub fn on_fire(&self, wake: impl FnOnce() + Send + 'static) {
        if self.fired.load(Ordering::SeqCst) {
            return wake();
        }
        self.wakers.lock().unwrap_or_else(|p| p.into_inner()).push(Box::new(wake));
    }

    /// Tells every listener to stop. Firing again does nothing.
    pub fn fire(&self) {
        if self.fired.swap(true, Ordering::SeqCst) {
            return;
        }
        self.notify.send_replace(true);
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|p| p.into_inner()));
        for wake in wakers {
            wake();
        }
    }
}

/// The listening side: cheap to clone, one per task or thread.
#[derive(Clone)]
pub struct Shutdown {
    fired: Arc<AtomicBool>,
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    /// Whether the daemon is stopping.
    pub fn is_shutdown(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Resolves once the daemon is stopping (at once if it already is, or if the signal is gone).
    pub async fn recv(&mut self) {
        let _ = self.notify.wait_for(|fired| *fired).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn every_listener_hears_one_fire_and_wakers_run_once() {
        let signal = ShutdownSignal::new();
        let (mut a, b) = (signal.subscribe(), signal.subscribe());
        let woken = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let w = woken.clone();
        signal.on_fire(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert!(!a.is_shutdown());
        assert!(tokio::time::timeout(Duration::from_millis(50), a.recv()).await.is_err(), "not fired yet");
        signal.fire();
        signal.fire();
        assert!(a.is_shutdown() && b.is_shutdown());
        a.recv().await;
        a.recv().await;
        assert_eq!(woken.load(Ordering::SeqCst), 1);
        // A waker registered after the fire runs at once.
        let w = woken.clone();
        signal.on_fire(move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(woken.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_dropped_signal_releases_its_listeners() {
        let signal = ShutdownSignal::new();
        let mut s = signal.subscribe();
        drop(signal);
        tokio::time::timeout(Duration::from_secs(5), s.recv()).await.expect("released");
    }
}
