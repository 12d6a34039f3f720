//! The `:` command palette (命令行), k9s-style: `:cases`, `:station TZ-JZZ`, `:case
//! JJN-2025-000003`, `:filter 宋庄`, `:quit`. Every view is a command by its short name
//! ([`View::slug`]), so a view added to [`View::ALL`] can be reached at once; other commands are
//! lines of [`COMMANDS`] (a command with an argument, such as `:report month`, is one more line
//! there, and takes precedence over a view of the same name).
//!
//! Pure: a typed line is parsed into a [`Run`] that the app carries out; nothing here changes
//! the app.

use crate::app::View;
use crate::i18n::{Lang, L};
use crate::keymap::{Command, ReportKey};

/// What a command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    /// What a key would do.
    Key(Command),
    Show(View),
    /// The stations view, drilled into this station (id or part of its name).
    Station(String),
    /// The case desk with this case's detail open (id or its last digits).
    Case(String),
    /// Filter the list on screen.
    Filter(String),
}

/// One command of the palette.
pub struct Entry {
    pub name: &'static str,
    /// What the argument is, when the command takes one.
    pub arg: Option<L>,
    pub help: L,
    pub parse: fn(Option<&str>) -> Result<Run, L>,
}

const NEEDS_ARG: L = L("缺少参数", "missing argument");

fn station(arg: Option<&str>) -> Result<Run, L> {
    arg.map(|a| Run::Station(a.to_string())).ok_or(NEEDS_ARG)
}

fn case(arg: Option<&str>) -> Result<Run, L> {
    arg.map(|a| Run::Case(a.to_string())).ok_or(NEEDS_ARG)
}

fn filter(arg: Option<&str>) -> Result<Run, L> {
    Ok(Run::Filter(arg.unwrap_or_default().to_string()))
}

fn quit(_: Option<&str>) -> Result<Run, L> {
    Ok(Run::Key(Command::Quit))
}

fn help(_: Option<&str>) -> Result<Run, L> {
    Ok(Run::Key(Command::Help))
}

fn pause(_: Option<&str>) -> Result<Run, L> {
    Ok(Run::Key(Command::Pause))
}

fn report(arg: Option<&str>) -> Result<Run, L> {
    match arg.map(str::trim) {
        None | Some("") => Ok(Run::Show(View::Report)),
        Some("day" | "日报") => Ok(Run::Key(Command::Report(ReportKey::Day))),
        Some("month" | "月报") => Ok(Run::Key(Command::Report(ReportKey::Month))),
        Some(_) => Err(L("用 day 或 month", "use day or month")),
    }
}

fn export(_: Option<&str>) -> Result<Run, L> {
    Ok(Run::Key(Command::Export))
}

/// The commands besides the views, in the order the palette suggests them.
pub const COMMANDS: &[Entry] = &[
    Entry {
        name: "station",
        arg: Some(L("站点编号或名称", "station id or name")),
        help: L("打开该站的在站人员", "open the residents of a station"),
        parse: station,
    },
    Entry {
        name: "case",
        arg: Some(L("案件编号", "case id")),
        help: L("打开案件详情", "open a case's detail"),
        parse: case,
    },
    Entry {
        name: "report",
        arg: Some(L("day 或 month", "day or month")),
        help: L("打开日报或月报", "open the day or month report"),
        parse: report,
    },
    Entry {
        name: "filter", arg: Some(L("文字", "text")), help: L("过滤当前列表", "filter this list"), parse: filter
    },
    Entry {
        name: "pause", arg: None, help: L("暂停/恢复实时刷新", "pause / resume live refresh"), parse: pause
    },
    Entry { name: "export", arg: None, help: L("导出当前表格为CSV", "export this table to CSV"), parse: export },
    Entry { name: "help", arg: None, help: L("按键说明", "keys"), parse: help },
    Entry { name: "quit", arg: None, help: L("退出", "quit"), parse: quit },
];

/// Why a line is refused.
pub const UNKNOWN: L = L("未知命令", "unknown command");

