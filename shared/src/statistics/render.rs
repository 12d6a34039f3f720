//! The report as people read it: tables (title, headers, rows), rendered as CSV for Excel or
//! as aligned text for a terminal. The console draws the same tables.
//!
//! Invariants: the CSV is UTF-8 with a BOM and CRLF line ends, one table after another, each
//! with a title row and a header row, a blank row between tables; numbers are written as
//! numbers, money in yuan with two decimals, shares in percent with one decimal.

use super::report::{Report, SiteRow};
use crate::records::{DischargeReason, MarriageKind, Referral};
use crate::registry::Fen;
use crate::text::pad;
pub use crate::text::width;

/// One cell of a report table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Words, left-aligned.
    Text(String),
    /// A count, right-aligned.
    Count(u64),
    /// Money, shown in yuan with two decimals.
    Yuan(i64),
    /// A share in percent (one decimal), empty when undefined.
    Pct(Option<f64>),
}

impl Cell {
    /// As written in the CSV and on screen.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Yuan(f) => Fen(*f).to_yuan_string(),
            Cell::Pct(Some(p)) => format!("{p:.1}"),
            Cell::Pct(None) => String::new(),
        }
    }

    /// Whether the cell is right-aligned (anything but text).
    pub fn is_number(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The table's heading, in the report's language.
    pub title: String,
    /// Column headings.
    pub headers: Vec<String>,
    /// The rows, each as long as `headers`.
    pub rows: Vec<Vec<Cell>>,
}

fn words(english: bool, zh: &str, en: &str) -> String {
    if english { en } else { zh }.to_owned()
}

fn t(s: &str) -> Cell {
    Cell::Text(s.to_owned())
}

/// The report's tables, in the order of the CSV.
pub fn tables(r: &Report, english: bool) -> Vec<Table> {
    vec![
        stations(r, english),
        referrals(r, english),
        origins(r, english),
        burials(r, english),
        offices(r, english),
        cases(r, english),
        tasks(r, english),
    ]
}

fn stations(r: &Report, en: bool) -> Table {
    let mut headers = vec![
        words(en, "救助站编码", "Station"),
        words(en, "名称", "Name"),
        words(en, "床位", "Beds"),
        words(en, "入站人次", "Admissions"),
        words(en, "离站人次", "Discharges"),
    ];
    headers.extend(
        DischargeReason::ALL
            .iter()
            .map(|d| format!("{}{}", words(en, "离站-", "Discharged: "), word(en, d.zh(), d.as_str()))),
    );
    headers.extend([
        words(en, "异常", "Incidents"),
        words(en, "期末在站", "Occupied at end"),
        words(en, "床日数", "Bed-days"),
    ]);
    let rows = r
        .stations
        .iter()
        .map(|s| {
            let mut row = vec![
                t(&s.id),
                t(&s.name),
                Cell::Count(u64::from(s.beds)),
                Cell::Count(s.admissions),
                Cell::Count(s.discharges),
            ];
            row.extend(DischargeReason::ALL.iter().map(|d| Cell::Count(s.discharges_by_reason.get(d.as_str()))));
            row.extend([Cell::Count(s.incidents), Cell::Count(s.occupied_at_end), Cell::Count(s.bed_days)]);
            row
        })
        .collect();
    Table { title: words(en, "救助站（流浪乞讨人员救助）", "Rescue stations"), headers, rows }
}

fn word(english: bool, zh: &str, en: &str) -> String {
    words(english, zh, &en.replace('_', " "))
}

fn referrals(r: &Report, en: bool) -> Table {
    let rows = Referral::ALL
        .iter()
        .map(|x| {
            vec![
                t(x.as_str()),
                Cell::Text(word(en, x.zh(), x.as_str())),
                Cell::Count(r.admissions_by_referral.get(x.as_str())),
            ]
        })
        .collect();
    Table {
        title: words(en, "入站来源", "Admissions by referral"),
        headers: vec![words(en, "代码", "Code"), words(en, "来源", "Referral"), words(en, "人次", "Admissions")],
        rows,
    }
}

fn origins(r: &Report, en: bool) -> Table {
    let rows = r
        .admissions_by_origin
        .0
        .iter()
        .map(|(code, v)| vec![t(code), Cell::Text(province(code, en)), Cell::Count(*v)])
        .collect();
    Table {
        title: words(en, "受助人户籍地（省级，按身份证号）", "Admissions by origin (province of the ID number)"),
        headers: vec![words(en, "代码", "Code"), words(en, "省份", "Province"), words(en, "人次", "Admissions")],
        rows,
    }
}

