//! View 7, 救急难 case desk: the queue of open cases (urgent first, then the nearest deadline)
//! with live countdowns and overdue cases marked `[超时]` as well as red; the detail pane with
//! payments, the pending request, each department's reply state (replied / waiting, due in … /
//! overdue), the community, referral links, the unidentified-arrival clocks and the history
//! (in the console's language);
//! the key line of the actions the user's role allows; and the forms and confirmations.

use super::{block, kv};
use crate::app::App;
use crate::caseform::{yuan, CaseForm, Op};
use crate::i18n::{self, Lang, L};
use crate::keymap;
use crate::widgets::form::{self, Popup};
use crate::widgets::table::{self, Column, TableData, TableRow};
use crate::widgets::text::{fit, short_time};
use crate::widgets::Mark;
use mz_shared::case::{self, Case, Overdue, Urgency};
use mz_shared::registry::Limits;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Clear, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Widget, Wrap,
};

/// The case time limits: the registry's, as the daemon pushes them with the dashboard.
pub fn limits(app: &App) -> Limits {
    app.dashboard.as_ref().map(|d| d.limits.clone()).unwrap_or_default()
}

fn clock_label(c: Overdue) -> L {
    match c {
        Overdue::Accept => L("受理", "accept"),
        Overdue::Close => L("办结", "close"),
        Overdue::Paperwork => L("说明", "paperwork"),
        Overdue::Reply => L("答复", "reply"),
    }
}

/// The running clocks of a case (none once it has ended).
fn clocks(c: &Case, limits: &Limits) -> Vec<(Overdue, i64)> {
    if c.is_terminal() {
        return Vec::new();
    }
    let d = case::deadlines(c, limits);
    let mut v = Vec::new();
    if c.state == case::CaseState::New {
        v.push((Overdue::Accept, d.accept_by_ms));
    }
    v.push((Overdue::Close, d.close_by_ms));
    if let Some(p) = d.paperwork_due_ms {
        v.push((Overdue::Paperwork, p));
    }
    if let Some(r) = d.reply_due_ms {
        v.push((Overdue::Reply, r));
    }
    v
}

/// `12分`, `3时`, `2天` (minutes below an hour, hours below two days).
pub fn span(ms: i64, lang: Lang) -> String {
    let m = ms.max(0) / 60_000;
    let (n, unit) = if m < 60 {
        (m, L("分", "m"))
    } else if m < 48 * 60 {
        (m / 60, L("时", "h"))
    } else {
        (m / (24 * 60), L("天", "d"))
    };
    format!("{n}{}", unit.t(lang))
}

/// The countdown cell and whether the case is overdue: `受理剩 12分`, `[超时] 受理 3时`.
pub fn countdown(c: &Case, limits: &Limits, now_ms: i64, lang: Lang) -> (String, bool) {
    let overdue = case::overdue_items(c, limits, now_ms);
    let all = clocks(c, limits);
    if let Some((kind, at)) = all.iter().filter(|(k, _)| overdue.contains(k)).min_by_key(|(_, at)| *at) {
        let text = format!("{} {} {}", i18n::OVERDUE_MARK.t(lang), clock_label(*kind).t(lang), span(now_ms - at, lang));
        return (text, true);
    }
    match all.into_iter().min_by_key(|(_, at)| *at) {
        Some((kind, at)) => {
            let sep = if lang == Lang::En { " " } else { "" };
            (format!("{}{sep}{} {}", clock_label(kind).t(lang), i18n::LEFT.t(lang), span(at - now_ms, lang)), false)
        }
        None => (i18n::CASES_ENDED.t(lang).to_string(), false),
    }
}

/// The cases of the queue held: the page the daemon sent around the selection, in the
/// daemon's order (open ones by urgency, high first, then the nearest running deadline, then
/// the number; with the toggle on, the ended ones after them, latest first). The console does
/// not sort them again.
pub fn queue(app: &App) -> &[Case] {
    app.cases.cases()
}

