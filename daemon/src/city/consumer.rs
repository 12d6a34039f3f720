//! The city's durable pull consumer (`mz-city` on stream `MZ`): takes the districts' messages
//! in order, applies each once by (district, `seq`), acknowledges only after its own commit.
//!
//! Invariants: a message is acknowledged only when it is durably applied or known to be applied
//! before; a message that arrives before an earlier `seq` of its district (a redelivery still
//! pending) is handed back with a delay and applied in its turn; one whose turn never comes (the
//! stream lost the one before) is reported by [`super::gaps`]. The book is written only here.

use super::book::{CityBook, Verdict};
use super::{CityConfig, CityShared};
use crate::publish::publisher::{connect, stream_config};
use async_nats::jetstream::{self, consumer, AckKind};
use futures::StreamExt;
use mz_shared::city::{DistrictMessage, STREAM_SUBJECTS};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The durable consumer's name.
pub const CONSUMER: &str = "mz-city";
/// Messages applied in one commit at most.
const BATCH: usize = 512;

/// Runs until the process ends: consuming sessions with a growing delay between them.
pub async fn run(config: CityConfig, book: Arc<Mutex<CityBook>>, shared: Arc<CityShared>) {
    let mut delay = Duration::from_millis(500);
    loop {
        let started = std::time::Instant::now();
        if let Err(e) = session(&config, &book, &shared).await {
            tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "consuming the districts' messages paused");
            shared.failed(e);
        }
        shared.set_connected(false);
        if started.elapsed() > Duration::from_secs(30) {
            delay = Duration::from_millis(500);
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

async fn session(config: &CityConfig, book: &Arc<Mutex<CityBook>>, shared: &CityShared) -> Result<(), String> {
    let client =
        connect(&config.url, config.credentials.as_deref(), "mzd city", "_INBOX_mz_city").await.map_err(err)?;
    let js = jetstream::new(client);
    let stream = js.get_or_create_stream(stream_config()).await.map_err(err)?;
    let consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            CONSUMER,
            consumer::pull::Config {
                durable_name: Some(CONSUMER.to_owned()),
                filter_subject: STREAM_SUBJECTS.to_owned(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(10),
                max_ack_pending: 4096,
                ..Default::default()
            },
        )
        .await
        .map_err(err)?;
    let mut messages = consumer.messages().await.map_err(err)?;
    shared.set_connected(true);
    shared.succeeded();
    loop {
        let first = messages.next().await.ok_or("the consumer's message stream ended")?.map_err(err)?;
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match tokio::time::timeout(Duration::from_millis(2), messages.next()).await {
                Ok(Some(m)) => batch.push(m.map_err(err)?),
                _ => break,
            }
        }
        handle(batch, book, shared).await?;
        shared.succeeded();
    }
}

/// Sorts a batch into applied, known and early messages; commits; then acknowledges.
async fn handle(
    batch: Vec<jetstream::Message>,
    book: &Arc<Mutex<CityBook>>,
    shared: &CityShared,
) -> Result<(), String> {
    let mut planned: HashMap<String, u64> = HashMap::new();
    let (mut apply, mut ack, mut early) = (Vec::new(), Vec::new(), Vec::new());
    for m in batch {
        let Some(message) = read(&m, shared) else {
            ack.push(m);
            continue;
        };
        let last = *planned
            .entry(message.district.clone())
            .or_insert_with(|| book.lock().unwrap_or_else(|p| p.into_inner()).last_seq(&message.district));
        match CityBook::verdict(last, message.seq) {
            Verdict::Apply => {
                planned.insert(message.district.clone(), message.seq);
                apply.push(message);
                ack.push(m);
            }
            Verdict::Duplicate => ack.push(m),
            Verdict::Early { expected } => {
                tracing::debug!(district = %message.district, seq = message.seq, expected, "message ahead of its turn; asked again");
                shared.gaps.early(&message.district, expected, message.seq);
                early.push(m);
            }
        }
    }
    let applied = apply.len();
    let book = book.clone();
    tokio::task::spawn_blocking(move || book.lock().unwrap_or_else(|p| p.into_inner()).apply(apply))
        .await
        .map_err(err)?
        .map_err(|e| format!("the city store cannot be written: {e}"))?;
    if applied > 0 {
        shared.changed();
    }
    for (district, last) in &planned {
        shared.gaps.applied(district, *last);
    }
    for m in ack {
        m.ack().await.map_err(err)?;
    }
    for m in early {
        m.ack_with(AckKind::Nak(Some(Duration::from_millis(500)))).await.map_err(err)?;
    }
    Ok(())
}

/// The district message in `m`, when it is one on its own district's subject; anything else is
/// noted as a problem (and acknowledged: it can never be applied). A district missing from the
/// city config is applied all the same and shown once it is added.
fn read(m: &jetstream::Message, shared: &CityShared) -> Option<DistrictMessage> {
    let code = m.subject.as_str().strip_prefix("mz.district.").unwrap_or_default().to_owned();
    let message = match DistrictMessage::from_json(&m.payload) {
        Ok(message) => message,
        Err(e) => {
            shared.note(format!("a message on {} cannot be read ({e}); it is skipped", m.subject));
            return None;
        }
    };
    if message.district != code {
        shared.note(format!(
            "a message on {} says it comes from district {}; skipped. Check the NATS permissions (docs/nats/)",
            m.subject, message.district
        ));
        return None;
    }
    Some(message)
}