fn site_row(s: &SiteRow) -> Vec<Cell> {
    vec![
        t(&s.id),
        t(&s.name),
        Cell::Count(s.new_interments),
        Cell::Count(s.eco_interments),
        Cell::Pct(s.eco_share_pct),
        Cell::Count(s.free_basic_services),
    ]
}

fn burials(r: &Report, en: bool) -> Table {
    let mut rows: Vec<Vec<Cell>> = r.sites.iter().map(site_row).collect();
    let mut total = site_row(&r.burials);
    total[0] = t("");
    total[1] = Cell::Text(words(en, "全区合计", "District total"));
    rows.push(total);
    Table {
        title: words(en, "殡葬（节地生态安葬）", "Burials (eco-burial)"),
        headers: vec![
            words(en, "墓园编码", "Site"),
            words(en, "名称", "Name"),
            words(en, "本期安葬", "New interments"),
            words(en, "节地生态安葬", "Eco interments"),
            words(en, "节地生态安葬占比(%)", "Eco share (%)"),
            words(en, "免费基本殡葬服务", "Free basic services"),
        ],
        rows,
    }
}

fn offices(r: &Report, en: bool) -> Table {
    let mut headers = vec![words(en, "登记机关编码", "Office"), words(en, "名称", "Name")];
    headers.extend(MarriageKind::ALL.iter().map(|k| word(en, k.zh(), k.as_str())));
    headers.extend([
        words(en, "合计", "Total"),
        words(en, "跨区", "Cross-district"),
        words(en, "婚姻辅导", "Counselling"),
    ]);
    let rows = r
        .offices
        .iter()
        .map(|o| {
            let mut row = vec![t(&o.id), t(&o.name)];
            row.extend(MarriageKind::ALL.iter().map(|k| Cell::Count(o.by_kind.get(k.as_str()))));
            row.extend([Cell::Count(o.registrations), Cell::Count(o.cross_district), Cell::Count(o.counselling)]);
            row
        })
        .collect();
    Table { title: words(en, "婚姻登记", "Marriage registration"), headers, rows }
}

fn cases(r: &Report, en: bool) -> Table {
    let mut rows: Vec<Vec<Cell>> = r
        .cases
        .by_street
        .iter()
        .map(|s| {
            vec![
                t(&s.id),
                t(&s.name),
                Cell::Count(s.opened),
                Cell::Count(s.closed),
                Cell::Count(s.referred),
                Cell::Yuan(s.paid_fen),
            ]
        })
        .collect();
    let c = &r.cases;
    rows.push(vec![
        t(""),
        Cell::Text(words(en, "合计", "Total")),
        Cell::Count(c.opened),
        Cell::Count(c.closed),
        Cell::Count(c.referred),
        Cell::Yuan(c.paid_fen),
    ]);
    Table {
        title: words(en, "救急难（临时救助）", "Emergency aid cases"),
        headers: vec![
            words(en, "街道编码", "Street"),
            words(en, "名称", "Name"),
            words(en, "新开", "Opened"),
            words(en, "办结", "Closed"),
            words(en, "转办", "Referred"),
            words(en, "支出（元）", "Paid (yuan)"),
        ],
        rows,
    }
}

fn tasks(r: &Report, en: bool) -> Table {
    Table {
        title: words(en, "在站事项", "Station tasks"),
        headers: vec![words(en, "到期", "Due"), words(en, "按时完成", "Done on time"), words(en, "逾期", "Overdue")],
        rows: vec![vec![Cell::Count(r.tasks.due), Cell::Count(r.tasks.done_on_time), Cell::Count(r.tasks.overdue)]],
    }
}

/// The report's heading lines: what, when, generated when.
pub fn heading(r: &Report, english: bool) -> Vec<String> {
    let district = r.district.clone().unwrap_or_default();
    let (kind, span) = r.period.words(english);
    let mut lines = vec![if english {
        format!("{district} statistics, {kind}: {span}").trim().to_owned()
    } else {
        format!("{district}民政统计{kind}：{span}")
    }];
    let state = match (r.complete, english) {
        (true, false) => "",
        (false, false) => "（期间未结束，数字仍会变化）",
        (true, true) => "",
        (false, true) => " (period still running: figures will change)",
    };
    lines.push(format!("{}{}{state}", words(english, "生成时间：", "Generated at: "), r.generated_at));
    lines
}