pub fn street_name(app: &App, id: &str) -> String {
    app.dashboard
        .as_ref()
        .and_then(|d| d.funds.iter().find(|f| f.street == id))
        .map_or_else(|| id.to_string(), |f| f.name.clone())
}

/// The street, and the community when the case names one: `北苑街道 · 北苑社区`.
fn street_cell(app: &App, c: &Case) -> String {
    let street = street_name(app, &c.street);
    let Some(k) = &c.ext.community else { return street };
    let name = app.dashboard.as_ref().and_then(|d| d.communities.iter().find(|x| &x.id == k));
    format!("{street} · {}", name.map_or(k.as_str(), |x| x.name.as_str()))
}

fn state_text(c: &Case, lang: Lang) -> String {
    let mut s = i18n::case_state(c.state, lang);
    if c.pending.is_some() {
        s.push_str(i18n::PENDING_MARK.t(lang));
    }
    s
}

pub fn table(app: &App) -> TableData {
    let lang = app.lang;
    let limits = limits(app);
    let columns = vec![
        Column::left(i18n::CASE_ID.t(lang), 8, 16).keep(),
        Column::left(i18n::STATE.t(lang), 4, 16).keep(),
        Column::left(i18n::STREET.t(lang), 4, 22),
        Column::left(i18n::URGENCY.t(lang), 4, 6).keep(),
        Column::left(i18n::SUMMARY.t(lang), 4, 60).shrink_first(),
        Column::left(i18n::DEADLINE.t(lang), 6, 20).keep(),
        Column::right(i18n::PAID.t(lang), 4, 12).optional(),
    ];
    let rows = queue(app)
        .iter()
        .map(|c| {
            let (countdown, overdue) = countdown(c, &limits, app.now_ms, lang);
            let mark = if overdue {
                Mark::Bad
            } else if c.is_terminal() {
                Mark::Dim
            } else if c.urgency == Urgency::High {
                Mark::Warn
            } else {
                Mark::Normal
            };
            TableRow::new(
                c.id.as_str(),
                vec![
                    c.id.as_str().to_string(),
                    state_text(c, lang),
                    street_cell(app, c),
                    i18n::urgency(c.urgency, lang).to_string(),
                    c.summary_in(lang == Lang::En).to_string(),
                    countdown,
                    yuan(c.paid_total()),
                ],
            )
            .mark(mark)
        })
        .collect();
    TableData { columns, rows }
}

/// The action keys the user's role allows, in key-line order (none for viewers).
pub fn allowed_ops(app: &App) -> Vec<Op> {
    let Some(s) = &app.session else { return Vec::new() };
    Op::ALL.into_iter().filter(|o| case::role_allows(s.role, o.kind())).collect()
}

fn key_line(app: &App) -> Line<'static> {
    let lang = app.lang;
    let theme = app.theme;
    let ops = allowed_ops(app);
    if ops.is_empty() {
        return Line::styled(format!(" {}", i18n::NO_ACTIONS.t(lang)), theme.dim());
    }
    let mut spans = vec![Span::styled(format!(" {}:", i18n::ACTIONS.t(lang)), theme.dim())];
    for o in ops {
        spans.push(Span::styled(format!(" {}", keymap::case_key(o)), theme.warn()));
        spans.push(Span::raw(format!(" {}", o.short().t(lang))));
    }
    Line::from(spans)
}

