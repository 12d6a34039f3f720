//! [`Answers`]: an answer of many messages read one item at a time: the lines of an export or a
//! rejects preview, the chunks of a case list (each ends with `End`), or the updates of a
//! subscription (which never ends while the daemon runs).
//!
//! Invariant: once `End` has been read, [`Answers::next`] returns `None` without reading the
//! connection again, so the connection is ready for the next request.

use crate::{unexpected, Client, ClientError};
use mz_shared::dashboard::Dashboard;
use mz_shared::protocol::{CaseView, ServerMessage, StatusReport};

/// What one message of a streamed answer is.
pub(crate) enum Item<T> {
    One(T),
    /// The end, with the daemon's count of items.
    End(u64),
    /// A message this stream does not carry but that may come between (ignored).
    Skip,
}

/// Sorts one message: an item, the end, something to skip, or (given back) an unexpected one.
pub(crate) type Pick<T> = fn(ServerMessage) -> Result<Item<T>, ServerMessage>;

/// The items of a streamed answer, borrowed from the client that asked.
pub struct Answers<'c, T> {
    client: &'c mut Client,
    pick: Pick<T>,
    count: Option<u64>,
}

impl<'c, T> Answers<'c, T> {
    pub(crate) fn new(client: &'c mut Client, pick: Pick<T>) -> Answers<'c, T> {
        Answers { client, pick, count: None }
    }

    /// The next item; `None` after the end. A refusal (the first answer, or a failure midway)
    /// is [`ClientError::Refused`].
    pub async fn next(&mut self) -> Result<Option<T>, ClientError> {
        while self.count.is_none() {
            match (self.pick)(self.client.recv().await?).map_err(unexpected)? {
                Item::One(item) => return Ok(Some(item)),
                Item::End(count) => self.count = Some(count),
                Item::Skip => {}
            }
        }
        Ok(None)
    }

    /// The daemon's count of items, once the end has been read.
    pub fn count(&self) -> Option<u64> {
        self.count
    }

    /// Every remaining item (for short answers only).
    pub async fn collect(mut self) -> Result<Vec<T>, ClientError> {
        let mut out = Vec::new();
        while let Some(item) = self.next().await? {
            out.push(item);
        }
        Ok(out)
    }
}

pub(crate) fn line(msg: ServerMessage) -> Result<Item<String>, ServerMessage> {
    match msg {
        ServerMessage::Line { line } => Ok(Item::One(line)),
        ServerMessage::End { count } => Ok(Item::End(count)),
        other => Err(other),
    }
}

pub(crate) fn case_chunk(msg: ServerMessage) -> Result<Item<Vec<CaseView>>, ServerMessage> {
    match msg {
        ServerMessage::Cases { cases } => Ok(Item::One(cases)),
        ServerMessage::End { count } => Ok(Item::End(count)),
        other => Err(other),
    }
}

pub(crate) fn status(msg: ServerMessage) -> Result<Item<StatusReport>, ServerMessage> {
    match msg {
        ServerMessage::Status(s) => Ok(Item::One(*s)),
        ServerMessage::Error(_) => Err(msg),
        _ => Ok(Item::Skip),
    }
}

pub(crate) fn dashboard(msg: ServerMessage) -> Result<Item<Box<Dashboard>>, ServerMessage> {
    match msg {
        ServerMessage::Dashboard(d) => Ok(Item::One(d)),
        ServerMessage::Error(_) => Err(msg),
        _ => Ok(Item::Skip),
    }
}
