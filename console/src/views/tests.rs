//! Render tests: every view drawn with ratatui's `TestBackend` at 80×24 and 160×48, in both
//! languages, checking labels, figures, alignment of Chinese text, the too-small message, the
//! disconnected banner, the pause indicator and `NO_COLOR`.

use crate::app::tests::{app_with, ch, key};
use crate::app::{App, Conn, View};
use crate::client::ClientEvent;
use crate::i18n::Lang;
use crossterm::event::KeyCode;
use mz_shared::alert::{Alert, AlertKind, AlertState};
use mz_shared::dashboard::*;
use mz_shared::protocol::StatusReport;
use mz_shared::reason::Reason;
use mz_shared::records::{EventKind, Flag, Gender, MarriageKind};
use mz_shared::registry::{Fen, SiteKind, StationKind};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use ratatui::Terminal;
use std::collections::BTreeMap;

/// 2025-10-09 08:53:20 UTC = 16:53 in Shanghai.
pub const NOW: i64 = 1_760_000_000_000;
const H: i64 = 3_600_000;

fn resident(r: &str, name: Option<&str>, age: u8, flags: Vec<Flag>, days: u32, long_stay: bool) -> ResidentRow {
    ResidentRow {
        person_ref: r.into(),
        name: name.map(str::to_string),
        gender: Some(Gender::Male),
        age: Some(age),
        flags,
        bed: Some("A-01".into()),
        admitted_at_ms: NOW - i64::from(days) * 24 * H,
        days,
        long_stay,
        unidentified: name.is_none(),
        incidents: 0,
    }
}

fn station(id: &str, name: &str, kind: StationKind, beds: u32, occupied: u32) -> StationBoard {
    StationBoard {
        id: id.into(),
        name: name.into(),
        kind: Some(kind),
        street: "ST-01".into(),
        beds,
        occupied,
        ..Default::default()
    }
}

fn kinds(v: [u32; 5]) -> BTreeMap<MarriageKind, u32> {
    MarriageKind::ALL.iter().copied().zip(v).collect()
}

/// A dashboard like the demo's, built by hand.
pub fn sample() -> Dashboard {
    let mut jzz = station("TZ-JZZ", "通州区救助管理站", StationKind::Station, 50, 23);
    jzz.today = DayFigures { admits: 4, discharges: 2, incidents: 1 };
    jzz.long_stays = 1;
    jzz.open_incidents = 1;
    let mut sick = resident("TZ-JZZ-00007", Some("王建国"), 45, vec![Flag::Ill], 3, false);
    sick.incidents = 1;
    jzz.residents = vec![
        resident("TZ-JZZ-00001", Some("李德福"), 67, vec![Flag::Elderly], 12, true),
        sick,
        resident("TZ-JZZ-00009", None, 30, vec![Flag::Mental], 1, false),
        resident("TZ-JZZ-00012", Some("张小龙"), 15, vec![Flag::Minor], 0, false),
    ];
    jzz.recent = vec![
        EventRow {
            at_ms: NOW - H,
            event: EventKind::Incident,
            person_ref: "TZ-JZZ-00007".into(),
            record_id: "R-9".into(),
            detail: Some("severe_illness".into()),
        },
        EventRow {
            at_ms: NOW - 2 * H,
            event: EventKind::Discharge,
            person_ref: "TZ-JZZ-00003".into(),
            record_id: "R-8".into(),
            detail: Some("home".into()),
        },
        EventRow {
            at_ms: NOW - 3 * H,
            event: EventKind::Admit,
            person_ref: "TZ-JZZ-00012".into(),
            record_id: "R-7".into(),
            detail: None,
        },
    ];
    jzz.tasks = vec![
        TaskRow {
            id: "TZ-JZZ/TZ-JZZ-00009/family_notice".into(),
            kind: mz_shared::task::TaskKind::FamilyNotice,
            person_ref: "TZ-JZZ-00009".into(),
            created_at_ms: NOW - 26 * H,
            due_at_ms: NOW - 2 * H,
        },
        TaskRow {
            id: "TZ-JZZ/TZ-JZZ-00009/dna_request".into(),
            kind: mz_shared::task::TaskKind::DnaRequest,
            person_ref: "TZ-JZZ-00009".into(),
            created_at_ms: NOW - 26 * H,
            due_at_ms: NOW + 5 * 24 * H,
        },
    ];
    let mut p04 = station("TZ-P04", "宋庄镇临时救助点", StationKind::Point, 6, 7);
    p04.today.admits = 2;
    let stations = vec![
        jzz,
        station("TZ-P01", "中仓街道临时救助点", StationKind::Point, 8, 2),
        station("TZ-P02", "永顺镇临时救助点", StationKind::Point, 10, 0),
        station("TZ-P03", "梨园镇临时救助点", StationKind::Point, 12, 3),
        p04,
        station("TZ-P05", "马驹桥镇临时救助点", StationKind::Point, 8, 1),
    ];
    let site = |id: &str, name: &str, town: &str, kind: SiteKind, cap: u32, occ: u32| SiteBoard {
        id: id.into(),
        name: name.into(),
        town: town.into(),
        kind: Some(kind),
        capacity_total: cap,
        occupied: occ,
        reported_on: Some("2025-09-30".into()),
        eco_share: Some(0.45),
        new_interments: 100,
        eco_interments: 45,
        months_to_full: Some(f64::from(cap - occ) / 20.0),
        zero_growth_violation: false,
        history: vec![("2025-08-31".into(), cap, occ - 20), ("2025-09-30".into(), cap, occ)],
    };
    let mut village = site("V-SZ-01", "宋庄镇东村村级埋葬点", "宋庄镇", SiteKind::Village, 240, 150);
    village.zero_growth_violation = true;
    let sites = vec![
        site("C-SZ", "宋庄镇公益性墓园", "宋庄镇", SiteKind::Public, 4000, 2100),
        site("C-MJQ", "马驹桥镇公益性墓园", "马驹桥镇", SiteKind::Public, 3000, 2730),
        village,
        site("V-YJW-01", "于家务回族乡中村村级埋葬点", "于家务回族乡", SiteKind::Village, 200, 120),
        site("K-TZ", "通州区骨灰堂", "潞城镇", SiteKind::Columbarium, 12000, 7400),
    ];
    let offices = vec![
        OfficeBoard {
            id: "M-TZ".into(),
            name: "通州区婚姻登记中心".into(),
            today: kinds([6, 1, 2, 0, 1]),
            last_7_days: kinds([31, 5, 9, 1, 3]),
            last_30_days: kinds([142, 21, 40, 6, 11]),
            daily_30: (0..30).map(|i| 3 + i % 5).collect(),
            cross_district_share: Some(0.183),
            counselling_rate: Some(0.42),
            lapsed_30_days: 1,
            lapsed_total: 3,
        },
        OfficeBoard {
            id: "M-TZ-MJQ".into(),
            name: "通州区婚姻登记中心马驹桥分中心".into(),
            today: kinds([2, 0, 0, 0, 0]),
            last_7_days: kinds([9, 1, 2, 0, 0]),
            last_30_days: kinds([37, 4, 8, 1, 2]),
            daily_30: (0..30).map(|i| i % 3).collect(),
            cross_district_share: None,
            counselling_rate: Some(0.5),
            ..Default::default()
        },
    ];
    let registrations_daily = (0..30).map(|i| kinds([4 + i % 6, i % 2, 1, 0, i % 3])).collect();
    let alert = |id: &str, kind: AlertKind, subject: &str, zh: &str, en: &str, state: AlertState| Alert {
        id: id.into(),
        kind,
        subject: subject.into(),
        raised_at_ms: NOW - 2 * H,
        message: Reason::new(zh, en),
        record_id: Some("R-1".into()),
        state,
    };
    let alerts = vec![
        alert("a-over", AlertKind::OverCapacity, "TZ-P04", "床位已满：7/6", "over capacity: 7/6", AlertState::Active),
        alert("a-long", AlertKind::LongStay, "TZ-JZZ", "李德福在站12天", "in station for 12 days", AlertState::Active),
        alert(
            "a-inc",
            AlertKind::Incident,
            "TZ-JZZ",
            "重病",
            "severe illness",
            AlertState::Acknowledged { by: "duty2".into(), at_ms: NOW - H },
        ),
    ];
    let ingest = vec![
        IngestEntry {
            name: "adm-2.csv".into(),
            feed: Some("admissions".into()),
            at_ms: NOW - 60_000,
            outcome: "ingested".into(),
            stored: 12,
            corrected: 0,
            duplicate: 1,
            rejected: 2,
            dest: "/data/archive/admissions/2025-10-09/adm-2.csv".into(),
            note: Some("/data/quarantine/admissions/adm-2.csv.rejects.csv".into()),
        },
        IngestEntry {
            name: "殡葬月报.csv".into(),
            feed: Some("burials".into()),
            at_ms: NOW - 120_000,
            outcome: "ingested".into(),
            stored: 90,
            corrected: 0,
            duplicate: 0,
            rejected: 0,
            dest: "/data/archive/burials/2025-10-09/殡葬月报.csv".into(),
            note: None,
        },
        IngestEntry {
            name: "junk.xlsx".into(),
            feed: None,
            at_ms: NOW - 180_000,
            outcome: "quarantined".into(),
            stored: 0,
            corrected: 0,
            duplicate: 0,
            rejected: 0,
            dest: "/data/quarantine/unsorted/junk.xlsx".into(),
            note: Some("不支持的文件类型 | unsupported file type".into()),
        },
    ];
    let mut status = StatusReport { version: "0.1.0".into(), healthy: true, ..Default::default() };
    status.files.ingested = 14;
    status.files.quarantined = 1;
    status.alerts.active = 2;
    status.alerts.by_kind.insert("over_capacity".into(), 1);
    status.alerts.by_kind.insert("long_stay".into(), 1);
    status.cases.open = 3;
    Dashboard {
        generated_at_ms: NOW,
        timezone: "Asia/Shanghai".into(),
        today: "2025-10-09".into(),
        status,
        stations,
        sites,
        offices,
        registrations_daily,
        cooling_off: vec![
            CoolingOffEntry {
                office_id: "M-TZ".into(),
                record_id: "M-20250920-3".into(),
                applied_at_ms: NOW - 19 * 24 * H,
                days_left: 11,
                window: DivorceWindow::CoolingOff,
            },
            CoolingOffEntry {
                office_id: "M-TZ".into(),
                record_id: "M-20250815-7".into(),
                applied_at_ms: NOW - 45 * 24 * H,
                days_left: 15,
                window: DivorceWindow::Registration,
            },
        ],
        alerts,
        ingest,
        rejected_today: 2,
        arrivals_by_hour: ArrivalsByHour {
            today: hours(&[(3, 1), (9, 2), (14, 1), (16, 2)]),
            yesterday: hours(&[(8, 3), (20, 1)]),
        },
        ..Default::default()
    }
}