pub fn render(buf: &mut Buffer, area: Rect, app: &App) {
    let lang = app.lang;
    let theme = app.theme;
    let line = key_line(app);
    // The key line wraps onto a second row when the screen is narrow.
    let rows = if line.width() > area.width as usize { 2 } else { 1 };
    let [top, keys] = Layout::vertical([Constraint::Fill(1), Constraint::Length(rows)]).areas(area);
    let data = super::table(app, crate::app::ListId::Cases);
    // The counts are the daemon's, over every case; the page holds a few screens of them.
    let counts = app.dashboard.as_ref().map(|d| d.status.cases).unwrap_or_default();
    let toggle = if app.show_ended_cases { format!("[t {}]", i18n::CASES_ALL.t(lang)) } else { "[t]".into() };
    let mut title = format!(
        "{}  {} {}  {} {}  {toggle}",
        i18n::VIEW_CASES.t(lang),
        i18n::CASES_OPEN.t(lang),
        counts.open,
        i18n::CASES_OVERDUE.t(lang),
        counts.overdue
    );
    let total = app.cases.total().unwrap_or(0);
    if total > 0 {
        title.push_str(&format!("  {}/{total}", app.case_cursor().min(total - 1) + 1));
    }
    let st = app.list(crate::app::ListId::Cases);
    table::render(
        buf,
        top,
        block(&title, theme, true),
        &data,
        &st.filter,
        Some(st.selected),
        theme,
        i18n::NO_CASES.t(lang),
    );
    scrollbar(buf, top, total, app.case_cursor());
    Paragraph::new(line).wrap(Wrap { trim: false }).render(keys, buf);
}

/// Where the selection stands in the whole queue, on the table's right border (below the
/// header row), when the queue is longer than the rows on screen: the page held is only a part
/// of it.
fn scrollbar(buf: &mut Buffer, area: Rect, total: u64, cursor: u64) {
    if area.height < 5 || area.width < 3 {
        return;
    }
    let track = Rect { x: area.x + area.width - 1, y: area.y + 2, width: 1, height: area.height - 3 };
    if total <= u64::from(track.height) {
        return;
    }
    let len = usize::try_from(total).unwrap_or(usize::MAX);
    let mut state = ScrollbarState::new(len)
        .viewport_content_length(usize::from(track.height))
        .position(usize::try_from(cursor).unwrap_or(usize::MAX));
    let bar = Scrollbar::new(ScrollbarOrientation::VerticalRight).begin_symbol(None).end_symbol(None);
    bar.track_symbol(Some("│")).thumb_symbol("┃").render(track, buf, &mut state);
}

fn at(app: &App, ms: i64) -> String {
    short_time(ms, &app.zone())
}

/// `10-09 16:30 (剩 12分)` or `10-09 16:30 [超时] 3时`.
fn clock_value(app: &App, c: &Case, at_ms: i64) -> (String, Mark) {
    let lang = app.lang;
    let base = at(app, at_ms);
    if c.is_terminal() {
        return (base, Mark::Normal);
    }
    if app.now_ms > at_ms {
        (format!("{base}  {} {}", i18n::OVERDUE_MARK.t(lang), span(app.now_ms - at_ms, lang)), Mark::Bad)
    } else {
        (format!("{base}  ({} {})", i18n::LEFT.t(lang), span(at_ms - app.now_ms, lang)), Mark::Normal)
    }
}