/// One CSV field: quoted when it holds a separator, a quote or a line end.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_line(out: &mut String, cells: impl IntoIterator<Item = String>) {
    let cells: Vec<String> = cells.into_iter().map(|c| field(&c)).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// The report as CSV for Excel: BOM, CRLF, the heading, then every table with its title row.
pub fn csv(r: &Report, english: bool) -> String {
    csv_of(&heading(r, english), &tables(r, english))
}

/// Heading lines and tables as CSV for Excel: BOM, CRLF, a blank row before each table, its
/// title row, its header row, its rows.
pub fn csv_of(heading: &[String], tables: &[Table]) -> String {
    let mut out = String::from("\u{feff}");
    for line in heading {
        csv_line(&mut out, [line.clone()]);
    }
    for table in tables {
        out.push_str("\r\n");
        csv_line(&mut out, [table.title.clone()]);
        csv_line(&mut out, table.headers.iter().cloned());
        for row in &table.rows {
            csv_line(&mut out, row.iter().map(Cell::text));
        }
    }
    out
}

/// The report as aligned text for a terminal.
pub fn text(r: &Report, english: bool) -> String {
    text_of(&heading(r, english), &tables(r, english))
}

/// Heading lines and tables as aligned text: numbers right-aligned, columns two spaces apart.
pub fn text_of(heading: &[String], tables: &[Table]) -> String {
    let mut out = heading.join("\n");
    out.push('\n');
    for table in tables {
        out.push('\n');
        out.push_str(&table.title);
        out.push('\n');
        let cols = table.headers.len();
        let mut w: Vec<usize> = table.headers.iter().map(|h| width(h)).collect();
        for row in &table.rows {
            for (i, c) in row.iter().enumerate().take(cols) {
                w[i] = w[i].max(width(&c.text()));
            }
        }
        let header: Vec<String> = table.headers.iter().enumerate().map(|(i, h)| pad(h, w[i], false)).collect();
        out.push_str(header.join("  ").trim_end());
        out.push('\n');
        for row in &table.rows {
            let cells: Vec<String> = row.iter().enumerate().map(|(i, c)| pad(&c.text(), w[i], c.is_number())).collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
    }
    out
}

/// The province (or region) of a 2-digit GB/T 2260 code.
pub fn province(code: &str, english: bool) -> String {
    const P: &[(&str, &str, &str)] = &[
        ("11", "北京", "Beijing"),
        ("12", "天津", "Tianjin"),
        ("13", "河北", "Hebei"),
        ("14", "山西", "Shanxi"),
        ("15", "内蒙古", "Inner Mongolia"),
        ("21", "辽宁", "Liaoning"),
        ("22", "吉林", "Jilin"),
        ("23", "黑龙江", "Heilongjiang"),
        ("31", "上海", "Shanghai"),
        ("32", "江苏", "Jiangsu"),
        ("33", "浙江", "Zhejiang"),
        ("34", "安徽", "Anhui"),
        ("35", "福建", "Fujian"),
        ("36", "江西", "Jiangxi"),
        ("37", "山东", "Shandong"),
        ("41", "河南", "Henan"),
        ("42", "湖北", "Hubei"),
        ("43", "湖南", "Hunan"),
        ("44", "广东", "Guangdong"),
        ("45", "广西", "Guangxi"),
        ("46", "海南", "Hainan"),
        ("50", "重庆", "Chongqing"),
        ("51", "四川", "Sichuan"),
        ("52", "贵州", "Guizhou"),
        ("53", "云南", "Yunnan"),
        ("54", "西藏", "Tibet"),
        ("61", "陕西", "Shaanxi"),
        ("62", "甘肃", "Gansu"),
        ("63", "青海", "Qinghai"),
        ("64", "宁夏", "Ningxia"),
        ("65", "新疆", "Xinjiang"),
        ("71", "台湾", "Taiwan"),
        ("81", "香港", "Hong Kong"),
        ("82", "澳门", "Macao"),
    ];
    match P.iter().find(|(c, _, _)| *c == code) {
        Some((_, zh, en)) => words(english, zh, en),
        None if code == super::figures::UNKNOWN_ORIGIN => {
            words(english, "未知（无身份证号）", "unknown (no ID number)")
        }
        None => words(english, "其他", "other"),
    }
}