/// Counts per hour from (hour, count) pairs.
fn hours(counts: &[(usize, u32)]) -> HourCounts {
    let mut h = HourCounts::default();
    for (hour, n) in counts {
        h.0[*hour] = *n;
    }
    h
}

fn draw(app: &App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| super::draw(f, app)).unwrap();
    t.backend().buffer().clone()
}

/// The screen as text lines; the right half of a wide character is skipped.
fn lines(buf: &Buffer) -> Vec<String> {
    let a = buf.area;
    (0..a.height)
        .map(|y| {
            let mut s = String::new();
            let mut skip = 0;
            for x in 0..a.width {
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let sym = buf[(x, y)].symbol();
                skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
                s.push_str(sym);
            }
            s
        })
        .collect()
}

fn text(buf: &Buffer) -> String {
    lines(buf).join("\n")
}

/// The app drawn at `w`×`h`, as text.
pub fn screen(app: &App, w: u16, h: u16) -> String {
    text(&draw(app, w, h))
}

/// The x (in cells) where `needle` starts on row `y`, if it does.
fn x_of(buf: &Buffer, y: u16, needle: &str) -> Option<u16> {
    let first = needle.chars().next()?;
    let w = buf.area.width;
    (0..w).find(|x| {
        let mut s = String::new();
        let mut cx = *x;
        while cx < w
            && unicode_width::UnicodeWidthStr::width(s.as_str()) < unicode_width::UnicodeWidthStr::width(needle)
        {
            let sym = buf[(cx, y)].symbol();
            s.push_str(sym);
            cx += unicode_width::UnicodeWidthStr::width(sym).max(1) as u16;
        }
        s.starts_with(first) && s == needle
    })
}

/// Rows (y) on which `needle` appears.
fn rows_with(buf: &Buffer, needle: &str) -> Vec<u16> {
    lines(buf).iter().enumerate().filter(|(_, l)| l.contains(needle)).map(|(y, _)| y as u16).collect()
}

fn app(lang: Lang, view: View) -> App {
    let mut a = app_with(sample());
    a.lang = lang;
    a.view = view;
    a
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

fn assert_all(buf: &Buffer, wanted: &[&str]) {
    let t = text(buf);
    for w in wanted {
        assert!(t.contains(w), "missing {w:?} at {}x{} in:\n{t}", buf.area.width, buf.area.height);
    }
}

#[test]
fn chrome_shows_tabs_user_role_connection_and_local_time() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Overview), w, h);
        assert_all(&b, &["[1 总览]", "2 救助站", "5 告警(2)", "7 救急难", "duty1", "值班员", "[已连接]", "16:53:20"]);
        let b = draw(&app(Lang::En, View::Overview), w, h);
        assert_all(&b, &["[1 Overview]", "2 Stations", "7 Cases", "duty1", "officer", "[connected]", "16:53:20"]);
    }
}

#[test]
fn overview_tiles() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Overview), w, h);
        assert_all(
            &b,
            &[
                "救助站床位",
                "通州区救助管理站",
                "23/50",
                "7/6!",
                "墓位容量",
                "今日婚姻登记",
                "结婚",
                "待处理告警 2",
                "导入状况",
                "adm-2.csv",
                "今日拒收行 2",
            ],
        );
        let b = draw(&app(Lang::En, View::Overview), w, h);
        assert_all(
            &b,
            &[
                "Station beds",
                "23/50",
                "Cemetery capacity",
                "Registrations today",
                "marriage",
                "Active alerts 2",
                "Ingest health",
                "rows rejected today 2",
            ],
        );
    }
}

#[test]
fn stations_view_columns_align_with_chinese_names() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Stations), w, h);
        assert_all(
            &b,
            &[
                "通州区救助管理站",
                "马驹桥镇临时救助点",
                "在站人员",
                "[长期滞留]",
                "未成年",
                "精神障碍",
                "身份不明",
                "最近事件",
                "!异常",
                "重病",
            ],
        );
        // The beds column starts at the same x on every station row, whatever the name's width.
        let xs: Vec<u16> = ["23/50", "2/8", "0/10", "3/12", "7/6!", "1/8"]
            .iter()
            .map(|n| {
                let y = rows_with(&b, n)[0];
                let l = &lines(&b)[y as usize];
                let byte = l.find('[').unwrap();
                unicode_width::UnicodeWidthStr::width(&l[..byte]) as u16
            })
            .collect();
        assert!(xs.windows(2).all(|p| p[0] == p[1]), "beds column misaligned at {w}x{h}: {xs:?}\n{}", text(&b));
        let b = draw(&app(Lang::En, View::Stations), w, h);
        assert_all(&b, &["Residents", "LONG STAY", "minor", "mental", "unidentified", "Recent events", "!incident"]);
    }
}

#[test]
fn drilling_into_residents_keeps_long_stays_marked_in_text() {
    let mut a = app(Lang::Zh, View::Stations);
    a.on_key(key(KeyCode::Enter));
    for (w, h) in SIZES {
        let b = draw(&a, w, h);
        assert_all(&b, &["> 在站人员", "李德福", "[长期滞留]", "12"]);
        // The marks column starts at the same x on every resident row.
        let xs: Vec<u16> = ["[长期滞留]", "疾病", "精神障碍", "未成年"]
            .iter()
            .filter_map(|m| rows_with(&b, m).first().and_then(|y| x_of(&b, *y, m)))
            .collect();
        assert_eq!(xs.len(), 4, "{}", text(&b));
        assert!(xs.windows(2).all(|p| p[0] == p[1]), "marks column misaligned: {xs:?}\n{}", text(&b));
    }
    a.on_key(key(KeyCode::Enter));
    let b = draw(&a, 80, 24);
    assert_all(&b, &["TZ-JZZ-00001", "入站时间"]);
}

#[test]
fn burials_view() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Burials), w, h);
        assert_all(&b, &["宋庄镇公益性墓园", "公益性墓园", "4000", "2100", "91%", "将满", "扩容违规", "45%", "13.5"]);
        let b = draw(&app(Lang::En, View::Burials), w, h);
        assert_all(&b, &["public", "village", "near full", "grew: breach"]);
    }
    let b = draw(&app(Lang::Zh, View::Burials), 160, 48);
    let ys = rows_with(&b, "墓园 ");
    assert!(!ys.is_empty());
    let kinds: Vec<u16> = rows_with(&b, "公益性墓园 ")
        .into_iter()
        .chain(rows_with(&b, "村级埋葬点 "))
        .chain(rows_with(&b, "骨灰堂"))
        .filter_map(|y| {
            let l = &lines(&b)[y as usize];
            ["公益性墓园 ", "村级埋葬点 ", "骨灰堂"]
                .iter()
                .filter_map(|k| l.rfind(k).map(|i| unicode_width::UnicodeWidthStr::width(&l[..i]) as u16))
                .max()
        })
        .collect();
    assert!(
        kinds.len() >= 5 && kinds.windows(2).all(|p| p[0] == p[1]),
        "kind column misaligned: {kinds:?}\n{}",
        text(&b)
    );
}

#[test]
fn marriages_view() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Marriages), w, h);
        assert_all(
            &b,
            &[
                "通州区婚姻登记中心",
                "离婚申请",
                "142",
                "跨区比例",
                "18.3%",
                "辅导率",
                "42.0%",
                "1 冷静期",
                "2 申领期",
                "M-20250920-3",
                "M-20250815-7",
                "视为撤回申请 3",
            ],
        );
        let b = draw(&app(Lang::En, View::Marriages), w, h);
        assert_all(
            &b,
            &["divorce application", "cross-district", "counselling", "1 cooling-off", "2 to register", "lapsed 3"],
        );
    }
}

#[test]
fn alerts_view_marks_state_in_text() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Alerts), w, h);
        assert_all(&b, &["! 待处理", "超员", "宋庄镇临时救助点", "床位已满", "已确认 duty2", "长期滞留"]);
        let b = draw(&app(Lang::En, View::Alerts), w, h);
        assert_all(&b, &["! ACTIVE", "over capacity", "acked duty2"]);
    }
}

#[test]
fn ingest_view_and_rejects_preview() {
    for (w, h) in SIZES {
        let b = draw(&app(Lang::Zh, View::Ingest), w, h);
        assert_all(&b, &["adm-2.csv", "救助站事件", "已导入", "已隔离", "!2", "今日拒收行 2", "殡葬月报.csv"]);
        let b = draw(&app(Lang::En, View::Ingest), w, h);
        assert_all(&b, &["ingested", "QUARANTINED", "rows rejected today 2"]);
    }
    let mut a = app(Lang::Zh, View::Ingest);
    a.on_key(key(KeyCode::Enter));
    a.set_preview(
        "/data/quarantine/admissions/adm-2.csv.rejects.csv",
        Ok(vec!["line,reason,record_id".into(), "3,身份证号校验码错误 | bad check digit,A-3".into()]),
    );
    let b = draw(&a, 80, 24);
    assert_all(&b, &["拒收行预览", "身份证号校验码错误"]);
}

