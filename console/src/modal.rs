//! The popups (弹窗) over the views, as one stack: help, the `:` command line, a row's detail,
//! a case's detail, the forms and the daemon's answers. The top one takes the keys and is drawn
//! last; closing it shows the one below (a form opened from a case's detail goes back to it).
//!
//! Invariants: the stack never holds two command lines; a form is removed from the stack when
//! it sends, and the request it sent is then pending on the app, not here.

use crate::caseform::CaseForm;
use crate::lists::ListId;
use crate::stationform::{StationForm, TaskForm};
use crate::widgets::Mark;

/// A rejects file's first lines, read by `main` on request.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub path: String,
    /// `None` while loading; the lines or why they could not be read.
    pub lines: Option<Result<Vec<String>, String>>,
}

/// One popup.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    /// The keys of the view, from the key map, scrolled by `scroll` lines (at 80×24 they do not
    /// all fit).
    Help {
        scroll: u16,
    },
    /// The `:` command line: what is typed, and why the last command was refused.
    Palette {
        text: String,
        error: Option<String>,
    },
    /// The detail of the row with this key in this list; for an ingest row with rejects, the
    /// preview of its rejects file.
    Detail {
        list: ListId,
        key: String,
        preview: Option<Preview>,
    },
    /// A case's detail pane, scrolled by `scroll` lines.
    Case {
        key: String,
        scroll: u16,
    },
    CaseForm(Box<CaseForm>),
    StationForm(Box<StationForm>),
    TaskForm(Box<TaskForm>),
    /// The daemon's answer to a request: title and lines, shown until dismissed.
    Notice {
        title: String,
        lines: Vec<(String, Mark)>,
    },
}

impl Modal {
    /// Whether keys typed here are text (so that `q` does not quit).
    pub fn takes_text(&self) -> bool {
        matches!(self, Modal::Palette { .. } | Modal::CaseForm(_) | Modal::StationForm(_) | Modal::TaskForm(_))
    }
}
