//! `mz-client`: the connection to `mzd`'s Unix socket, used by the `mzd` commands and by the
//! `mzc` console. It owns how a client finds the socket ([`socket_path`]), the hello, and the
//! request methods; it depends only on the pure domain crate (`mz-shared`) and tokio, never on
//! the daemon, so the console does not link the store.
//!
//! One [`Client`] is one connection: a hello, then requests answered in order (see
//! [`mz_shared::protocol`]). Typed methods ([`Client::status`]) return the answer's type or a
//! [`ClientError`]; [`Client::call`] returns any answer for the requests without a typed method.

use mz_shared::protocol::{ClientMessage, Request, ServerMessage, StatusReport, PROTOCOL_VERSION};
use mz_shared::registry::Role;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach mzd at {path}: {source} (is `mzd run` running? pass --socket or set MZ_SOCKET)")]
    Connect { path: PathBuf, source: std::io::Error },
    #[error("connection to mzd lost: {0}")]
    Io(#[from] std::io::Error),
    #[error("mzd sent something unexpected: {0}")]
    Protocol(String),
    #[error("{0}")]
    Refused(String),
}

/// The socket a client uses: the flag, else `$MZ_SOCKET`, else the default socket of
/// `./mz-data` (SPEC §1).
pub fn socket_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| std::env::var_os("MZ_SOCKET").filter(|s| !s.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("./mz-data/mzd.sock"))
}

/// The name of the OS user with `uid` (its number when it has no name): who a peer is.
pub fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    // SAFETY: all-zero is a valid `passwd` (null pointers and zero ids) to be filled in.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for the call; `result` points into `pwd`/`buf` on success.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
    if rc != 0 || result.is_null() {
        return uid.to_string();
    }
    // SAFETY: on success pw_name is a NUL-terminated string inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
    name.to_string_lossy().into_owned()
}

/// A connected, greeted client.
pub struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    pub user: String,
    pub role: Role,
    pub daemon_version: String,
}

impl Client {
    pub async fn connect(path: &Path, client_name: &str) -> Result<Client, ClientError> {
        let stream =
            UnixStream::connect(path).await.map_err(|source| ClientError::Connect { path: path.to_owned(), source })?;
        let (r, writer) = stream.into_split();
        let mut c = Client {
            lines: BufReader::new(r).lines(),
            writer,
            user: String::new(),
            role: Role::Viewer,
            daemon_version: String::new(),
        };
        // A daemon over its connection limit says why and closes without reading: its reason is
        // still there to read when writing the hello failed.
        let sent = c.send(&ClientMessage::Hello { protocol: PROTOCOL_VERSION, client: client_name.to_owned() }).await;
        let answer = match (c.recv().await, sent) {
            (Ok(answer), _) => answer,
            (Err(_), Err(e)) | (Err(e), Ok(())) => return Err(e),
        };
        match answer {
            ServerMessage::Welcome { user, role, version, .. } => {
                c.user = user;
                c.role = role;
                c.daemon_version = version;
                Ok(c)
            }
            ServerMessage::Error { reason } => Err(ClientError::Refused(reason.en)),
            other => Err(ClientError::Protocol(format!("{other:?}"))),
        }
    }

    async fn send(&mut self, msg: &ClientMessage) -> Result<(), ClientError> {
        let mut line = serde_json::to_vec(msg).expect("protocol messages serialize");
        line.push(b'\n');
        self.writer.write_all(&line).await?;
        Ok(())
    }

    pub async fn request(&mut self, request: Request) -> Result<(), ClientError> {
        self.send(&ClientMessage::Request(request)).await
    }

    /// The next message from the daemon.
    pub async fn recv(&mut self) -> Result<ServerMessage, ClientError> {
        let line = self.lines.next_line().await?.ok_or_else(|| {
            ClientError::Io(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "mzd closed the connection"))
        })?;
        serde_json::from_str(&line).map_err(|e| ClientError::Protocol(format!("{e}: {line}")))
    }

    /// Sends a request and returns its single answer.
    pub async fn call(&mut self, request: Request) -> Result<ServerMessage, ClientError> {
        self.request(request).await?;
        self.recv().await
    }

    /// The daemon's status (SPEC §6).
    pub async fn status(&mut self) -> Result<StatusReport, ClientError> {
        match self.call(Request::Status).await? {
            ServerMessage::Status(s) => Ok(*s),
            ServerMessage::Error { reason } => Err(ClientError::Refused(reason.to_string())),
            other => Err(ClientError::Protocol(format!("{other:?}"))),
        }
    }

    /// A statistics report (SPEC §8): `period` `None` is the default of `kind` (yesterday, last
    /// month).
    pub async fn report(
        &mut self,
        kind: mz_shared::statistics::PeriodKind,
        period: Option<mz_shared::statistics::Period>,
    ) -> Result<mz_shared::statistics::Report, ClientError> {
        match self.call(Request::Report { kind, period }).await? {
            ServerMessage::Report(r) => Ok(*r),
            ServerMessage::Error { reason } => Err(ClientError::Refused(reason.to_string())),
            other => Err(ClientError::Protocol(format!("{other:?}"))),
        }
    }

    /// The first `lines` lines of a rejects file the dashboard lists, masked as the role asks.
    pub async fn rejects_preview(&mut self, path: &str, lines: u32) -> Result<Vec<String>, ClientError> {
        self.request(Request::RejectsPreview { path: path.to_owned(), lines }).await?;
        let mut out = Vec::new();
        loop {
            match self.recv().await? {
                ServerMessage::Line { line } => out.push(line),
                ServerMessage::End { .. } => return Ok(out),
                ServerMessage::Error { reason } => return Err(ClientError::Refused(reason.to_string())),
                other => return Err(ClientError::Protocol(format!("{other:?}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_over_the_environment_and_the_default() {
        assert_eq!(socket_path(Some(PathBuf::from("/run/mz/mzd.sock"))), PathBuf::from("/run/mz/mzd.sock"));
        // This test alone touches MZ_SOCKET in this test process.
        std::env::set_var("MZ_SOCKET", "/tmp/x.sock");
        assert_eq!(socket_path(None), PathBuf::from("/tmp/x.sock"));
        std::env::set_var("MZ_SOCKET", "");
        assert_eq!(socket_path(None), PathBuf::from("./mz-data/mzd.sock"));
        std::env::remove_var("MZ_SOCKET");
    }

    #[test]
    fn root_has_a_name() {
        assert_eq!(user_name(0), "root");
    }
}