#[test]
fn problems_that_need_attention_show_while_healthy() {
    let mut a = app(Lang::Zh, View::Ingest);
    if let Some(d) = a.dashboard_mut() {
        d.status.healthy = true;
        d.status.problems = vec!["file secret.csv in the inbox cannot be read".into()];
    }
    assert_all(&draw(&a, 160, 48), &["运行正常，需处理", "secret.csv"]);
    a.view = View::Overview;
    assert_all(&draw(&a, 160, 48), &["运行正常，需处理"]);
}

#[test]
fn too_small_shows_the_size_needed() {
    let a = app(Lang::Zh, View::Overview);
    for (w, h) in [(79, 24), (80, 23), (40, 10)] {
        let b = draw(&a, w, h);
        assert_all(&b, &["终端窗口太小", "80x24", &format!("{w}x{h}")]);
        assert!(!text(&b).contains("救助站床位"));
    }
    let mut a = app(Lang::En, View::Overview);
    a.lang = Lang::En;
    assert_all(&draw(&a, 60, 20), &["terminal too small", "needs at least 80x24", "now 60x20"]);
}

#[test]
fn disconnected_banner_keeps_last_data_greyed() {
    let mut a = app(Lang::Zh, View::Overview);
    a.on_client(ClientEvent::Disconnected { error: "connection refused".into(), attempt: 2 });
    assert_eq!(a.conn, Conn::Disconnected { error: "connection refused".into(), attempt: 2 });
    let b = draw(&a, 80, 24);
    assert_all(&b, &["连接中断，正在重连…", "[未连接]", "通州区救助管理站"]);
    let y = rows_with(&b, "通州区救助管理站")[0];
    let x = x_of(&b, y, "通州区救助管理站").unwrap();
    assert_eq!(b[(x, y)].fg, Color::DarkGray);
    a.lang = Lang::En;
    assert_all(&draw(&a, 80, 24), &["disconnected, reconnecting...", "[disconnected]"]);
    a.on_client(ClientEvent::Connected { user: "duty1".into(), role: mz_shared::registry::Role::Officer });
    assert!(!text(&draw(&a, 80, 24)).contains("reconnecting"));
}

#[test]
fn pause_indicator() {
    let mut a = app(Lang::Zh, View::Overview);
    a.on_key(ch('f'));
    a.on_client(ClientEvent::Dashboard(Box::new(sample())));
    assert_all(&draw(&a, 80, 24), &["[已暂停 (1 条更新待显示)]"]);
    a.lang = Lang::En;
    assert_all(&draw(&a, 80, 24), &["[paused (1 held)]"]);
}

#[test]
fn help_lists_the_keys_of_the_view() {
    let mut a = app(Lang::Zh, View::Alerts);
    a.on_key(ch('?'));
    for (w, h) in SIZES {
        assert_all(&draw(&a, w, h), &["按键说明", "确认选中的告警", "暂停/恢复实时刷新", "导出当前表格为CSV", "退出"]);
    }
    a.lang = Lang::En;
    assert_all(&draw(&a, 80, 24), &["Keys", "acknowledge the selected alert", "pause / resume live refresh"]);
}

#[test]
fn filter_line_shows_what_is_typed() {
    let mut a = app(Lang::Zh, View::Burials);
    a.on_key(ch('/'));
    for c in "村级".chars() {
        a.on_key(ch(c));
    }
    let b = draw(&a, 80, 24);
    assert_all(&b, &["/过滤 村级_", "2/5 行", "宋庄镇东村村级埋"]);
    assert!(!text(&b).contains("马驹桥镇公益性墓园"));
}

#[test]
fn no_color_uses_no_colours_anywhere() {
    for view in View::ALL {
        let mut a = app(Lang::Zh, view);
        a.theme.color = false;
        a.on_client(ClientEvent::Disconnected { error: "x".into(), attempt: 1 });
        a.on_key(ch('f'));
        for (w, h) in SIZES {
            let b = draw(&a, w, h);
            for c in b.content() {
                assert_eq!((c.fg, c.bg), (Color::Reset, Color::Reset), "colour in {view:?} at {w}x{h}");
            }
        }
    }
    // With colour, something is coloured.
    let b = draw(&app(Lang::Zh, View::Alerts), 80, 24);
    assert!(b.content().iter().any(|c| c.fg != Color::Reset));
}

#[test]
fn waiting_for_the_first_dashboard() {
    let a = App::new(Lang::Zh, true);
    assert_all(&draw(&a, 80, 24), &["正在连接…", "[正在连接…]"]);
}

#[test]
fn every_view_renders_at_every_size_without_panicking() {
    for lang in [Lang::Zh, Lang::En] {
        for view in View::ALL {
            for (w, h) in [(80, 24), (100, 30), (120, 40), (160, 48), (250, 60)] {
                let mut a = app(lang, view);
                draw(&a, w, h);
                a.on_key(key(KeyCode::Enter));
                draw(&a, w, h);
                a.on_key(ch('?'));
                draw(&a, w, h);
            }
        }
    }
    // An empty dashboard too.
    let mut a = app_with(Dashboard::default());
    for view in View::ALL {
        a.view = view;
        draw(&a, 80, 24);
    }
}

