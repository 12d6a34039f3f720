//! The one key map (按键表) of the console: every key of the main screen, the views it works in
//! and the command it gives, with the words `?` shows for it. Key handling looks keys up here,
//! the help and the key lines of the views are drawn from here, and the case and station
//! actions take their keys from here; no other module names a key of the main screen.
//!
//! Invariants: within one view a key gives one command (bindings of a view come before the
//! ones of every view, and the first match wins; a test checks there is no second one); the
//! keys inside popups (forms, details) are the popups' own and listed in their footers.

use crate::app::View;
use crate::caseform::Op;
use crate::i18n::{self, L};
use crate::stationform::StationOp;
use crossterm::event::KeyCode;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    /// The view at this index of [`View::ALL`] (number keys).
    GoView(usize),
    NextView,
    PrevView,
    /// Move the selection by this many rows.
    Move(i64),
    First,
    Last,
    /// Open the selected row (detail, residents, preview).
    Open,
    /// Clear the filter, leave the tasks or residents, clear the message.
    Back,
    Filter,
    Palette,
    Help,
    Pause,
    Export,
    Ack,
    ToggleEnded,
    ToggleTasks,
    TaskDone,
    CaseOp(Op),
    StationOp(StationOp),
    /// A key of the report view.
    Report(ReportKey),
}

/// The report view's own commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKey {
    Previous,
    Next,
    Day,
    Month,
    Refresh,
}

/// Where a binding works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Everywhere,
    /// Every view with a list to filter (all but the overview and the report).
    Lists,
    In(View),
}

impl Scope {
    pub fn covers(self, view: View) -> bool {
        match self {
            Scope::Everywhere => true,
            Scope::Lists => !matches!(view, View::Overview | View::Report),
            Scope::In(v) => v == view,
        }
    }
}

/// One line of the key map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub keys: &'static [KeyCode],
    /// The keys as `?` shows them (empty: shown with the binding before it).
    pub shown: &'static str,
    pub scope: Scope,
    pub command: Command,
    pub help: L,
}

const fn b(keys: &'static [KeyCode], shown: &'static str, scope: Scope, command: Command, help: L) -> Binding {
    Binding { keys, shown, scope, command, help }
}

/// A case action: listed with the action's own label.
const fn op(keys: &'static [KeyCode], op: Op) -> Binding {
    b(keys, "", Scope::In(View::Cases), Command::CaseOp(op), L("", ""))
}

/// A station action: listed with the action's own label.
const fn station(keys: &'static [KeyCode], op: StationOp) -> Binding {
    b(keys, "", Scope::In(View::Stations), Command::StationOp(op), L("", ""))
}

use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up};

