//! The city roll-up daemon (`mzd city --config city.toml`, SPEC §9) for the end-to-end tests,
//! and districts set up to publish to it. Killed on drop.

use crate::{demo_registry, mzd, Daemon, DEFAULT_TIMEOUT, POLL};
use serde_json::{json, Value};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// One `mzd city` on a folder of its own.
pub struct CityDaemon {
    dir: PathBuf,
    config: PathBuf,
    /// The city daemon's socket, `<dir>/data/mzd.sock`: pass it to `mzc --socket` or `mzd status`.
    pub socket: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Extra environment for the next start.
    pub env: Vec<(String, String)>,
}

impl CityDaemon {
    /// Writes `city.toml` (url, credentials, districts as (code, name)) and starts the daemon.
    pub fn start(dir: &Path, url: &str, credentials: Option<&Path>, districts: &[(&str, &str)]) -> CityDaemon {
        CityDaemon::start_keyed(dir, url, credentials, districts, None)
    }

    /// [`CityDaemon::start`] with a `city_key` (the cross-district checks).
    pub fn start_keyed(
        dir: &Path,
        url: &str,
        credentials: Option<&Path>,
        districts: &[(&str, &str)],
        city_key: Option<&Path>,
    ) -> CityDaemon {
        fs::create_dir_all(dir).expect("creating the city folder");
        let mut toml = format!("url = \"{url}\"\ndata = \"data\"\nsocket = \"data/mzd.sock\"\nname = \"北京市\"\n");
        if let Some(c) = credentials {
            toml.push_str(&format!("credentials = \"{}\"\n", c.display()));
        }
        if let Some(k) = city_key {
            toml.push_str(&format!("city_key = \"{}\"\n", k.display()));
        }
        for (code, name) in districts {
            toml.push_str(&format!("\n[[district]]\ncode = \"{code}\"\nname = \"{name}\"\n"));
        }
        let config = dir.join("city.toml");
        fs::write(&config, toml).expect("writing city.toml");
        let mut c = CityDaemon {
            dir: dir.to_owned(),
            config,
            socket: dir.join("data/mzd.sock"),
            log: dir.join("mzd-city.log"),
            child: None,
            env: Vec::new(),
        };
        c.spawn();
        c
    }

    /// Starts `mzd city` and waits until its status answers.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "city already running");
        let mut log = fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("opening log");
        writeln!(log, "===== mz-tests: start of mzd city =====").ok();
        let child = mzd()
            .current_dir(&self.dir)
            .args(["city", "--config"])
            .arg(&self.config)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning mzd city");
        self.child = Some(child);
        self.wait_until("the city answers", |_| true);
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SAFETY: signalling our own child by its pid.
            crate::sys::signal(c.id(), libc::SIGKILL);
            c.wait().expect("waiting for the killed city");
        }
    }

    /// `mzd status --json` against the city: exit code and the JSON, if any.
    pub fn status_raw(&self) -> (Option<i32>, Option<Value>) {
        let out = mzd()
            .args(["status", "--json", "--socket"])
            .arg(&self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("running mzd status");
        (out.status.code(), serde_json::from_slice(&out.stdout).ok())
    }

    /// Polls the city's status until `cond` holds (`timeout`), else fails with the log.
    pub fn wait_until_for(&self, timeout: Duration, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (code, status) = self.status_raw();
            if let Some(s) = status.filter(|s| code.is_some_and(|c| c <= 1) && s["level"] == "city") {
                if cond(&s) {
                    return s;
                }
                if start.elapsed() > timeout {
                    panic!(
                        "timed out after {timeout:?} waiting until {what}\n--- city status ---\n{s:#}\n--- log ---\n{}",
                        self.log_tail()
                    );
                }
            } else if start.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting until {what}: the city does not answer (exit {code:?})\n{}",
                    self.log_tail()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Polls the city's status until `cond` holds ([`DEFAULT_TIMEOUT`](crate::DEFAULT_TIMEOUT)); returns that status.
    pub fn wait_until(&self, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        self.wait_until_for(DEFAULT_TIMEOUT, what, cond)
    }

    /// `mzd alert list --json` against the city.
    pub fn alerts(&self) -> Vec<Value> {
        let out = mzd()
            .args(["alert", "list", "--json", "--socket"])
            .arg(&self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("running mzd alert list");
        assert!(out.status.success(), "mzd alert list against the city: {}", String::from_utf8_lossy(&out.stderr));
        match serde_json::from_slice(&out.stdout) {
            Ok(Value::Array(a)) => a,
            other => panic!("mzd alert list --json against the city is not an array: {other:?}"),
        }
    }

    /// The last 60 lines of the city daemon's log, for a failure message.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(60)..].join("\n")
    }
}

impl Drop for CityDaemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The city's entry for district `code`.
pub fn district_entry<'a>(city: &'a Value, code: &str) -> &'a Value {
    city["districts"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["code"] == code))
        .unwrap_or_else(|| panic!("no district {code} in the city status: {city:#}"))
}

