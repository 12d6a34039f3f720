//! A real `nats-server` with JetStream for the city roll-up tests (SPEC §9): started on a free
//! loopback port with a store folder of the test's own, stopped by its pid, restartable on the
//! same port and store (an outage). Killed on drop.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `nats-server -js` process (or none, while stopped).
pub struct NatsServer {
    /// The client port on 127.0.0.1, a free one chosen at start.
    pub port: u16,
    /// JetStream's store folder (kept across restarts).
    pub store: PathBuf,
    /// A server config file (accounts, users, permissions), if any.
    pub config: Option<PathBuf>,
    /// The server's output, appended across restarts.
    pub log: PathBuf,
    child: Option<Child>,
}

/// The `nats-server` binary: on `PATH`, else Debian's `/usr/sbin/nats-server`.
pub fn nats_server_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join("nats-server"))
        .find(|p| p.is_file())
    {
        return p;
    }
    let debian = PathBuf::from("/usr/sbin/nats-server");
    assert!(debian.is_file(), "nats-server is not installed (Debian package `nats-server`; .ci/run installs it)");
    debian
}

/// A TCP port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("binding a free port").local_addr().expect("local addr").port()
}

impl NatsServer {
    /// Starts a server with JetStream, its store under `dir`, no authentication.
    pub fn start(dir: &Path) -> NatsServer {
        NatsServer::start_with_config(dir, None)
    }

    /// Starts a server with the given config file text (accounts, users, permissions): port,
    /// address and store are given on the command line.
    pub fn start_with_config(dir: &Path, config: Option<&str>) -> NatsServer {
        let config = config.map(|text| {
            let p = dir.join("nats-server.conf");
            fs::write(&p, text).expect("writing the nats-server config");
            p
        });
        let mut s = NatsServer {
            port: free_port(),
            store: dir.join("nats-store"),
            config,
            log: dir.join("nats-server.log"),
            child: None,
        };
        s.spawn();
        s
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts the process (again) on the same port and store; waits until it accepts.
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "nats-server already running");
        let log = fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("opening the nats log");
        let mut cmd = Command::new(nats_server_path());
        if let Some(c) = &self.config {
            cmd.arg("-c").arg(c);
        }
        cmd.args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        self.child = Some(cmd.spawn().expect("starting nats-server"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen within 20 s; see {}", self.log.display());
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                panic!("nats-server exited with {status}: {}", fs::read_to_string(&self.log).unwrap_or_default());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server cleanly (SIGTERM to its pid) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling our own child by its pid.
            crate::sys::signal(child.id(), libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether the server was started and not stopped since.
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Deletes message `seq` (the stream's own sequence) from stream `stream` through the
    /// JetStream API (`$JS.API.STREAM.MSG.DELETE.<stream>`), speaking the NATS protocol over a
    /// plain socket (no authentication); returns the server's JSON answer.
    pub fn delete_message(&self, stream: &str, seq: u64) -> String {
        use std::io::{BufRead, BufReader, Write};
        let socket = TcpStream::connect(("127.0.0.1", self.port)).expect("connecting to nats-server");
        socket.set_read_timeout(Some(Duration::from_secs(10))).expect("a read timeout");
        let mut reader = BufReader::new(socket.try_clone().expect("a second handle"));
        let mut w = socket;
        let mut line = String::new();
        reader.read_line(&mut line).expect("the server's INFO");
        let payload = format!("{{\"seq\":{seq}}}");
        write!(
            w,
            "CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nSUB _INBOX.mztest 1\r\n\
             PUB $JS.API.STREAM.MSG.DELETE.{stream} _INBOX.mztest {}\r\n{payload}\r\n",
            payload.len()
        )
        .expect("sending the delete request");
        loop {
            line.clear();
            assert!(reader.read_line(&mut line).expect("the server's answer") > 0, "the server closed the connection");
            if line.starts_with("PING") {
                w.write_all(b"PONG\r\n").expect("PONG");
            } else if line.starts_with("-ERR") {
                panic!("nats-server refused: {line}");
            } else if line.starts_with("MSG ") {
                line.clear();
                reader.read_line(&mut line).expect("the answer's payload");
                return line.trim_end().to_owned();
            }
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