/// The key map, in the order `?` lists it: each view's own keys, then those of every view.
pub const BINDINGS: &[Binding] = &[
    // 2 Stations.
    b(&[Enter], "Enter / Esc", Scope::In(View::Stations), Command::Open, i18n::KEY_RESIDENTS),
    b(&[Char('t')], "t", Scope::In(View::Stations), Command::ToggleTasks, i18n::KEY_TASKS),
    b(&[Char('d')], "d", Scope::In(View::Stations), Command::TaskDone, i18n::KEY_TASK_DONE),
    station(&[Char('i')], StationOp::Arrival),
    station(&[Char('o')], StationOp::Discharge),
    station(&[Char('x')], StationOp::Incident),
    // 5 Alerts.
    b(&[Char('a')], "a", Scope::In(View::Alerts), Command::Ack, i18n::KEY_ACK),
    // 6 Ingest.
    b(&[Enter], "Enter", Scope::In(View::Ingest), Command::Open, i18n::KEY_PREVIEW),
    // 7 Cases: the detail, the toggle, then the actions in key-line order.
    b(&[Enter], "Enter", Scope::In(View::Cases), Command::Open, i18n::KEY_CASE_DETAIL),
    b(&[Char('t')], "t", Scope::In(View::Cases), Command::ToggleEnded, i18n::KEY_TOGGLE_ENDED),
    op(&[Char('a')], Op::Accept),
    op(&[Char('d')], Op::Dispatch),
    op(&[Char('y')], Op::Reply),
    op(&[Char('r')], Op::Refer),
    op(&[Char('p')], Op::Pay),
    op(&[Char('A')], Op::Approve),
    op(&[Char('R')], Op::Reject),
    op(&[Char('w')], Op::Paperwork),
    op(&[Char('n')], Op::Note),
    op(&[Char('c')], Op::Close),
    op(&[Char('u')], Op::Reopen),
    op(&[Char('o')], Op::Open),
    // 9 Report.
    b(&[Left], "← →", Scope::In(View::Report), Command::Report(ReportKey::Previous), i18n::KEY_REPORT_PERIOD),
    b(&[Right], "", Scope::In(View::Report), Command::Report(ReportKey::Next), i18n::KEY_REPORT_PERIOD),
    b(&[Char('d')], "d", Scope::In(View::Report), Command::Report(ReportKey::Day), i18n::KEY_REPORT_DAY),
    b(&[Char('m')], "m", Scope::In(View::Report), Command::Report(ReportKey::Month), i18n::KEY_REPORT_MONTH),
    b(&[Char('r')], "r", Scope::In(View::Report), Command::Report(ReportKey::Refresh), i18n::KEY_REPORT_REFRESH),
    // Every view.
    b(&[], "1-9", Scope::Everywhere, Command::GoView(0), i18n::KEY_VIEWS),
    b(&[Tab], "Tab / Shift-Tab", Scope::Everywhere, Command::NextView, i18n::KEY_TAB),
    b(&[BackTab], "", Scope::Everywhere, Command::PrevView, i18n::KEY_TAB),
    b(&[Down, Char('j')], "Up Down / j k", Scope::Everywhere, Command::Move(1), i18n::KEY_MOVE),
    b(&[Up, Char('k')], "", Scope::Everywhere, Command::Move(-1), i18n::KEY_MOVE),
    b(&[PageDown], "PgUp PgDn g G", Scope::Everywhere, Command::Move(10), i18n::KEY_PAGE),
    b(&[PageUp], "", Scope::Everywhere, Command::Move(-10), i18n::KEY_PAGE),
    b(&[Home, Char('g')], "", Scope::Everywhere, Command::First, i18n::KEY_PAGE),
    b(&[End, Char('G')], "", Scope::Everywhere, Command::Last, i18n::KEY_PAGE),
    b(&[Enter], "Enter", Scope::Everywhere, Command::Open, i18n::KEY_ENTER),
    b(&[Esc], "Esc", Scope::Everywhere, Command::Back, i18n::KEY_ESC),
    b(&[Char('/')], "/", Scope::Lists, Command::Filter, i18n::KEY_FILTER),
    b(&[Char(':')], ":", Scope::Everywhere, Command::Palette, i18n::KEY_PALETTE),
    b(&[Char('f')], "f", Scope::Everywhere, Command::Pause, i18n::KEY_PAUSE),
    b(&[Char('e')], "e", Scope::Everywhere, Command::Export, i18n::KEY_EXPORT),
    b(&[Char('?')], "?", Scope::Everywhere, Command::Help, i18n::KEY_HELP),
    b(&[Char('q')], "q", Scope::Everywhere, Command::Quit, i18n::KEY_QUIT),
];

/// The command of `code` in `view`, if any. Number keys pick a view by its place.
pub fn command(view: View, code: KeyCode) -> Option<Command> {
    if let Char(c @ '1'..='9') = code {
        let i = (c as u8 - b'1') as usize;
        return (i < View::ALL.len()).then_some(Command::GoView(i));
    }
    BINDINGS.iter().find(|b| b.scope.covers(view) && b.keys.contains(&code)).map(|b| b.command)
}

