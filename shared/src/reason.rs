//! Bilingual, clerk-readable messages (Chinese first, English second).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A message for a person: the Chinese text and the English text of the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The Chinese text.
    pub zh: String,
    /// The English text, saying the same.
    pub en: String,
}

impl Reason {
    /// A message from its Chinese and English texts.
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Reason { zh: zh.into(), en: en.into() }
    }

    /// The text in the requested language.
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// `中文 | English`, the form used in rejects files and reason files.
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} | {}", self.zh, self.en)
    }
}

/// The language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Simplified Chinese, the default.
    #[default]
    Zh,
    /// English.
    En,
}