/// The detail of a case: every field, the clocks, payments, pending request, notes, history.
pub fn detail_lines(app: &App, c: &Case) -> Vec<Line<'static>> {
    let lang = app.lang;
    let theme = app.theme;
    let limits = limits(app);
    let d = case::deadlines(c, &limits);
    let mut out = Vec::new();
    let head = format!("{}  {}  {}", c.id, state_text(c, lang), i18n::urgency(c.urgency, lang));
    out.push(Line::styled(head, theme.title()));
    out.push(kv(i18n::STREET.t(lang), format!("{} ({})", street_name(app, &c.street), c.street), Mark::Normal, theme));
    out.push(kv(i18n::SOURCE.t(lang), i18n::source(c.source, lang), Mark::Normal, theme));
    out.push(kv(i18n::OPENED.t(lang), format!("{}  {}", at(app, c.opened_at_ms), c.opened_by), Mark::Normal, theme));
    if let Some(a) = c.accepted_at_ms {
        out.push(kv(i18n::ACCEPTED_AT.t(lang), at(app, a), Mark::Normal, theme));
    }
    out.push(kv(i18n::SUMMARY.t(lang), c.summary_in(lang == Lang::En).to_string(), Mark::Normal, theme));
    if let Some(k) = &c.ext.community {
        let name = app.dashboard.as_ref().and_then(|d| d.communities.iter().find(|x| &x.id == k));
        let text = name.map_or_else(|| k.clone(), |x| format!("{} ({k})", x.name));
        out.push(kv(L("社区/村", "Community").t(lang), text, Mark::Normal, theme));
    }
    if let Some(from) = &c.ext.referred_from {
        out.push(kv(L("转办来源", "Referred from").t(lang), from.to_string(), Mark::Normal, theme));
    }
    if let Some(n) = &c.name {
        out.push(kv(i18n::NAME.t(lang), n.clone(), Mark::Normal, theme));
    }
    if let Some(p) = &c.person {
        out.push(kv(i18n::ID_NUMBER.t(lang), p.masked.clone(), Mark::Normal, theme));
    }
    if let Some(s) = &c.station {
        out.push(kv(i18n::STATION_OF.t(lang), s.clone(), Mark::Normal, theme));
    }
    if !c.departments.is_empty() {
        out.push(Line::styled(format!("{}:", i18n::DEPARTMENTS.t(lang)), theme.dim()));
        for id in &c.departments {
            out.push(department_line(app, c, id));
        }
    }
    if let Some(r) = &c.referred_to {
        let mut text = format!("{} ({r})", street_name(app, r));
        if let Some(new) = &c.ext.referred_to_case {
            text.push_str(&format!("  {} {new}", L("新案件", "new case").t(lang)));
        }
        out.push(kv(i18n::REFERRED_TO.t(lang), text, Mark::Normal, theme));
    }
    // Clocks.
    if c.state == case::CaseState::New || c.accepted_at_ms.is_none() {
        let (v, m) = clock_value(app, c, d.accept_by_ms);
        out.push(kv(i18n::ACCEPT_BY.t(lang), v, m, theme));
    }
    let (v, m) = clock_value(app, c, d.close_by_ms);
    out.push(kv(i18n::CLOSE_BY.t(lang), v, m, theme));
    if let Some(p) = d.paperwork_due_ms {
        let (v, m) = clock_value(app, c, p);
        out.push(kv(i18n::PAPERWORK_DUE.t(lang), v, m, theme));
    }
    // Money.
    out.push(kv(i18n::PAID.t(lang), yuan(c.paid_total()), Mark::Normal, theme));
    if !c.payments.is_empty() {
        out.push(Line::styled(format!("{}:", i18n::PAYMENTS.t(lang)), theme.dim()));
        for p in &c.payments {
            let mut s = format!("  {}  {}  {}", at(app, p.at_ms), yuan(p.amount), p.by);
            if let Some(a) = &p.approved_by {
                s.push_str(&format!("  {} {a}", i18n::APPROVED_BY.t(lang)));
            }
            let (state, mark) = match &p.paperwork {
                Some(t) => (format!("[{}] {t}", i18n::PAPERWORK_FILED.t(lang)), Mark::Normal),
                None => (format!("[{}]", i18n::PAPERWORK_MISSING.t(lang)), Mark::Warn),
            };
            let note = p.note.as_ref().map(|n| format!("  {n}")).unwrap_or_default();
            out.push(Line::from(vec![
                Span::raw(format!("{s}  ")),
                Span::styled(state, theme.mark(mark)),
                Span::raw(note),
            ]));
        }
    }
    if let Some(p) = &c.pending {
        let note = p.note.as_ref().map(|n| format!("  {n}")).unwrap_or_default();
        out.push(kv(
            i18n::PENDING_REQUEST.t(lang),
            format!("{}  {}  {}{note}", yuan(p.amount), p.by, at(app, p.at_ms)),
            Mark::Warn,
            theme,
        ));
    }
    if !c.notes.is_empty() {
        out.push(Line::styled(format!("{}:", i18n::NOTES.t(lang)), theme.dim()));
        for n in &c.notes {
            out.push(Line::raw(format!("  {}  {}  {}", at(app, n.at_ms), n.by, n.text)));
        }
    }
    if let Some(o) = &c.outcome {
        out.push(kv(i18n::OUTCOME_LABEL.t(lang), o.clone(), Mark::Normal, theme));
    }
    if let Some(t) = c.closed_at_ms {
        out.push(kv(i18n::CLOSED_AT.t(lang), at(app, t), Mark::Normal, theme));
    }
    // History.
    out.push(Line::styled(format!("{} ({}):", i18n::HISTORY.t(lang), c.history.len()), theme.title()));
    for (i, h) in c.history.iter().enumerate() {
        out.push(Line::from(vec![
            Span::styled(format!("  {}  ", at(app, h.at_ms)), theme.dim()),
            Span::raw(format!("{}  ", h.user)),
            Span::styled(i18n::case_action(&h.action, lang), theme.warn()),
            Span::raw(format!("  {}", c.detail(i, lang == Lang::En))),
        ]));
    }
    out
}