/// Parses a typed line (without the `:`): a command or a view, by its name or the start of it
/// when only one name starts so (`:q`, `:stat TZ-JZZ`).
pub fn parse(line: &str, lang: Lang) -> Result<Run, String> {
    let line = line.trim();
    let (word, arg) = match line.split_once(char::is_whitespace) {
        Some((w, a)) => (w, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (line, None),
    };
    let word = word.to_lowercase();
    if let Some(e) = COMMANDS.iter().find(|e| e.name == word) {
        return (e.parse)(arg).map_err(|l| format!(":{} {}", e.name, l.t(lang)));
    }
    if let Some(v) = View::ALL.into_iter().find(|v| v.slug() == word) {
        return Ok(Run::Show(v));
    }
    let names = names();
    let starting: Vec<&String> = names.iter().filter(|n| !word.is_empty() && n.starts_with(&word)).collect();
    match starting.as_slice() {
        [one] => parse(&format!("{one} {}", arg.unwrap_or_default()), lang),
        _ => Err(format!("{}: :{line}", UNKNOWN.t(lang))),
    }
}

/// Every command name: the commands, then the views.
pub fn names() -> Vec<String> {
    COMMANDS.iter().map(|e| e.name.to_string()).chain(View::ALL.iter().map(|v| v.slug().to_string())).collect()
}

/// The completion of a partly typed command name (Tab), when one name starts so.
pub fn complete(text: &str) -> Option<String> {
    if text.contains(char::is_whitespace) {
        return None;
    }
    let t = text.to_lowercase();
    let all = names();
    let mut starting = all.iter().filter(|n| n.starts_with(&t));
    match (starting.next(), starting.next()) {
        (Some(one), None) => Some(format!("{one} ")),
        _ => None,
    }
}

/// The suggestions shown under what is typed: `name <arg>  help` of the commands and views
/// whose name starts with the word typed.
pub fn suggestions(text: &str, lang: Lang) -> Vec<(String, String)> {
    let word = text.split_whitespace().next().unwrap_or("").to_lowercase();
    let commands = COMMANDS.iter().map(|e| {
        let arg = e.arg.map(|a| format!(" <{}>", a.t(lang))).unwrap_or_default();
        (e.name, format!(":{}{arg}", e.name), e.help.t(lang).to_string())
    });
    let views = View::ALL.iter().map(|v| (v.slug(), format!(":{}", v.slug()), v.label().t(lang).to_string()));
    views.chain(commands).filter(|(n, _, _)| n.starts_with(&word)).map(|(_, s, h)| (s, h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_commands_arguments_and_abbreviations() {
        assert_eq!(parse("cases", Lang::En), Ok(Run::Show(View::Cases)));
        assert_eq!(parse(" Stations ", Lang::En), Ok(Run::Show(View::Stations)));
        assert_eq!(parse("station TZ-JZZ", Lang::En), Ok(Run::Station("TZ-JZZ".into())));
        assert_eq!(parse("stat TZ-JZZ", Lang::En), Err("unknown command: :stat TZ-JZZ".into()), "two names start so");
        assert_eq!(parse("exp", Lang::En), Ok(Run::Key(Command::Export)));
        assert_eq!(parse("station", Lang::Zh), Err(":station 缺少参数".into()));
        assert_eq!(parse("q", Lang::En), Ok(Run::Key(Command::Quit)));
        assert_eq!(parse("quit", Lang::En), Ok(Run::Key(Command::Quit)));
        assert_eq!(parse("filter 宋庄 镇", Lang::En), Ok(Run::Filter("宋庄 镇".into())));
        assert_eq!(parse("case 3", Lang::En), Ok(Run::Case("3".into())));
        assert_eq!(parse("report month", Lang::En), Ok(Run::Key(Command::Report(ReportKey::Month))));
        assert!(parse("report week", Lang::En).is_err());
        assert!(parse("nonsense", Lang::En).is_err());
        assert!(parse("", Lang::En).is_err());
        // Every view by its short name.
        for v in View::ALL {
            assert_eq!(parse(v.slug(), Lang::En), Ok(Run::Show(v)));
        }
    }

    #[test]
    fn completion_and_suggestions() {
        assert_eq!(complete("ca"), None, "case and cases");
        assert_eq!(complete("cas"), None);
        assert_eq!(complete("qu"), Some("quit ".into()));
        assert_eq!(complete("fu"), Some("funds ".into()));
        let s = suggestions("st", Lang::Zh);
        assert_eq!(s.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), [":stations", ":station <站点编号或名称>"]);
        assert!(suggestions("", Lang::En).len() >= View::ALL.len() + COMMANDS.len());
    }
}
