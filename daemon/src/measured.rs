//! What the engine measures as it goes, for `/metrics` ([`crate::metrics`]): the time from
//! taking a feed file to its commit, per feed, since the process started. Kept apart from the
//! metrics server so that the engine depends on nothing that serves clients.
//!
//! Label values come from the registry, which ops engineers write by hand: [`Escaped`] escapes
//! them as the text format requires (`\\`, `\"`, `\n`), which `prometheus-client` itself does
//! not do.

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

/// A label value, escaped for the text format when encoded.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Escaped(pub String);

impl EncodeLabelValue for Escaped {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        for c in self.0.chars() {
            match c {
                '\\' => encoder.write_str("\\\\")?,
                '"' => encoder.write_str("\\\"")?,
                '\n' => encoder.write_str("\\n")?,
                c => encoder.write_char(c)?,
            }
        }
        Ok(())
    }
}

pub type Labels = Vec<(&'static str, Escaped)>;

pub fn label(name: &'static str, value: &str) -> Labels {
    vec![(name, Escaped(value.to_owned()))]
}

/// What the engine measures as it goes (process-wide, from start-up).
struct Measured {
    ingest_seconds: Family<Labels, Histogram>,
}

fn measured() -> &'static Measured {
    static MEASURED: OnceLock<Measured> = OnceLock::new();
    MEASURED.get_or_init(|| Measured {
        ingest_seconds: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 4.0, 10))),
    })
}

/// Records how long a feed file took from being taken to its commit.
pub fn observe_file(feed: mz_shared::feed::Feed, took: Duration) {
    measured().ingest_seconds.get_or_create(&label("feed", feed.as_str())).observe(took.as_secs_f64());
}

/// The ingest-time histogram family, to register in a scrape's registry.
pub fn ingest_seconds() -> Family<Labels, Histogram> {
    measured().ingest_seconds.clone()
}
