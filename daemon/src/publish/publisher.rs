//! The publisher task: takes the outbox in `seq` order to the NATS JetStream stream `MZ`.
//!
//! A session connects, makes sure the stream exists, asks the server for the last message on
//! the district's subject (its `Nats-Msg-Id` names the last `seq` the server holds, its stream
//! sequence is the next `Nats-Expected-Last-Subject-Sequence`), then publishes `seq + 1`, … one
//! at a time, each only after the previous one was acknowledged. Any failure ends the session;
//! the next starts after a growing delay (0.5 s … 5 s) and asks the server again, so neither a
//! `kill -9` nor an outage can skip or repeat a `seq`: a repeat would also be refused as a
//! duplicate message id, an out-of-order publish by the expected subject sequence.
//!
//! Invariants: [`PublishShared::acked`] moves only on an acknowledgement from the server (or
//! what the server says it holds); the task never writes the store.

use super::outbox::entry_key;
use super::{PublishConfig, PublishShared};
use crate::store::StoreReader;
use async_nats::jetstream::{self, stream};
use mz_shared::city::{message_id, seq_of_message_id, subject, STREAM, STREAM_SUBJECTS};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Why a publishing session ended.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The `credentials` file could not be read or parsed.
    #[error("cannot read the credentials file {path}: {detail}")]
    Credentials {
        /// The credentials file.
        path: std::path::PathBuf,
        /// What went wrong reading it.
        detail: String,
    },
    /// The NATS server did not accept the connection.
    #[error("cannot connect to NATS at {url}: {detail}")]
    Connect {
        /// The server URL from `[publish] url`.
        url: String,
        /// What the client said.
        detail: String,
    },
    /// A JetStream call failed (stream creation, direct get, publish, acknowledgement).
    #[error("JetStream: {0}")]
    JetStream(String),
    /// The server's last `seq` is below what the outbox already pruned: the stream lost
    /// messages.
    #[error("the NATS server holds {server} of this district's commits but the outbox starts after {pruned}: the stream lost messages; the city misses them until it is restored")]
    Lost {
        /// The last `seq` the server holds.
        server: u64,
        /// The outbox is pruned up to here.
        pruned: u64,
    },
    /// An entry between the acknowledged and the written `seq` is not in the store.
    #[error("outbox entry {0} is missing from the store")]
    Missing(u64),
    /// The outbox could not be read.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// The stream every district publishes into and the city reads (either side creates it).
pub fn stream_config() -> stream::Config {
    stream::Config {
        name: STREAM.to_owned(),
        subjects: vec![STREAM_SUBJECTS.to_owned()],
        storage: stream::StorageType::File,
        duplicate_window: Duration::from_secs(3600),
        allow_direct: true,
        ..Default::default()
    }
}

/// Connects to NATS with the configured credentials: a `.creds` file (JWT and nkey seed), or a
/// TOML file with `user` and `password`. Replies come to `<inbox>.…`, an inbox prefix of this
/// daemon's own, so that the server can keep each user to its own replies (docs/nats/).
pub async fn connect(
    url: &str,
    credentials: Option<&std::path::Path>,
    name: &str,
    inbox: &str,
) -> Result<async_nats::Client, PublishError> {
    let mut opts = async_nats::ConnectOptions::new();
    if let Some(path) = credentials {
        let cred_err = |detail: String| PublishError::Credentials { path: path.to_owned(), detail };
        let text = std::fs::read_to_string(path).map_err(|e| cred_err(e.to_string()))?;
        if text.contains("BEGIN NATS USER JWT") {
            opts = async_nats::ConnectOptions::with_credentials(&text).map_err(|e| cred_err(e.to_string()))?;
        } else {
            #[derive(serde::Deserialize)]
            struct UserPassword {
                user: String,
                password: String,
            }
            let up: UserPassword = toml::from_str(&text).map_err(|e| cred_err(e.message().to_owned()))?;
            opts = opts.user_and_password(up.user, up.password);
        }
    }
    let connecting = opts
        .name(name)
        .custom_inbox_prefix(inbox)
        .connection_timeout(Duration::from_secs(5))
        .request_timeout(Some(Duration::from_secs(5)));
    connecting.connect(url).await.map_err(|e| PublishError::Connect { url: url.to_owned(), detail: e.to_string() })
}

fn js_err(e: impl std::fmt::Display) -> PublishError {
    PublishError::JetStream(e.to_string())
}

/// Runs until the process ends: publishing sessions, with a growing delay between them.
pub async fn run(config: PublishConfig, shared: Arc<PublishShared>, reader: StoreReader) {
    let mut delay = Duration::from_millis(500);
    loop {
        let started = std::time::Instant::now();
        let outcome = session(&config, &shared, &reader).await;
        shared.connected.store(false, Ordering::Relaxed);
        if let Err(e) = outcome {
            tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "publishing to the city paused");
            shared.failed(e.to_string());
        }
        if started.elapsed() > Duration::from_secs(30) {
            delay = Duration::from_millis(500);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// One connection: resumes where the server is, then publishes as commits come.
async fn session(config: &PublishConfig, shared: &PublishShared, reader: &StoreReader) -> Result<(), PublishError> {
    let name = format!("mzd district {}", shared.district);
    let inbox = format!("_INBOX_mz_{}", shared.district);
    let client = connect(&config.url, config.credentials.as_deref(), &name, &inbox).await?;
    let js = jetstream::new(client.clone());
    let stream = js.get_or_create_stream(stream_config()).await.map_err(js_err)?;
    let subject = subject(&shared.district);
    let (server_seq, mut expected) = match stream.direct_get_last_for_subject(&subject).await {
        Ok(msg) => {
            let id = msg.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_owned()).unwrap_or_default();
            let seq = seq_of_message_id(&shared.district, &id).ok_or_else(|| {
                js_err(format!("the last message on {subject} has no message id of this district ({id:?})"))
            })?;
            (seq, msg.sequence)
        }
        Err(e) if e.kind() == jetstream::stream::DirectGetErrorKind::NotFound => (0, 0),
        Err(e) => return Err(js_err(e)),
    };
    let acked = shared.acked.load(Ordering::Acquire);
    if server_seq < acked {
        return Err(PublishError::Lost { server: server_seq, pruned: acked });
    }
    shared.acked.store(server_seq, Ordering::Release);
    shared.connected.store(true, Ordering::Relaxed);
    shared.succeeded();
    tracing::info!(server_seq, head = shared.head.load(Ordering::Acquire), "publishing to the city");
    let mut beat = super::heartbeat::Beat::new();
    loop {
        beat.beat_if_due(&client, shared).await;
        let next = shared.acked.load(Ordering::Acquire) + 1;
        if next > shared.head.load(Ordering::Acquire) {
            let _ = tokio::time::timeout(Duration::from_secs(1), shared.wake.notified()).await;
            if client.connection_state() != async_nats::connection::State::Connected {
                shared.connected.store(false, Ordering::Relaxed);
            }
            continue;
        }
        let bytes = reader.get_raw(&entry_key(next))?.ok_or(PublishError::Missing(next))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", message_id(&shared.district, next).as_str());
        headers.insert("Nats-Expected-Last-Subject-Sequence", expected.to_string().as_str());
        let ack = js
            .publish_with_headers(subject.clone(), headers, bytes.to_vec().into())
            .await
            .map_err(js_err)?
            .await
            .map_err(js_err)?;
        expected = ack.sequence;
        shared.acked.store(next, Ordering::Release);
        shared.connected.store(true, Ordering::Relaxed);
        shared.succeeded();
    }
}
