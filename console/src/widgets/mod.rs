//! Reusable drawing pieces: the colour theme (which honours `NO_COLOR`), width-aware text
//! fitting, the fill bar, tables with wide-character alignment, popups, the one form widget, and
//! regions kept between frames.
//! Widgets know nothing of the app's state: they draw what they are given.

pub(crate) mod bar;
pub(crate) mod form;
pub(crate) mod memo;
pub(crate) mod popup;
pub(crate) mod table;
pub(crate) mod text;

use ratatui::style::{Color, Modifier, Style};

/// Styles of the console. Without colour (`NO_COLOR`), only modifiers are used; every state is
/// also spelled out in text, never shown by colour alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Whether colours are used (false when `NO_COLOR` is set).
    pub color: bool,
}

impl Theme {
    fn fg(self, style: Style, color: Color) -> Style {
        if self.color {
            style.fg(color)
        } else {
            style
        }
    }

    pub(crate) fn plain(self) -> Style {
        Style::new()
    }

    pub(crate) fn title(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub(crate) fn header(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED), Color::Cyan)
    }

    pub(crate) fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub(crate) fn tab_active(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD), Color::Cyan)
    }

    pub(crate) fn ok(self) -> Style {
        self.fg(Style::new(), Color::Green)
    }

    pub(crate) fn warn(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    pub(crate) fn bad(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Red)
    }

    pub(crate) fn dim(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::DIM), Color::DarkGray)
    }

    pub(crate) fn banner(self) -> Style {
        if self.color {
            Style::new().add_modifier(Modifier::BOLD).fg(Color::White).bg(Color::Red)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// The style of a row mark.
    pub fn mark(self, mark: Mark) -> Style {
        match mark {
            Mark::Normal => self.plain(),
            Mark::Warn => self.warn(),
            Mark::Bad => self.bad(),
            Mark::Dim => self.dim(),
        }
    }
}

/// How a table row or value should stand out. Always paired with a textual marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mark {
    /// Nothing special.
    #[default]
    Normal,
    /// Needs attention soon (yellow, bold).
    Warn,
    /// Wrong or overdue: needs action now (red, bold).
    Bad,
    /// Done, acknowledged or otherwise inactive (dim).
    Dim,
}