/// The figures of SPEC §9's district entry, taken from a district's own status or from the
/// city's entry for it (the same keys either way).
pub fn district_figures(s: &Value) -> Value {
    json!({
        "files": {
            "ingested": s["files"]["ingested"],
            "quarantined": s["files"]["quarantined"],
            "duplicates": s["files"]["duplicates"],
        },
        "records": s["records"],
        "rejected_rows": s["rejected_rows"],
        "stations": s["stations"],
        "sites": s["sites"],
        "cases": s["cases"],
        "tasks": s["tasks"],
        "alerts": {"active": s["alerts"]["active"]},
    })
}

/// Prepares a district (the demo registry with `code` and `name`) publishing to `url`, with
/// an optional NATS credentials file, and starts it.
pub fn start_district(dir: &Path, code: &str, name: &str, url: &str, credentials: Option<&Path>) -> Daemon {
    let mut d = prepare_district(dir, code, name, url, credentials);
    d.spawn();
    d
}

/// The same without starting it.
pub fn prepare_district(dir: &Path, code: &str, name: &str, url: &str, credentials: Option<&Path>) -> Daemon {
    let registry = demo_registry()
        .replace("district_code = \"110112\"", &format!("district_code = \"{code}\""))
        .replace("district_name = \"通州区\"", &format!("district_name = \"{name}\""));
    let mut d = Daemon::prepare_with_registry(dir, &registry);
    write_publish_config(&d, url, credentials);
    d.args = vec!["--config".into(), d.dir.join("mzd.toml").into()];
    d
}

/// Writes the district's `mzd.toml` with its `[publish]` table.
pub fn write_publish_config(d: &Daemon, url: &str, credentials: Option<&Path>) {
    write_publish_config_keyed(d, url, credentials, None);
}

/// The same with a `city_key`.
pub fn write_publish_config_keyed(d: &Daemon, url: &str, credentials: Option<&Path>, city_key: Option<&Path>) {
    let mut toml = format!("[publish]\nurl = \"{url}\"\n");
    if let Some(c) = credentials {
        toml.push_str(&format!("credentials = \"{}\"\n", c.display()));
    }
    if let Some(k) = city_key {
        toml.push_str(&format!("city_key = \"{}\"\n", k.display()));
    }
    fs::write(d.dir.join("mzd.toml"), toml).expect("writing mzd.toml");
}

/// A district where the test's own user is a supervisor (it opens cases, pays and approves),
/// publishing to `url` with an optional `city_key`; started.
pub fn start_district_keyed(dir: &Path, code: &str, name: &str, url: &str, city_key: Option<&Path>) -> Daemon {
    let registry = crate::registry_as("supervisor")
        .replace("district_code = \"110112\"", &format!("district_code = \"{code}\""))
        .replace("district_name = \"通州区\"", &format!("district_name = \"{name}\""));
    let mut d = Daemon::prepare_with_registry(dir, &registry);
    write_publish_config_keyed(&d, url, None, city_key);
    d.args = vec!["--config".into(), d.dir.join("mzd.toml").into()];
    d.spawn();
    d
}

/// Writes a city key file (64 hex digits, as `openssl rand -hex 32` makes) and returns its bytes.
pub fn write_city_key(path: &Path, seed: u8) -> Vec<u8> {
    let hex: String = (0..32u8).map(|i| format!("{:02x}", i.wrapping_mul(37).wrapping_add(seed))).collect();
    fs::write(path, format!("{hex}\n")).expect("writing the city key");
    fs::read(path).expect("reading the city key back")
}
