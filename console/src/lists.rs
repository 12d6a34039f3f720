//! The selectable, filterable lists (列表) of the views: which ones there are and where each
//! one's selection and filter stand. The rows themselves come from the views
//! (`views::table`); this module holds no data, so every layer may name a list.
//!
//! Invariant: each list keeps its own selection and filter, whatever view is on screen.

/// A selectable, filterable list; each has its own selection and filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListId {
    Overview,
    Stations,
    /// Residents of the station drilled into.
    Residents,
    Sites,
    Offices,
    Alerts,
    Ingest,
    Cases,
    Funds,
    /// Open tasks of the station in view (在站事项).
    Tasks,
}

impl ListId {
    pub const ALL: [ListId; 10] = [
        ListId::Overview,
        ListId::Stations,
        ListId::Residents,
        ListId::Sites,
        ListId::Offices,
        ListId::Alerts,
        ListId::Ingest,
        ListId::Cases,
        ListId::Funds,
        ListId::Tasks,
    ];

    pub const COUNT: usize = ListId::ALL.len();

    pub fn slot(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListState {
    /// Index into the filtered rows.
    pub selected: usize,
    /// Key of the selected row once the user moved to it: the selection then stays on the same
    /// thing when data changes. Until then it stays on the first (newest) row.
    pub key: Option<String>,
    pub filter: String,
}
