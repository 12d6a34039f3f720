//! A client of the daemon's socket, used by the `mzd` commands and by the console: one
//! connection, a hello, then requests answered in order (see [`mz_shared::protocol`]).

use mz_shared::protocol::{ClientMessage, Request, ServerMessage, PROTOCOL_VERSION};
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
}