/// One department of a case: `  公安 (police)  [已答复 10-09 16:30] 已立案`,
/// `[待答复，剩 3时]` or `[超时未答复] 2时` (red).
fn department_line(app: &App, c: &Case, id: &str) -> Line<'static> {
    let lang = app.lang;
    let theme = app.theme;
    let name = app
        .dashboard
        .as_ref()
        .and_then(|d| d.departments.iter().find(|x| x.id == id))
        .map_or_else(|| id.to_string(), |x| format!("{} ({id})", x.name));
    let (state, mark) = match c.dispatch(id) {
        None => (String::new(), Mark::Normal),
        Some(d) => match (d.replied_at_ms, &d.reply) {
            (Some(t), reply) => (
                format!("[{} {}] {}", L("已答复", "replied").t(lang), at(app, t), reply.clone().unwrap_or_default()),
                Mark::Normal,
            ),
            (None, _) if c.is_terminal() => (format!("[{}]", L("未答复", "no reply").t(lang)), Mark::Dim),
            (None, _) if app.now_ms > d.reply_due_ms => (
                format!("[{}] {}", L("超时未答复", "reply overdue").t(lang), span(app.now_ms - d.reply_due_ms, lang)),
                Mark::Bad,
            ),
            (None, _) => (
                format!(
                    "[{}, {} {}]",
                    L("待答复", "waiting").t(lang),
                    L("剩", "due in").t(lang),
                    span(d.reply_due_ms - app.now_ms, lang)
                ),
                Mark::Warn,
            ),
        },
    };
    Line::from(vec![Span::raw(format!("  {name}  ")), Span::styled(state, theme.mark(mark))])
}

/// The detail pane of case `key`, drawn over the view's body and scrolled by `scroll` lines.
pub fn render_detail(buf: &mut Buffer, area: Rect, app: &App, key: &str, scroll: u16) {
    let lang = app.lang;
    let theme = app.theme;
    let Some(c) = app.held_case(key) else {
        return;
    };
    Clear.render(area, buf);
    let footer = format!(" {}  {} ", i18n::DETAIL_KEYS.t(lang), ops_hint(app));
    let b = Block::bordered()
        .title(Span::styled(format!(" {} {} ", i18n::CASE_DETAIL.t(lang), c.id), theme.title()))
        .title_bottom(Span::styled(fit(&footer, area.width.saturating_sub(4) as usize), theme.dim()));
    let inner = b.inner(area);
    b.render(area, buf);
    let inner = Rect { x: inner.x + 1, width: inner.width.saturating_sub(2), ..inner };
    let lines = detail_lines(app, c);
    let max = lines.len().saturating_sub(1) as u16;
    Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll.min(max), 0)).render(inner, buf);
}

