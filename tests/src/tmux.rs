//! The real `mzc` in a detached tmux session, read back with `tmux capture-pane`: the console's
//! end-to-end tests share this.

use crate::{bin_dir, DEFAULT_TIMEOUT};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Whether tmux can be run here (CI installs it).
pub fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// `target/debug/mzc`.
pub fn mzc_path() -> PathBuf {
    let p = bin_dir().join("mzc");
    assert!(p.is_file(), "{} does not exist: run `cargo build --workspace` first", p.display());
    p
}

/// A detached tmux session running one command; killed on drop.
pub struct Tmux {
    name: String,
}

static SESSIONS: AtomicU32 = AtomicU32::new(0);

impl Tmux {
    /// Starts `mzc ARGS` in a 100x30 session; after mzc exits the pane prints its exit code and
    /// whether the terminal is back in canonical (cooked) mode, then waits.
    pub fn start_mzc(dir: &Path, args: &[&str]) -> Tmux {
        let name = format!("mzc-e2e-{}-{}", std::process::id(), SESSIONS.fetch_add(1, Ordering::SeqCst));
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "unset NO_COLOR MZ_SOCKET MZ_EXPORT_DIR; cd '{}' && '{}' {} ; echo MZC-EXIT=$? ; stty -a | grep -q -- ' icanon' && echo TTY-COOKED ; sleep 600",
            dir.display(),
            mzc_path().display(),
            quoted.join(" ")
        );
        let st = Command::new("tmux")
            .args(["new-session", "-d", "-s", &name, "-x", "100", "-y", "30", "sh", "-c", &script])
            .env_remove("NO_COLOR")
            .env_remove("MZ_SOCKET")
            .status()
            .expect("running tmux");
        assert!(st.success(), "tmux new-session failed");
        Tmux { name }
    }

    /// The visible pane as text, one line per row.
    pub fn capture(&self) -> String {
        let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &self.name]).output().expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows every one of `needles`; returns the screen.
    pub fn wait_for(&self, needles: &[&str]) -> String {
        self.wait_until(&format!("{needles:?} on screen"), |screen| needles.iter().all(|n| screen.contains(n)))
    }

    /// Waits until the screen no longer shows `needle`.
    pub fn wait_gone(&self, needle: &str) -> String {
        self.wait_until(&format!("{needle:?} to go away"), |screen| !screen.contains(needle))
    }

    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if done(&screen) {
                return screen;
            }
            if start.elapsed() > DEFAULT_TIMEOUT {
                panic!("timed out waiting for {what}:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends tmux key names (`Enter`, `Tab`, `Escape`, single characters).
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            let st = Command::new("tmux").args(["send-keys", "-t", &self.name, k]).status().expect("send-keys");
            assert!(st.success());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` literally (Chinese included).
    pub fn type_text(&self, text: &str) {
        let st = Command::new("tmux").args(["send-keys", "-t", &self.name, "-l", text]).status().expect("send-keys");
        assert!(st.success());
        std::thread::sleep(Duration::from_millis(50));
    }

    /// Resizes the session's window to `w` columns by `h` rows.
    pub fn resize(&self, w: u16, h: u16) {
        let st = Command::new("tmux")
            .args(["resize-window", "-t", &self.name, "-x", &w.to_string(), "-y", &h.to_string()])
            .status()
            .expect("resize-window");
        assert!(st.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}