#[test]
fn borders_are_never_covered_by_wide_characters() {
    let mut d = sample();
    for k in ["site_nearly_full", "village_growth", "bigamy_risk", "incident", "cooling_off"] {
        d.status.alerts.by_kind.insert(k.into(), 1);
    }
    for lang in [Lang::Zh, Lang::En] {
        for view in View::ALL {
            for (w, h) in [(80, 24), (100, 30), (101, 30), (160, 48)] {
                let mut a = app_with(d.clone());
                a.lang = lang;
                a.view = view;
                let b = draw(&a, w, h);
                for y in 1..h - 2 {
                    let sym = b[(w - 1, y)].symbol();
                    assert!(
                        ["│", "┐", "┘", " "].contains(&sym),
                        "{view:?} {lang:?} {w}x{h}: right edge at row {y} is {sym:?}\n{}",
                        text(&b)
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The case desk (view 7).

fn case_app(lang: Lang, role: mz_shared::registry::Role) -> App {
    let mut a = app_with(crate::views::cases::tests::dashboard());
    a.on_client(ClientEvent::Connected { user: "chief".into(), role });
    a.lang = lang;
    a.view = View::Cases;
    serve(&mut a);
    a
}

/// Answers the desk's asks for pages from the fixture cases, as the daemon would.
fn serve(a: &mut App) {
    crate::app::tests::serve(a, &crate::views::cases::tests::queue_cases());
}

/// Moves the queue's selection to case `id`.
fn select(a: &mut App, id: &str) {
    a.on_key(ch('g'));
    for _ in 0..20 {
        if a.selected_key(crate::app::ListId::Cases).as_deref() == Some(id) {
            return;
        }
        a.on_key(ch('j'));
    }
    panic!("{id} not in the queue");
}

fn type_text(a: &mut App, s: &str) {
    for c in s.chars() {
        a.on_key(ch(c));
    }
}

#[test]
fn case_queue_orders_marks_overdue_in_text_and_lists_the_role_keys() {
    use mz_shared::registry::Role;
    for (w, h) in SIZES {
        let b = draw(&case_app(Lang::Zh, Role::Officer), w, h);
        assert_all(&b, &["[7 救急难]", "在办个案 5", "超时 1", "编号", "状态", "时限", "已拨付"]);
        assert_all(&b, &["[超时] 受理 10分", "受理剩 25分", "紧急", "已先行救助/待批", "¥3,000", "a 受理", "p 拨付"]);
        assert!(!text(&b).contains("A 审批"), "officers do not approve:\n{}", text(&b));
        let urgent = rows_with(&b, "JJN-2025-000002")[0];
        let late = rows_with(&b, "JJN-2025-000001")[0];
        let unid = rows_with(&b, "JJN-2025-000005")[0];
        assert!(urgent < late && late < unid, "order {urgent} {late} {unid}\n{}", text(&b));
        assert!(!text(&b).contains("JJN-2025-000006"), "ended cases hidden by default");
        // Overdue: red and marked in text on the same row.
        let x = x_of(&b, late, "[超时]").expect("marked");
        assert_eq!(b[(x, late)].fg, Color::Red);
        // The status bar says who we are.
        assert_all(&b, &["chief(值班员)"]);

        let b = draw(&case_app(Lang::En, Role::Supervisor), w, h);
        assert_all(
            &b,
            &["[7 Cases]", "[OVERDUE] accept 10m", "accept in 25m", "HIGH", "aided/req.", "A approve", "R reject"],
        );
        let b = draw(&case_app(Lang::Zh, Role::Viewer), w, h);
        assert_all(&b, &["只读：无可用操作"]);
    }
    // The toggle shows ended cases, dimmed, with their state in text.
    let mut a = case_app(Lang::Zh, Role::Officer);
    a.on_key(ch('t'));
    serve(&mut a);
    let b = draw(&a, 160, 48);
    assert_all(&b, &["JJN-2025-000006", "已办结", "已结束", "[t 含已结束]"]);
}

#[test]
fn case_detail_shows_payments_pending_request_and_history() {
    use mz_shared::registry::Role;
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in SIZES {
            let mut a = case_app(lang, Role::Officer);
            select(&mut a, "JJN-2025-000003");
            a.on_key(key(KeyCode::Enter));
            // Scroll to the end for the small screen: the history is last.
            let b = draw(&a, w, h);
            let (top, bottom): (&[&str], &[&str]) = match lang {
                Lang::Zh => (
                    &["案件详情 JJN-2025-000003", "北苑街道 (ST-01)", "拨付记录", "[待补充说明]", "待审批申请: ¥8,000"],
                    &["历史 (4)", "受理", "拨付救助金", "申请超额拨付"],
                ),
                Lang::En => (
                    &["Case JJN-2025-000003", "Payments", "[PAPERWORK MISSING]", "Pending request: ¥8,000"],
                    &["History (4)", "accept", "pay request"],
                ),
            };
            assert_all(&b, top);
            if h < 30 {
                for _ in 0..12 {
                    a.on_key(ch('j'));
                }
            }
            let b = draw(&a, w, h);
            assert_all(&b, bottom);
        }
    }
    // An unidentified arrival's case: its identity clocks are station tasks now (SPEC §7).
    let mut a = case_app(Lang::Zh, Role::Officer);
    select(&mut a, "JJN-2025-000005");
    a.on_key(key(KeyCode::Enter));
    let b = draw(&a, 160, 48);
    assert_all(&b, &["身份不明人员入站", "受理时限"]);
    a.on_key(key(KeyCode::Esc));
    assert_eq!(a.top(), None);
}

#[test]
fn every_case_form_and_its_confirmation_render_in_both_languages() {
    use mz_shared::registry::Role;
    // (key, case, what to type, zh confirmation, en confirmation)
    let cases: [(char, &str, &str, &str, &str); 10] = [
        ('a', "JJN-2025-000001", "", "受理案件 JJN-2025-000001", "Accept case JJN-2025-000001"),
        ('d', "JJN-2025-000004", "", "分办至 公安（police）", "to 公安 (police)"),
        ('r', "JJN-2025-000004", "", "转办至 中仓街道", "Refer case JJN-2025-000004 to 中仓街道"),
        (
            'p',
            "JJN-2025-000004",
            "3000",
            "从北苑街道备用金拨付 ¥3,000 给案件 JJN-2025-000004，拨付后余额 ¥17,000",
            "Pay ¥3,000 from the 北苑街道 fund",
        ),
        ('A', "JJN-2025-000003", "", "批准 duty1 的超额拨付申请 ¥8,000", "Approve duty1's request of ¥8,000"),
        ('R', "JJN-2025-000003", "", "驳回 duty1 的超额拨付申请 ¥8,000", "Reject duty1's request of ¥8,000"),
        ('w', "JJN-2025-000003", "发票已补", "为 ¥3,000 的拨付", "paperwork of the ¥3,000 payment"),
        ('n', "JJN-2025-000004", "已电话回访", "添加备注", "Add a note"),
        ('c', "JJN-2025-000004", "已送医", "办结案件 JJN-2025-000004", "Close case JJN-2025-000004"),
        ('o', "JJN-2025-000004", "", "登记新案件，由北苑街道办理", "Open a new case handled by 北苑街道"),
    ];
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in SIZES {
            for (k, id, typed, zh, en) in cases {
                let mut a = case_app(lang, Role::Supervisor);
                select(&mut a, id);
                a.on_key(ch(k));
                let form = a.case_form().unwrap_or_else(|| panic!("{k}: no form; {:?}", a.message));
                let label = form.op.label().t(lang);
                if !form.form.confirming {
                    assert_all(&draw(&a, w, h), &[label]);
                }
                if k == 'o' {
                    // Street (choice), then the summary.
                    a.on_key(key(KeyCode::Tab));
                    type_text(&mut a, "突发困难");
                }
                type_text(&mut a, typed);
                if !a.case_form().unwrap().form.confirming {
                    a.on_key(key(KeyCode::Enter));
                }
                assert!(a.case_form().unwrap().form.confirming, "{k}: {:?}", a.case_form().unwrap().form.error);
                let b = draw(&a, w, h);
                let want = if lang == Lang::Zh { zh } else { en };
                let flat: String = lines(&b).join("").split('│').map(str::trim).collect::<Vec<_>>().join("");
                assert!(
                    flat.replace(' ', "").contains(&want.replace(' ', "")),
                    "{k} {w}x{h}: {want:?} in\n{}",
                    text(&b)
                );
                // The popup's border is intact at both edges of every row it covers.
                let conf = if lang == Lang::Zh { "请确认" } else { "Confirm" };
                assert_all(&b, &[conf]);
                let act = a.on_key(key(KeyCode::Enter));
                assert!(matches!(act, crate::app::Action::Case(_)), "{k}: {act:?}");
                assert!(a.case_form().is_none());
            }
        }
    }
}

#[test]
fn pay_above_the_cap_says_it_becomes_a_request() {
    use mz_shared::registry::Role;
    for (lang, want) in [(Lang::Zh, "超过单案上限 ¥5,000"), (Lang::En, "becomes a request for a supervisor")] {
        let mut a = case_app(lang, Role::Officer);
        select(&mut a, "JJN-2025-000004");
        a.on_key(ch('p'));
        type_text(&mut a, "6000");
        a.on_key(key(KeyCode::Enter));
        let b = draw(&a, 80, 24);
        let flat: String = lines(&b).join("").split('│').map(str::trim).collect::<Vec<_>>().join("");
        assert!(flat.replace(' ', "").contains(&want.replace(' ', "")), "{want}\n{}", text(&b));
    }
    // Paying on a case not accepted yet: the confirmation says the daemon will refuse it.
    let mut a = case_app(Lang::Zh, Role::Officer);
    select(&mut a, "JJN-2025-000001");
    a.on_key(ch('p'));
    type_text(&mut a, "100");
    a.on_key(key(KeyCode::Enter));
    assert_all(&draw(&a, 160, 48), &["案件尚未受理"]);
}

#[test]
fn case_answers_show_success_warnings_and_refusals() {
    use crate::client::CaseAnswer;
    use mz_shared::registry::Role;
    let mut a = case_app(Lang::Zh, Role::Officer);
    select(&mut a, "JJN-2025-000004");
    a.on_key(ch('p'));
    type_text(&mut a, "100");
    a.on_key(key(KeyCode::Enter));
    assert!(matches!(a.on_key(key(KeyCode::Enter)), crate::app::Action::Case(_)));
    assert_all(&draw(&a, 80, 24), &["正在提交…"]);
    a.on_client(ClientEvent::CaseResult(Ok(CaseAnswer {
        id: "JJN-2025-000004".into(),
        state: Some(mz_shared::case::CaseState::Aided),
        pending: false,
        warnings: vec![Reason::new("同一人30天内已获救助", "aided twice within 30 days")],
    })));
    let b = draw(&a, 80, 24);
    assert_all(&b, &["已完成", "已先行救助", "提醒: 同一人30天内已获救助"]);
    a.on_key(key(KeyCode::Enter));
    assert!(a.notice().is_none());
    // A refusal (stale version) is shown as it comes from the daemon.
    a.on_key(ch('n'));
    type_text(&mut a, "x");
    a.on_key(key(KeyCode::Enter));
    a.on_key(key(KeyCode::Enter));
    a.on_client(ClientEvent::CaseResult(Err(Reason::new(
        "案件已被他人修改，请刷新后重试",
        "the case changed, reload",
    ))));
    let b = draw(&a, 80, 24);
    assert_all(&b, &["未执行", "案件已被他人修改，请刷新后重试"]);
    a.lang = Lang::En;
    a.on_client(ClientEvent::CaseResult(Err(Reason::new(
        "案件已被他人修改，请刷新后重试",
        "the case changed, reload",
    ))));
    assert_all(&draw(&a, 160, 48), &["refused", "the case changed, reload"]);
}

#[test]
fn case_keys_follow_the_role_and_forms_validate_as_typed() {
    use mz_shared::registry::Role;
    // A viewer gets no form at all.
    let mut a = case_app(Lang::Zh, Role::Viewer);
    for k in ['a', 'd', 'p', 'A', 'o', 'c'] {
        a.on_key(ch(k));
        assert!(a.case_form().is_none(), "{k}");
    }
    assert!(a.message.as_ref().unwrap().text.contains("您的角色不能"));
    // An officer cannot approve; a supervisor can, on a case with a pending request only.
    let mut a = case_app(Lang::Zh, Role::Officer);
    select(&mut a, "JJN-2025-000003");
    a.on_key(ch('A'));
    assert!(a.case_form().is_none());
    let mut a = case_app(Lang::Zh, Role::Supervisor);
    select(&mut a, "JJN-2025-000004");
    a.on_key(ch('A'));
    assert!(a.case_form().is_none());
    assert!(a.message.as_ref().unwrap().text.contains("没有待审批"));
    select(&mut a, "JJN-2025-000003");
    a.on_key(ch('A'));
    assert!(a.case_form().is_some());
    a.on_key(key(KeyCode::Esc));
    assert!(a.case_form().is_none());
    // Ended cases take no action.
    a.on_key(ch('t'));
    serve(&mut a);
    select(&mut a, "JJN-2025-000006");
    a.on_key(ch('n'));
    assert!(a.case_form().is_none());
    // A bad amount is shown as typed and blocks Enter.
    let mut a = case_app(Lang::Zh, Role::Officer);
    select(&mut a, "JJN-2025-000004");
    a.on_key(ch('p'));
    type_text(&mut a, "3000.125");
    assert_all(&draw(&a, 80, 24), &["最多两位小数"]);
    a.on_key(key(KeyCode::Enter));
    assert!(!a.case_form().unwrap().form.confirming);
    // Esc cancels; q inside a form is text, not quit.
    a.on_key(key(KeyCode::Esc));
    assert!(a.case_form().is_none());
    // A bad ID check digit when opening a case.
    a.on_key(ch('o'));
    for _ in 0..3 {
        a.on_key(key(KeyCode::Tab));
    }
    type_text(&mut a, "110105194912310021");
    let b = draw(&a, 80, 24);
    assert_all(&b, &["校验位错误"]);
    a.on_key(key(KeyCode::BackTab));
    a.on_key(key(KeyCode::BackTab));
    type_text(&mut a, "qq");
    assert!(!a.quit);
    a.on_key(key(KeyCode::Enter));
    assert!(!a.case_form().unwrap().form.confirming, "bad ID number must block");
    // Enter put the focus on the field at fault.
    assert_eq!(a.case_form().unwrap().form.focus, 3);
    a.on_key(key(KeyCode::Backspace));
    type_text(&mut a, "X");
    assert_all(&draw(&a, 80, 24), &["身份证号有效"]);
    a.on_key(key(KeyCode::Enter));
    assert!(a.case_form().unwrap().form.confirming);
    let b = draw(&a, 80, 24);
    assert_all(&b, &["110105********002X"]);
    assert!(!text(&b).contains("11010519491231002X"), "the full ID number is not shown back");
}

#[test]
fn case_popups_keep_their_borders_over_wide_characters() {
    use mz_shared::registry::Role;
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in [(80, 24), (81, 24), (160, 48), (161, 48)] {
            for k in ['p', 'o', 'c'] {
                let mut a = case_app(lang, Role::Supervisor);
                select(&mut a, "JJN-2025-000004");
                a.on_key(ch(k));
                type_text(&mut a, "通州区救助管理站通州区救助管理站通州区救助管理站通州区救助管理站");
                let b = draw(&a, w, h);
                for y in 0..h {
                    let row: Vec<&str> = (0..w).map(|x| b[(x, y)].symbol()).collect();
                    if let Some(x) = row.iter().position(|s| *s == "│") {
                        if x > 0 {
                            assert_eq!(row[x - 1], " ", "{k} {w}x{h} row {y}: border after a wide char\n{}", text(&b));
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn case_desk_without_colour_still_marks_everything_in_text() {
    use mz_shared::registry::Role;
    let mut a = case_app(Lang::Zh, Role::Supervisor);
    a.theme = crate::widgets::Theme { color: false };
    let check = |b: &Buffer| {
        for cell in b.content() {
            assert!(cell.fg == Color::Reset && cell.bg == Color::Reset, "colour used without colour");
        }
    };
    let b = draw(&a, 80, 24);
    check(&b);
    assert_all(&b, &["[超时] 受理 10分", "已先行救助/待批"]);
    select(&mut a, "JJN-2025-000003");
    a.on_key(key(KeyCode::Enter));
    check(&draw(&a, 80, 24));
    a.on_key(ch('p'));
    type_text(&mut a, "9000");
    a.on_key(key(KeyCode::Enter));
    let b = draw(&a, 80, 24);
    check(&b);
    assert_all(&b, &["! 超过单案上限"]);
}

#[test]
fn case_help_lists_the_action_keys_of_the_role() {
    use mz_shared::registry::Role;
    for (w, h) in SIZES {
        let mut a = case_app(Lang::Zh, Role::Supervisor);
        a.on_key(ch('?'));
        assert_all(
            &draw(&a, w, h),
            &["按键说明", "显示/隐藏已结束案件", "受理", "审批通过", "驳回申请", "登记新案件", "办结"],
        );
        let mut a = case_app(Lang::En, Role::Officer);
        a.on_key(ch('?'));
        let b = draw(&a, w, h);
        assert_all(&b, &["Keys", "show / hide ended cases", "accept", "dispatch", "open a case", "close"]);
        assert!(!text(&b).contains("approve"), "{}", text(&b));
        let mut a = case_app(Lang::Zh, Role::Viewer);
        a.on_key(ch('?'));
        assert_all(&draw(&a, w, h), &["只读：无可用操作"]);
    }
}

// ---------------------------------------------------------------------------------------------
// The station staff's forms (view 2).

fn station_app(lang: Lang, role: mz_shared::registry::Role) -> App {
    let mut a = app_with(sample());
    a.on_client(ClientEvent::Connected { user: "clerk1".into(), role });
    a.lang = lang;
    a.view = View::Stations;
    a
}

/// The popup's text without borders and blanks, so that wrapped sentences can be searched.
fn flat(b: &Buffer) -> String {
    lines(b).join("").split('│').map(str::trim).collect::<Vec<_>>().join("").replace(' ', "")
}

#[test]
fn station_keys_follow_the_role() {
    use mz_shared::registry::Role;
    for role in [Role::Viewer, Role::Officer, Role::Supervisor] {
        for (w, h) in SIZES {
            let mut a = station_app(Lang::Zh, role);
            assert!(!text(&draw(&a, w, h)).contains("入站登记"), "{role:?}");
            a.on_key(ch('?'));
            assert!(!text(&draw(&a, w, h)).contains("入站登记"), "{role:?} help");
            a.on_key(ch('?'));
            a.on_key(key(KeyCode::Enter));
            for k in ['i', 'o', 'x'] {
                a.on_key(ch(k));
                assert!(a.station_form().is_none(), "{role:?} {k}");
            }
            assert!(a.message.as_ref().unwrap().text.contains("您的角色不能"));
        }
    }
    for role in [Role::Station, Role::Admin] {
        for (lang, keys, help) in [
            (Lang::Zh, ["i 入站登记", "o 离站登记", "x 异常报告"], ["入站登记", "离站登记", "异常报告"]),
            (
                Lang::En,
                ["i log an arrival", "o log a discharge", "x report an incident"],
                ["log an arrival", "log a discharge", "report an incident"],
            ),
        ] {
            for (w, h) in SIZES {
                let mut a = station_app(lang, role);
                assert_all(&draw(&a, w, h), &keys);
                a.on_key(ch('?'));
                assert_all(&draw(&a, w, h), &help);
            }
        }
        // A discharge needs a selected resident: not from the bed board.
        let mut a = station_app(Lang::Zh, role);
        a.on_key(ch('o'));
        assert!(a.station_form().is_none());
        assert!(a.message.as_ref().unwrap().text.contains("选中一人"));
        // An arrival is at the station in view.
        a.on_key(ch('j'));
        a.on_key(ch('i'));
        assert_eq!(a.station_form().unwrap().station(), "TZ-P01");
        a.on_key(key(KeyCode::Esc));
        assert!(a.station_form().is_none());
        // In the residents list and in a resident's detail.
        a.on_key(ch('k'));
        a.on_key(key(KeyCode::Enter));
        a.on_key(ch('j'));
        a.on_key(ch('o'));
        assert_eq!(a.station_form().unwrap().resident.as_ref().unwrap().person_ref, "TZ-JZZ-00007");
        a.on_key(key(KeyCode::Esc));
        a.on_key(key(KeyCode::Enter));
        assert!(a.top().is_some());
        a.on_key(ch('x'));
        assert!(!a.modals.iter().any(|m| matches!(m, crate::app::Modal::Detail { .. })), "the detail closed");
        let f = a.station_form().unwrap();
        assert_eq!(f.op, crate::stationform::StationOp::Incident);
        assert_eq!(f.resident.as_ref().unwrap().person_ref, "TZ-JZZ-00007");
    }
}

#[test]
fn every_station_form_and_its_confirmation_render_in_both_languages() {
    use mz_shared::registry::Role;
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in SIZES {
            for colour in [true, false] {
                // Arrival: person ref (field 3), ID number, referral (field 9).
                let mut a = station_app(lang, Role::Station);
                a.theme = crate::widgets::Theme { color: colour };
                a.on_key(ch('i'));
                let (title, fields) = match lang {
                    Lang::Zh => ("入站登记", ["救助站", "发生时间", "受助人编号", "2025-10-09 16:53"]),
                    Lang::En => ("log an arrival", ["Station", "Time", "Person ref", "2025-10-09 16:53"]),
                };
                let b = draw(&a, w, h);
                assert_all(&b, &[title]);
                assert_all(&b, &fields);
                assert!(flat(&b).contains("通州区救助管理站(TZ-JZZ)"), "{}", text(&b));
                a.on_key(key(KeyCode::Tab));
                a.on_key(key(KeyCode::Tab));
                type_text(&mut a, "TZ-JZZ-00100");
                a.on_key(key(KeyCode::Tab));
                type_text(&mut a, "无名氏");
                a.on_key(key(KeyCode::Tab));
                type_text(&mut a, "11010519491231002X");
                for _ in 0..4 {
                    a.on_key(key(KeyCode::Tab));
                }
                a.on_key(key(KeyCode::Right));
                let b = draw(&a, w, h);
                assert_all(&b, &[if lang == Lang::Zh { "公安护送" } else { "police" }]);
                a.on_key(key(KeyCode::Tab));
                a.on_key(ch(' '));
                let b = draw(&a, w, h);
                assert_all(&b, &["[x]"]);
                a.on_key(key(KeyCode::Enter));
                assert!(a.station_form().unwrap().form.confirming, "{:?}", a.station_form().unwrap().form.error);
                let b = draw(&a, w, h);
                let want: &[&str] = match lang {
                    Lang::Zh => &[
                        "请确认",
                        "在通州区救助管理站(TZ-JZZ)登记入站：受助人TZ-JZZ-00100",
                        "110105********002X",
                        "公安护送",
                        "未成年",
                        "床位23/50->24/50",
                    ],
                    Lang::En => &[
                        "Confirm",
                        "LogthearrivalofTZ-JZZ-00100at通州区救助管理站(TZ-JZZ)",
                        "110105********002X",
                        "police",
                        "minor",
                        "Beds23/50->24/50",
                    ],
                };
                for x in want {
                    assert!(flat(&b).contains(&x.replace(' ', "")), "{x} {w}x{h}\n{}", text(&b));
                }
                assert!(!text(&b).contains("11010519491231002X"), "the full ID number is not shown back");
                if !colour {
                    assert!(b.content().iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
                }
                let act = a.on_key(key(KeyCode::Enter));
                assert!(matches!(act, crate::app::Action::Log(_)), "{act:?}");
                assert!(a.station_form().is_none());

                // Discharge and incident of the selected resident.
                for (k, want) in [
                    (
                        'o',
                        if lang == Lang::Zh {
                            "登记离站：受助人TZ-JZZ-00001（李德福）"
                        } else {
                            "dischargeofTZ-JZZ-00001(李德福)"
                        },
                    ),
                    (
                        'x',
                        if lang == Lang::Zh {
                            "登记异常：受助人TZ-JZZ-00001（李德福）"
                        } else {
                            "incidentofTZ-JZZ-00001(李德福)"
                        },
                    ),
                ] {
                    let mut a = station_app(lang, Role::Station);
                    a.theme = crate::widgets::Theme { color: colour };
                    a.on_key(key(KeyCode::Enter));
                    a.on_key(ch(k));
                    let label = a.station_form().unwrap().op.label().t(lang);
                    assert_all(&draw(&a, w, h), &[label]);
                    a.on_key(key(KeyCode::Tab));
                    a.on_key(key(KeyCode::Right));
                    a.on_key(key(KeyCode::Enter));
                    assert!(a.station_form().unwrap().form.confirming);
                    let b = draw(&a, w, h);
                    assert!(flat(&b).contains(want), "{k} {w}x{h}\n{}", text(&b));
                    let reason = match (k, lang) {
                        ('o', Lang::Zh) => "返乡",
                        ('o', Lang::En) => "home",
                        (_, Lang::Zh) => "死亡",
                        _ => "death",
                    };
                    assert_all(&b, &[reason]);
                    assert!(matches!(a.on_key(key(KeyCode::Enter)), crate::app::Action::Log(_)));
                }
            }
        }
    }
}

#[test]
fn station_form_problems_show_as_typed_and_the_focused_field_stays_visible() {
    use mz_shared::registry::Role;
    let mut a = station_app(Lang::Zh, Role::Station);
    a.on_key(ch('i'));
    // Enter with nothing typed: person_ref is required.
    a.on_key(key(KeyCode::Enter));
    assert_all(&draw(&a, 80, 24), &["受助人编号: 必填"]);
    for _ in 0..2 {
        a.on_key(key(KeyCode::Tab));
    }
    type_text(&mut a, "110105194912310021");
    assert_all(&draw(&a, 80, 24), &["校验位错误"]);
    a.on_key(key(KeyCode::Tab));
    a.on_key(key(KeyCode::Tab));
    type_text(&mut a, "200");
    assert_all(&draw(&a, 80, 24), &["年龄应为 0-130 的整数"]);
    // The last field (note) is reachable and visible at 80x24.
    for _ in 0..5 {
        a.on_key(key(KeyCode::Tab));
    }
    type_text(&mut a, "通州区救助管理站通州区救助管理站通州区救助管理站通州区救助管理站");
    let b = draw(&a, 80, 24);
    assert_all(&b, &["> 备注(可空):", "特殊情况: < [ ] 未成年 >"]);
    // Borders stay intact over wide characters.
    for (w, h) in [(80, 24), (81, 24)] {
        let b = draw(&a, w, h);
        for y in 0..h {
            let row: Vec<&str> = (0..w).map(|x| b[(x, y)].symbol()).collect();
            if let Some(x) = row.iter().position(|s| *s == "│") {
                if x > 0 {
                    assert_eq!(row[x - 1], " ", "{w}x{h} row {y}: border after a wide char\n{}", text(&b));
                }
            }
        }
    }
    // A bad time.
    let mut a = station_app(Lang::En, Role::Station);
    a.on_key(ch('i'));
    a.on_key(key(KeyCode::Tab));
    type_text(&mut a, "x");
    assert_all(&draw(&a, 80, 24), &["time: use YYYY-MM-DD HH:MM"]);
}

#[test]
fn station_answers_show_the_record_id_or_the_refusal() {
    use mz_shared::registry::Role;
    let mut a = station_app(Lang::Zh, Role::Station);
    a.on_client(ClientEvent::LogResult(Ok("CON-2026-000123".into())));
    assert_all(&draw(&a, 80, 24), &["已完成", "已登记 CON-2026-000123"]);
    a.on_key(key(KeyCode::Esc));
    assert!(a.notice().is_none());
    a.on_client(ClientEvent::LogResult(Err(Reason::new(
        "clerk1 不是救助站 TZ-P01 的登记人员，不能登记",
        "clerk1 is not on the staff of station TZ-P01 and cannot log events there",
    ))));
    assert_all(&draw(&a, 80, 24), &["未执行", "不是救助站 TZ-P01 的登记人员"]);
    a.on_key(key(KeyCode::Enter));
    a.lang = Lang::En;
    a.on_client(ClientEvent::LogResult(Err(Reason::new("不能登记", "cannot log there"))));
    assert_all(&draw(&a, 160, 48), &["refused", "cannot log there"]);
}

fn with_funds(lang: Lang) -> App {
    let mut a = app(lang, View::Funds);
    let row = |street: &str, name: &str, initial: i64, paid: i64, pending: i64, open: u32| FundRow {
        street: street.into(),
        name: name.into(),
        initial: Fen(initial),
        paid: Fen(paid),
        pending: Fen(pending),
        balance: Fen(initial - paid),
        case_cap: Fen(500_000),
        cases_open: open,
    };
    if let Some(d) = a.dashboard_mut() {
        d.funds = vec![
            row("ST-01", "北苑街道", 20_000_000, 450_050, 600_000, 3),
            row("ST-07", "宋庄镇", 12_000_000, 100, 0, 0),
            row("ST-10", "于家务回族乡", 10_000_000, 9_000_000, 0, 12),
        ];
    }
    a
}

#[test]
fn funds_view_shows_each_street_aligned_with_totals() {
    for (w, h) in SIZES {
        let b = draw(&with_funds(Lang::Zh), w, h);
        assert_all(
            &b,
            &[
                "[8 备用金]",
                "北苑街道",
                "于家务回族乡",
                "待审批",
                "余额",
                "¥195,499.50",
                "¥6,000",
                "¥100,000",
                "在办案件",
            ],
        );
        // Right-aligned amounts end in the same column whatever the width of the street name.
        let ends: Vec<u16> = ["¥195,499.50", "¥119,999", "¥10,000"]
            .iter()
            .map(|n| {
                let y = rows_with(&b, n)[0];
                x_of(&b, y, n).unwrap() + unicode_width::UnicodeWidthStr::width(*n) as u16
            })
            .collect();
        assert!(ends.windows(2).all(|p| p[0] == p[1]), "balances misaligned {ends:?}\n{}", text(&b));
        let b = draw(&with_funds(Lang::En), w, h);
        assert_all(&b, &["[8 Funds]", "Pending", "Balance", "Open cases", "¥6,000"]);
    }
}

#[test]
fn station_tasks_show_due_time_countdown_and_overdue_in_red() {
    use mz_shared::registry::Role;
    for (w, h) in SIZES {
        let mut a = app(Lang::Zh, View::Stations);
        a.on_client(ClientEvent::Connected { user: "clerk1".into(), role: Role::Station });
        let b = draw(&a, w, h);
        assert_all(&b, &["在站事项 (2) [超时] 1", "寻亲公告", "采血比对", "TZ-JZZ-00009", "[超时] 2时", "剩 5天"]);
        assert_all(&b, &["i 入站登记", "t 事项", "d 完成事项"]);
        let late = rows_with(&b, "寻亲公告")[0];
        let x = x_of(&b, late, "[超时]").expect("marked in text");
        assert_eq!(b[(x, late)].fg, Color::Red, "overdue tasks are red");
        let later = rows_with(&b, "采血比对")[0];
        assert_ne!(b[(x_of(&b, later, "采血比对").unwrap(), later)].fg, Color::Red);
        let mut a = app(Lang::En, View::Stations);
        a.on_client(ClientEvent::Connected { user: "clerk1".into(), role: Role::Station });
        let b = draw(&a, w, h);
        assert_all(&b, &["Station tasks (2) [OVERDUE] 1", "[OVERDUE] 2h", "in 5d", "t tasks d done"]);
        if w >= 120 {
            assert_all(&b, &["family notice", "dna request"]);
        }
    }
}

#[test]
fn soonest_full_shows_a_nearly_full_site_with_a_single_report() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app(lang, View::Overview);
        if let Some(d) = a.dashboard_mut() {
            let one = d.sites.iter_mut().find(|s| s.id == "K-TZ").unwrap();
            one.occupied = 11_400; // 95 %, one report: no growth rate
            one.months_to_full = None;
            one.history.truncate(1);
        }
        for (w, h) in SIZES {
            let b = draw(&a, w, h);
            let wanted: &[&str] = match lang {
                Lang::Zh => &["最早用满", "通州区骨灰堂", "95.0% 已用，增速未知"],
                Lang::En => &["soonest full", "95.0% full, rate unknown"],
            };
            assert_all(&b, wanted);
        }
    }
}

#[test]
fn completing_a_task_with_t_d_a_note_and_enter() {
    use crate::app::Action;
    use mz_shared::protocol::Request;
    use mz_shared::registry::Role;
    let mut a = app(Lang::Zh, View::Stations);
    a.on_client(ClientEvent::Connected { user: "clerk1".into(), role: Role::Station });
    // The first d moves the keys to the task list; the second opens the confirmation.
    assert_eq!(a.on_key(ch('d')), crate::app::Action::None);
    assert!(a.tasks_focus && a.task_form().is_none());
    assert_eq!(a.current_list(), crate::app::ListId::Tasks);
    a.on_key(ch('d'));
    let form = a.task_form().expect("the confirmation");
    assert_eq!(form.task.id, "TZ-JZZ/TZ-JZZ-00009/family_notice");
    let b = draw(&a, 80, 24);
    assert_all(&b, &["完成事项", "寻亲公告，受助人 TZ-JZZ-00009", "Enter确认完成"]);
    for c in "已发布".chars() {
        a.on_key(ch(c));
    }
    let sent = a.on_key(key(KeyCode::Enter));
    let want = Request::TaskDone { id: "TZ-JZZ/TZ-JZZ-00009/family_notice".into(), note: Some("已发布".into()) };
    assert_eq!(sent, Action::Task(want));
    assert!(a.pending == Some(crate::app::Pending::Task) && a.task_form().is_none());
    a.on_client(ClientEvent::TaskResult(Ok("TZ-JZZ/TZ-JZZ-00009/family_notice".into())));
    assert!(a.pending.is_none());
    assert!(a.notice().unwrap().1[0].0.contains("事项已完成"));
    a.on_key(key(KeyCode::Esc));
    // j moves within the tasks; Esc leaves them.
    a.on_key(ch('j'));
    assert_eq!(a.selected_key(crate::app::ListId::Tasks).as_deref(), Some("TZ-JZZ/TZ-JZZ-00009/dna_request"));
    a.on_key(key(KeyCode::Esc));
    assert!(!a.tasks_focus);
    // A refusal is shown; viewers get no form at all.
    a.on_client(ClientEvent::TaskResult(Err(Reason::new("不是该站工作人员", "not on the staff"))));
    assert!(a.message.as_ref().unwrap().text.contains("不是该站工作人员"));
    a.modals.clear();
    let mut v = app(Lang::En, View::Stations);
    v.on_client(ClientEvent::Connected { user: "guest".into(), role: Role::Viewer });
    v.on_key(ch('t'));
    v.on_key(ch('d'));
    assert!(v.task_form().is_none());
    assert!(!text(&draw(&v, 80, 24)).contains("d done"), "viewers are not offered d");
}

// ---------------------------------------------------------------------------------------------
// The screen as a terminal keeps it: frames reach it through ratatui's diff, as on a real
// terminal, so a frame that leaves the terminal different from what the console believes it
// shows (the stale border after a popup) is caught.

/// A terminal screen as xterm and tmux keep it: a wide character takes two cells (the second
/// is its continuation, `""`), and writing over either half of one blanks both halves.
struct Screen {
    w: u16,
    h: u16,
    cells: Vec<String>,
}

impl Screen {
    fn new(w: u16, h: u16) -> Screen {
        Screen { w, h, cells: vec![" ".to_string(); usize::from(w) * usize::from(h)] }
    }

    fn at(&self, x: u16, y: u16) -> usize {
        usize::from(y) * usize::from(self.w) + usize::from(x)
    }

    /// Frees cell (x, y) from any wide character it is part of.
    fn unwide(&mut self, x: u16, y: u16) {
        let i = self.at(x, y);
        if self.cells[i].is_empty() && x > 0 {
            self.cells[i - 1] = " ".into();
        } else if unicode_width::UnicodeWidthStr::width(self.cells[i].as_str()) > 1 && x + 1 < self.w {
            self.cells[i + 1] = " ".into();
        }
        self.cells[i] = " ".into();
    }

    fn put(&mut self, x: u16, y: u16, symbol: &str) {
        let wide = unicode_width::UnicodeWidthStr::width(symbol) > 1 && x + 1 < self.w;
        self.unwide(x, y);
        if wide {
            self.unwide(x + 1, y);
        }
        let i = self.at(x, y);
        self.cells[i] = symbol.to_string();
        if wide {
            self.cells[i + 1] = String::new();
        }
    }

    fn lines(&self) -> Vec<String> {
        self.cells.chunks(usize::from(self.w)).map(|r| r.concat()).collect()
    }
}

impl ratatui::backend::Backend for Screen {
    type Error = std::convert::Infallible;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a ratatui::buffer::Cell)>,
    {
        for (x, y, c) in content {
            self.put(x, y, c.symbol());
        }
        Ok(())
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
    fn get_cursor_position(&mut self) -> Result<ratatui::layout::Position, Self::Error> {
        Ok(ratatui::layout::Position::ORIGIN)
    }
    fn set_cursor_position<P: Into<ratatui::layout::Position>>(&mut self, _: P) -> Result<(), Self::Error> {
        Ok(())
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.cells.iter_mut().for_each(|c| *c = " ".into());
        Ok(())
    }
    fn clear_region(&mut self, _: ratatui::backend::ClearType) -> Result<(), Self::Error> {
        self.clear()
    }
    fn size(&self) -> Result<ratatui::layout::Size, Self::Error> {
        Ok(ratatui::layout::Size::new(self.w, self.h))
    }
    fn window_size(&mut self) -> Result<ratatui::backend::WindowSize, Self::Error> {
        let columns_rows = ratatui::layout::Size::new(self.w, self.h);
        Ok(ratatui::backend::WindowSize { columns_rows, pixels: ratatui::layout::Size::new(0, 0) })
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The terminal after drawing `a` once (a fresh screen), as text lines.
fn fresh(a: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(Screen::new(w, h)).unwrap();
    t.draw(|f| super::draw(f, a)).unwrap();
    t.backend().lines()
}

/// Opens and closes popups over every view in a terminal that keeps what it was sent: after
/// each popup closes, the screen is what a fresh draw shows (no border left missing, no piece
/// of the popup left behind), at 80x24 and 160x48, in both languages.
#[test]
fn closing_a_popup_leaves_no_stale_cells() {
    use mz_shared::registry::Role;
    type Open = fn(&mut App);
    let popups: [(&str, Open); 6] = [
        ("help", |a| {
            a.on_key(ch('?'));
        }),
        ("detail", |a| {
            a.on_key(key(KeyCode::Enter));
            a.on_key(key(KeyCode::Enter));
        }),
        ("palette", |a| {
            a.on_key(ch(':'));
            type_text(a, "st");
        }),
        ("case form", |a| {
            a.view = View::Cases;
            a.on_key(ch('n'));
            type_text(a, "通州区救助管理站通州区救助管理站");
        }),
        ("station form", |a| {
            a.view = View::Stations;
            a.on_key(ch('i'));
        }),
        ("notice", |a| {
            a.on_client(ClientEvent::LogResult(Err(Reason::new("不能登记：不是本站人员", "cannot log there"))));
        }),
    ];
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in SIZES {
            for view in View::ALL {
                for (what, open) in popups {
                    let mut a = case_app(lang, Role::Admin);
                    a.view = view;
                    let mut t = Terminal::new(Screen::new(w, h)).unwrap();
                    t.draw(|f| super::draw(f, &a)).unwrap();
                    let before = a.view;
                    open(&mut a);
                    t.draw(|f| super::draw(f, &a)).unwrap();
                    while !a.modals.is_empty() {
                        a.on_key(key(KeyCode::Esc));
                        t.draw(|f| super::draw(f, &a)).unwrap();
                    }
                    a.editing_filter = false;
                    t.draw(|f| super::draw(f, &a)).unwrap();
                    let shown = t.backend().lines();
                    let want = fresh(&a, w, h);
                    let diff: Vec<String> = shown
                        .iter()
                        .zip(&want)
                        .enumerate()
                        .filter(|(_, (s, f))| s != f)
                        .map(|(y, (s, f))| format!("row {y}:\n  shown {s}\n  fresh {f}"))
                        .collect();
                    assert!(diff.is_empty(), "{what} over {before:?} {lang:?} {w}x{h}:\n{}", diff.join("\n"));
                }
            }
        }
    }
}

/// Cells a wide character covers that hold something else: what the console believes it shows
/// there is not what a terminal shows (the wide character hides it, or it cuts the character).
fn overlaps(b: &Buffer) -> Vec<String> {
    let mut out = Vec::new();
    for y in 0..b.area.height {
        for x in 1..b.area.width {
            let left = b[(x - 1, y)].symbol();
            if unicode_width::UnicodeWidthStr::width(left) > 1 && b[(x, y)].symbol() != " " {
                out.push(format!("({x},{y}) {left:?} covers {:?}", b[(x, y)].symbol()));
            }
        }
    }
    out
}

/// The overview with every alert kind active: Chinese kind names make the summary line long.
fn many_alert_kinds() -> Dashboard {
    let mut d = sample();
    for k in mz_shared::alert::AlertKind::ALL {
        d.status.alerts.by_kind.insert(k.as_str().into(), 3);
    }
    d
}

#[test]
fn the_alert_summary_stays_inside_its_box_at_every_width() {
    for lang in [Lang::Zh, Lang::En] {
        for w in 80..=170 {
            for h in [24, 48] {
                let mut a = app_with(many_alert_kinds());
                a.lang = lang;
                let b = draw(&a, w, h);
                assert_eq!(overlaps(&b), Vec::<String>::new(), "{lang:?} {w}x{h}\n{}", text(&b));
                // The alerts tile: its title row and the rows below keep their right border.
                let y = rows_with(&b, i18n_alerts(lang))[0];
                let right = (0..w).rev().find(|x| b[(*x, y)].symbol() == "┐").expect("the tile's corner");
                for yy in y + 1..y + 4 {
                    assert_eq!(b[(right, yy)].symbol(), "│", "{lang:?} {w}x{h} row {yy}\n{}", text(&b));
                }
            }
        }
    }
}

fn i18n_alerts(lang: Lang) -> &'static str {
    crate::i18n::ACTIVE_ALERTS.t(lang)
}

#[test]
fn the_overview_uses_its_lower_half_at_160x48() {
    use mz_shared::registry::Role;
    for lang in [Lang::Zh, Lang::En] {
        let mut a = case_app(lang, Role::Officer);
        a.view = View::Overview;
        let b = draw(&a, 160, 48);
        let wanted: &[&str] = match lang {
            Lang::Zh => &[
                "最紧急的在办个案 (5)",
                "JJN-2025-000002",
                "紧急",
                "[超时] 受理 10分",
                "最新告警",
                "床位已满：7/6",
                "每小时入站",
                "今日",
                "昨日",
                "今日各站入站合计 6",
            ],
            Lang::En => &[
                "Most urgent open cases (5)",
                "[OVERDUE] accept 10m",
                "Latest alerts",
                "over capacity: 7/6",
                "Arrivals per hour",
                "today",
                "yday",
            ],
        };
        assert_all(&b, wanted);
        // The urgent case comes first, the overdue one next.
        assert!(rows_with(&b, "JJN-2025-000002")[0] < rows_with(&b, "JJN-2025-000001")[0], "{}", text(&b));
        // The lower half is used: the watch list starts below the tiles and its boxes reach the
        // status bar.
        assert!(rows_with(&b, "JJN-2025-000002")[0] > 24, "{}", text(&b));
        assert!(lines(&b)[46].starts_with('└') && lines(&b)[46].ends_with('┘'), "{}", text(&b));
        // At 80x24 there is no room: the tiles keep theirs.
        let small = draw(&a, 80, 24);
        assert!(!text(&small).contains(crate::i18n::URGENT_CASES.t(lang)), "{}", text(&small));
        assert_all(&small, &[crate::i18n::ACTIVE_ALERTS.t(lang)]);
    }
}

#[test]
fn the_kept_overview_equals_a_fresh_drawing_after_a_tick_and_a_push() {
    use mz_shared::registry::Role;
    // The same state drawn by an app that kept nothing.
    let fresh = |a: &App, w: u16, h: u16| {
        let mut f = case_app(a.lang, Role::Officer);
        f.view = View::Overview;
        f.now_ms = a.now_ms;
        if let Some(d) = &a.dashboard {
            f.on_client(ClientEvent::Dashboard(d.clone()));
        }
        draw(&f, w, h)
    };
    let mut a = case_app(Lang::Zh, Role::Officer);
    a.view = View::Overview;
    let before = draw(&a, 160, 48);
    // The countdowns move with the clock while the rest is copied from the kept region.
    a.on_tick(a.now_ms + 3 * 60_000);
    let ticked = draw(&a, 160, 48);
    assert_eq!(ticked, fresh(&a, 160, 48));
    assert!(
        text(&before).contains("[超时] 受理 10分") && !text(&ticked).contains("[超时] 受理 10分"),
        "{}",
        text(&ticked)
    );
    // A pushed dashboard is drawn, not the kept one.
    let mut d = a.dashboard.as_deref().cloned().unwrap();
    d.arrivals_by_hour.today.0[3] += 7;
    a.on_client(ClientEvent::Dashboard(Box::new(d)));
    let pushed = draw(&a, 160, 48);
    assert_eq!(pushed, fresh(&a, 160, 48));
    assert_ne!(pushed, ticked);
    // So is a dashboard changed in place, another language and another size.
    if let Some(d) = a.dashboard_mut() {
        d.rejected_today = 4321;
    }
    assert_eq!(draw(&a, 160, 48), fresh(&a, 160, 48));
    a.lang = Lang::En;
    assert_eq!(draw(&a, 160, 48), fresh(&a, 160, 48));
    assert_eq!(draw(&a, 120, 40), fresh(&a, 120, 40));
}

#[test]
fn arrivals_per_hour_come_from_the_daemons_figure() {
    let mut d = sample();
    let (today, yesterday) = super::overview::arrivals_by_hour(&d);
    assert_eq!((today[9], today[16], today.iter().sum::<u64>()), (2, 2, 6), "{today:?}");
    assert_eq!((yesterday[8], yesterday.iter().sum::<u64>()), (3, 4), "{yesterday:?}");
    // People who came yesterday and have left are in the figure, not in the station lists.
    d.arrivals_by_hour.yesterday.0[2] = 40;
    for lang in [Lang::Zh, Lang::En] {
        let mut a = app_with(d.clone());
        a.lang = lang;
        a.view = View::Overview;
        let b = draw(&a, 160, 48);
        let (t, y) = (crate::i18n::HOURS_TODAY.t(lang), crate::i18n::HOURS_YESTERDAY.t(lang));
        // The panel's row of a label: the sparkline and the day's total after it.
        let total_of = |label: &str| {
            let head = format!("│{}", crate::widgets::text::pad_right(label, 6));
            let line = lines(&b).into_iter().find(|l| l.contains(&head)).unwrap_or_default();
            let rest = line.split_once(&head).map(|(_, r)| r.to_string()).unwrap_or_default();
            rest.split('│').next().unwrap_or_default().split_whitespace().last().unwrap_or_default().to_string()
        };
        assert_eq!(total_of(t), "6", "{lang:?}\n{}", text(&b));
        assert_eq!(total_of(y), "44", "{lang:?}\n{}", text(&b));
        // No remark that the figure is partial.
        assert!(!flat(&b).contains("在站人员与最近事件") && !flat(&b).contains("latestevents"), "{}", text(&b));
        assert_eq!(overlaps(&b), Vec::<String>::new());
    }
}

#[test]
fn the_alerts_view_shows_the_whole_reason_at_80_columns() {
    let long = "宋庄镇临时救助点床位已满：7/6，已超出核定床位，请协调转移至通州区救助管理站并报告值班主管";
    for lang in [Lang::Zh, Lang::En] {
        let mut d = sample();
        d.alerts[0].message = Reason::new(long, "over capacity: 7/6, beyond the allotted beds; move people to 通州区救助管理站 and tell the supervisor on duty");
        let mut a = app_with(d);
        a.lang = lang;
        a.view = View::Alerts;
        for (w, h) in SIZES {
            let b = draw(&a, w, h);
            let want = if lang == Lang::Zh { long.to_string() } else { "tellthesupervisoronduty".to_string() };
            let flat: String =
                lines(&b).join("").split('│').map(str::trim).collect::<Vec<_>>().join("").replace(' ', "");
            assert!(flat.contains(&want.replace(' ', "")), "{lang:?} {w}x{h}: reason cut\n{}", text(&b));
            assert_eq!(overlaps(&b), Vec::<String>::new());
        }
    }
}

#[test]
fn help_comes_from_the_key_map_and_the_command_line_suggests() {
    for lang in [Lang::Zh, Lang::En] {
        for (w, h) in SIZES {
            for view in View::ALL {
                let mut a = app(lang, view);
                a.on_key(ch('?'));
                let b = draw(&a, w, h);
                // Every key of the view the key map lists is in the help (those shown with the
                // line before them aside).
                use crate::keymap::{listed, Scope};
                let own = |b: &crate::keymap::Binding| b.scope == Scope::In(view);
                let overridden =
                    |b: &crate::keymap::Binding| !own(b) && listed(view).any(|o| own(o) && o.keys == b.keys);
                for binding in listed(view).filter(|b| !crate::keymap::is_action(b.command) && !overridden(b)) {
                    let words = binding.help.t(lang);
                    let start: String = words.replace(' ', "").chars().take(6).collect();
                    assert!(flat(&b).contains(&start), "{view:?} {lang:?} {w}x{h}: {words:?} missing\n{}", text(&b));
                }
                assert_eq!(overlaps(&b), Vec::<String>::new());
            }
            let mut a = app(lang, View::Overview);
            a.on_key(ch(':'));
            type_text(&mut a, "st");
            let b = draw(&a, w, h);
            assert_all(&b, &[":st_", ":stations", ":station <"]);
            assert_eq!(overlaps(&b), Vec::<String>::new());
        }
    }
}

/// The text of a help line, blanks left out (as [`flat`] compares).
fn line_text(l: &ratatui::text::Line<'_>) -> String {
    l.spans.iter().map(|s| s.content.as_ref()).collect::<String>().replace(' ', "")
}

/// The body of the screen (between the tabs and the status line) as [`flat`] gives it.
fn body_flat(b: &Buffer) -> String {
    let rows = lines(b);
    rows[1..rows.len() - 1].join("").split('│').map(str::trim).collect::<Vec<_>>().join("").replace(' ', "")
}

#[test]
fn the_longest_help_scrolls_so_every_key_is_reachable_at_80x24() {
    for lang in [Lang::Zh, Lang::En] {
        let mut a = case_app(lang, mz_shared::registry::Role::Supervisor);
        a.on_key(ch('?'));
        let wanted: Vec<String> = crate::views::help_lines(&a).iter().map(line_text).collect();
        // A wrapped line is cut by the popup's border: compare the start of each line.
        let start = |w: &String| w.chars().take(8).collect::<String>();
        let first = draw(&a, 80, 24);
        let last = start(wanted.last().expect("the help has lines"));
        let overflows = !body_flat(&first).contains(&last);
        // In English the lines wrap and the last ones are out of sight (else this test proves
        // nothing); the footer says where the top line is whenever lines are out of sight.
        assert!(overflows || lang == Lang::Zh, "{lang:?}: the whole help fits at 80x24\n{}", text(&first));
        let hint = format!("1/{}", wanted.len());
        assert_eq!(text(&first).contains(&hint), overflows, "{lang:?}: scroll hint\n{}", text(&first));
        // Scrolling down line by line shows every line, the last one included.
        let mut seen = body_flat(&first);
        for _ in 0..wanted.len() {
            a.on_key(key(KeyCode::Down));
            let b = draw(&a, 80, 24);
            assert_eq!(overlaps(&b), Vec::<String>::new());
            seen.push_str(&body_flat(&b));
        }
        for w in &wanted {
            assert!(seen.contains(&start(w)), "{lang:?}: {w:?} never shown");
        }
        assert!(body_flat(&draw(&a, 80, 24)).contains(&last), "{lang:?}: scrolled to the end, the last key shows");
        // Home goes back to the top; Esc closes the help.
        a.on_key(key(KeyCode::Home));
        assert_eq!(a.top(), Some(&crate::app::Modal::Help { scroll: 0 }));
        a.on_key(key(KeyCode::Esc));
        assert_eq!(a.top(), None);
    }
}

#[test]
fn the_report_key_line_comes_from_the_key_map() {
    for lang in [Lang::Zh, Lang::En] {
        let a = app(lang, View::Report);
        let head = lines(&draw(&a, 160, 48)).into_iter().find(|l| l.contains('←')).unwrap_or_default();
        for (command, label) in [
            (crate::keymap::Command::Report(crate::keymap::ReportKey::Day), crate::i18n::KEY_REPORT_DAY),
            (crate::keymap::Command::Report(crate::keymap::ReportKey::Month), crate::i18n::KEY_REPORT_MONTH),
            (crate::keymap::Command::Export, crate::i18n::KEY_EXPORT_SHORT),
        ] {
            let shown = format!("{} {}", crate::keymap::key_of(View::Report, command), label.t(lang));
            assert!(head.contains(&shown), "{lang:?}: {shown:?} not in the key line {head:?}");
        }
        assert!(head.contains("← →"), "{lang:?}: {head:?}");
    }
}