fn ops_hint(app: &App) -> String {
    let keys = allowed_ops(app).into_iter().filter(|o| *o != Op::Open).map(|o| keymap::case_key(o).to_string());
    keys.collect::<Vec<_>>().join(" ")
}

/// The case form, or its confirmation, as a popup (the one form widget).
pub fn render_form(buf: &mut Buffer, area: Rect, app: &App, f: &CaseForm) {
    let lang = app.lang;
    let context: Vec<(String, Mark)> = f
        .case
        .iter()
        .map(|c| (format!("{} v{}  {}  {}", c.id, c.version, i18n::case_state(c.state, lang), c.summary), Mark::Dim))
        .collect();
    if f.form.confirming {
        let title = format!("{}: {}", i18n::CONFIRM_TITLE.t(lang), f.op.label().t(lang));
        let popup = Popup { title: &title, context, footer: i18n::CONFIRM_KEYS.t(lang) };
        form::render_confirmation(buf, area, popup, &f.confirmation(lang), app.theme);
    } else {
        let popup = Popup { title: f.op.label().t(lang), context, footer: i18n::FORM_KEYS.t(lang) };
        form::render(buf, area, &f.form, popup, lang, app.theme);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use mz_shared::case::{Actor, CaseId, CaseState, HistoryEntry, OpenCase, Payment, PaymentRequest, Source};
    use mz_shared::dashboard::{Dashboard, FundRow};
    use mz_shared::registry::{Department, Fen, Registry};

    pub const NOW: i64 = crate::views::tests::NOW;
    const M: i64 = 60_000;
    const H: i64 = 60 * M;

    fn registry() -> Registry {
        Registry::demo()
    }

    fn open(seq: u32, street: &str, summary: &str, urgency: Urgency, opened_ago: i64) -> Case {
        let input = OpenCase {
            street: street.into(),
            summary: summary.into(),
            name: Some("王建国".into()),
            urgency,
            ..Default::default()
        };
        Case::open(
            CaseId::new(2025, seq),
            input,
            &Actor::new("duty1", mz_shared::registry::Role::Officer),
            NOW - opened_ago,
            &registry(),
        )
        .expect("opens")
    }

    fn entry(c: &mut Case, ago: i64, user: &str, action: &str, detail: &str) {
        c.history.push(HistoryEntry {
            at_ms: NOW - ago,
            user: user.into(),
            action: action.into(),
            detail: detail.into(),
        });
        c.version += 1;
    }

    /// Cases in every situation the desk must show, in the daemon's queue order: high urgency
    /// first; then the overdue accept (past), the unidentified's accept (10 minutes left), the
    /// close clocks (62 h, 69 h left); then the ended one.
    pub fn queue_cases() -> Vec<Case> {
        // 1: new, opened 40 minutes ago: accept overdue by 10 minutes.
        let late = open(1, "ST-01", "突发重病无力就医", Urgency::Normal, 40 * M);
        // 2: new, high urgency, opened 5 minutes ago: accept in 25 minutes.
        let urgent = open(2, "ST-02", "火灾后无处居住", Urgency::High, 5 * M);
        // 3: accepted, paid ¥3,000 without paperwork, a pending request of ¥8,000.
        let mut paid = open(3, "ST-01", "车祸致困", Urgency::Normal, 3 * H);
        paid.state = CaseState::Accepted;
        paid.accepted_at_ms = Some(NOW - 2 * H);
        entry(&mut paid, 2 * H, "duty1", "accept", "");
        paid.state = CaseState::Aided;
        paid.payments.push(Payment {
            amount: Fen(300_000),
            at_ms: NOW - H,
            by: "duty1".into(),
            approved_by: None,
            note: None,
            paperwork: None,
            paperwork_at_ms: None,
        });
        entry(&mut paid, H, "duty1", "pay", "¥3,000.00");
        paid.pending =
            Some(PaymentRequest { amount: Fen(800_000), at_ms: NOW - 30 * M, by: "duty1".into(), note: None });
        entry(&mut paid, 30 * M, "duty1", "pay_request", "¥8,000.00");
        // 4: accepted, nothing else, normal.
        let mut accepted = open(4, "ST-01", "独居老人断粮", Urgency::Normal, 10 * H);
        accepted.state = CaseState::Accepted;
        accepted.accepted_at_ms = Some(NOW - 9 * H);
        entry(&mut accepted, 9 * H, "chief", "accept", "");
        // 5: unidentified arrival (opened by the daemon).
        let mut unid = open(5, "ST-02", "身份不明人员入站", Urgency::Normal, 20 * M);
        unid.source = Source::UnidentifiedArrival;
        unid.name = None;
        // 6: closed.
        let mut closed = open(6, "ST-02", "已解决的旧案", Urgency::Normal, 100 * H);
        closed.state = CaseState::Closed;
        closed.closed_at_ms = Some(NOW - 50 * H);
        closed.outcome = Some("已送医".into());
        entry(&mut closed, 50 * H, "duty1", "close", "已送医");
        vec![urgent, late, unid, accepted, paid, closed]
    }

    /// The fixture case numbered `seq`.
    pub fn case(seq: u32) -> Case {
        queue_cases().into_iter().find(|c| c.id.seq() == Some(seq)).expect("a fixture case")
    }

    /// The desk's dashboard: the open fixture cases as the urgent list, the status's counts.
    pub fn dashboard() -> Dashboard {
        let mut status = crate::views::tests::sample().status;
        status.cases.open = 5;
        status.cases.overdue = 1;
        Dashboard {
            timezone: "Asia/Shanghai".into(),
            urgent_cases: queue_cases().into_iter().filter(|c| !c.is_terminal()).collect(),
            cases_changes: 1,
            status,
            funds: vec![
                FundRow {
                    street: "ST-01".into(),
                    name: "北苑街道".into(),
                    initial: Fen(2_000_000),
                    balance: Fen(2_000_000),
                    case_cap: Fen(500_000),
                    ..Default::default()
                },
                FundRow {
                    street: "ST-02".into(),
                    name: "中仓街道".into(),
                    initial: Fen(20_000_000),
                    balance: Fen(20_000_000),
                    case_cap: Fen(500_000),
                    ..Default::default()
                },
            ],
            limits: Limits::default(),
            departments: vec![
                Department { id: "police".into(), name: "公安".into() },
                Department { id: "health".into(), name: "卫健".into() },
            ],
            ..crate::views::tests::sample()
        }
    }

    #[test]
    fn the_queue_is_the_page_the_daemon_sent_in_its_order() {
        let mut app = crate::app::tests::app_with(dashboard());
        app.view = crate::app::View::Cases;
        crate::app::tests::serve(&mut app, &queue_cases());
        let ids: Vec<&str> = queue(&app).iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["JJN-2025-000002", "JJN-2025-000001", "JJN-2025-000005", "JJN-2025-000004", "JJN-2025-000003"]
        );
        // Ended cases only with the toggle, after the open ones.
        app.on_key(crate::app::tests::ch('t'));
        crate::app::tests::serve(&mut app, &queue_cases());
        assert_eq!(queue(&app).len(), 6);
        assert_eq!(queue(&app).last().unwrap().id.as_str(), "JJN-2025-000006");
    }

    #[test]
    fn countdowns() {
        let l = Limits::default();
        assert_eq!(countdown(&case(1), &l, NOW, Lang::Zh), ("[超时] 受理 10分".to_string(), true));
        assert_eq!(countdown(&case(2), &l, NOW, Lang::Zh), ("受理剩 25分".to_string(), false));
        assert_eq!(countdown(&case(2), &l, NOW, Lang::En), ("accept in 25m".to_string(), false));
        assert_eq!(countdown(&case(4), &l, NOW, Lang::Zh), ("办结剩 2天".to_string(), false));
        assert_eq!(countdown(&case(6), &l, NOW, Lang::Zh).0, "已结束");
    }
}