/// The bindings `?` lists for `view`, in order, one per line (those shown with the line
/// before them left out).
pub fn listed(view: View) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| b.scope.covers(view) && (!b.shown.is_empty() || is_action(b.command)))
}

/// Case and station actions: listed with their own labels.
pub fn is_action(c: Command) -> bool {
    matches!(c, Command::CaseOp(_) | Command::StationOp(_))
}

/// The key of a binding as shown (an action's key is its character).
pub fn shown(b: &Binding) -> String {
    match (b.command, b.keys.first()) {
        (Command::GoView(_), _) => format!("1-{}", View::ALL.len().min(9)),
        (_, Some(Char(c))) if b.shown.is_empty() => c.to_string(),
        _ => b.shown.to_string(),
    }
}

fn char_of(command: Command) -> char {
    BINDINGS
        .iter()
        .find(|b| b.command == command)
        .and_then(|b| match b.keys.first() {
            Some(Char(c)) => Some(*c),
            _ => None,
        })
        .unwrap_or('?')
}

/// The key of a case action.
pub fn case_key(op: Op) -> char {
    char_of(Command::CaseOp(op))
}

/// The case action of a key (in the case queue and in a case's detail).
pub fn case_op(c: char) -> Option<Op> {
    match command(View::Cases, Char(c)) {
        Some(Command::CaseOp(op)) => Some(op),
        _ => None,
    }
}

/// The key of a station action.
pub fn station_key(op: StationOp) -> char {
    char_of(Command::StationOp(op))
}

/// The station action of a key (in the stations view and in a resident's detail).
pub fn station_op(c: char) -> Option<StationOp> {
    match command(View::Stations, Char(c)) {
        Some(Command::StationOp(op)) => Some(op),
        _ => None,
    }
}

/// The key of a command in `view`, as shown in key lines (`t`, `d`, `a`).
pub fn key_of(view: View, command: Command) -> String {
    BINDINGS.iter().find(|b| b.scope.covers(view) && b.command == command).map(shown).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_a_view_each_key_gives_one_command() {
        for view in View::ALL {
            let mut seen: Vec<(KeyCode, Command)> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.scope.covers(view)) {
                for k in b.keys {
                    if let Some((_, first)) = seen.iter().find(|(s, _)| s == k) {
                        // A view's own binding may override one of every view (Enter), never
                        // another of its own.
                        let own = |c: Command| BINDINGS.iter().any(|x| x.command == c && x.scope == Scope::In(view));
                        assert!(
                            !(own(*first) && b.scope == Scope::In(view)),
                            "{view:?}: {k:?} bound twice ({first:?}, {:?})",
                            b.command
                        );
                    } else {
                        seen.push((*k, b.command));
                    }
                }
            }
        }
    }

    #[test]
    fn keys_of_the_actions_and_the_views() {
        assert_eq!(case_key(Op::Approve), 'A');
        assert_eq!(case_op('p'), Some(Op::Pay));
        assert_eq!(case_op('q'), None);
        assert_eq!(station_key(StationOp::Incident), 'x');
        assert_eq!(station_op('o'), Some(StationOp::Discharge));
        assert_eq!(command(View::Cases, Char('d')), Some(Command::CaseOp(Op::Dispatch)));
        assert_eq!(command(View::Stations, Char('d')), Some(Command::TaskDone));
        assert_eq!(command(View::Alerts, Char('d')), None);
        assert_eq!(command(View::Overview, Char('/')), None);
        assert_eq!(command(View::Stations, Char('/')), Some(Command::Filter));
        assert_eq!(command(View::Stations, Enter), Some(Command::Open));
        assert_eq!(command(View::Overview, Char('3')), Some(Command::GoView(2)));
        assert_eq!(command(View::Overview, Char(':')), Some(Command::Palette));
        // Every action has a key.
        assert!(Op::ALL.iter().all(|o| case_key(*o) != '?'));
        assert!(StationOp::ALL.iter().all(|o| station_key(*o) != '?'));
    }
}
