//! The registry (`registry.toml`): the places the feeds refer to, who may do what, and the limits.
//!
//! Ops engineers write it by hand, so its keys are part of the external contract (SPEC §4) and
//! every error names the entry and key at fault.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// Money in integer fen (分). The registry writes yuan with at most two decimals.
///
/// Displayed as `¥3,000.00` (`-¥12.50` when negative); [`Fen::to_yuan_string`] gives the plain
/// `3000.00` form for exports. Parsed from yuan text with [`Fen::from_yuan_str`] (or `str::parse`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Fen(pub i64);

/// Why a text is not an amount of yuan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Blank text.
    #[error("no amount given")]
    Empty,
    /// Not a decimal number; the text given.
    #[error("`{0}` is not an amount of yuan: write e.g. 5000 or 5000.00")]
    NotANumber(String),
    /// More than two decimals; the text given.
    #[error("`{0}` has more than two decimals: amounts are in yuan to the fen, e.g. 12.50")]
    TooManyDecimals(String),
    /// More fen than fit in an `i64`; the text given.
    #[error("`{0}` is too large")]
    TooLarge(String),
}

impl Fen {
    /// Parses an amount in yuan: `5000`, `5000.5`, `5000.00`, `-12.50`, with an optional `¥`/`￥`
    /// and optional thousands separators (`200,000.00`). At most two decimals; blanks around
    /// the amount are ignored.
    pub fn from_yuan_str(text: &str) -> Result<Fen, MoneyError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        let nan = || MoneyError::NotANumber(t.to_string());
        let (negative, rest) = match t.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, t.strip_prefix('+').unwrap_or(t)),
        };
        let rest = rest.strip_prefix(['¥', '￥']).unwrap_or(rest);
        let (int, frac) = match rest.split_once('.') {
            Some((i, f)) => (i, f),
            None => (rest, ""),
        };
        if rest.ends_with('.') {
            return Err(nan());
        }
        // Thousands separators, only where they belong.
        let groups: Vec<&str> = int.split(',').collect();
        if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3))
        {
            return Err(nan());
        }
        let int: String = groups.concat();
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(nan());
        }
        if frac.len() > 2 {
            return Err(MoneyError::TooManyDecimals(t.to_string()));
        }
        let too_large = || MoneyError::TooLarge(t.to_string());
        let yuan: i64 = int.parse().map_err(|_| too_large())?;
        let frac_fen: i64 = match frac.len() {
            0 => 0,
            1 => i64::from(frac.as_bytes()[0] - b'0') * 10,
            _ => frac.parse().map_err(|_| nan())?,
        };
        let fen = yuan.checked_mul(100).and_then(|f| f.checked_add(frac_fen)).ok_or_else(too_large)?;
        Ok(Fen(if negative { -fen } else { fen }))
    }

    /// Plain yuan with two decimals and no symbol or separators: `3000.00`, `-12.50`.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl std::fmt::Display for Fen {
    /// `¥3,000.00`; negative amounts as `-¥12.50`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let abs = self.0.unsigned_abs();
        let digits = (abs / 100).to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        // The first group has 1 to 3 digits, every later one 3.
        let first = (digits.len() - 1) % 3 + 1;
        grouped.push_str(&digits[..first]);
        for chunk in digits.as_bytes()[first..].chunks(3) {
            grouped.push(',');
            grouped.push_str(std::str::from_utf8(chunk).expect("ASCII digits"));
        }
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}¥{grouped}.{:02}", abs % 100)
    }
}

impl std::str::FromStr for Fen {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fen::from_yuan_str(s)
    }
}

/// 救助管理站 (`station`) or 临时救助点 (`point`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StationKind {
    /// 救助管理站: a district rescue station.
    Station,
    /// 临时救助点: a temporary rescue point.
    Point,
}

/// 公益性墓园 public | 经营性公墓 commercial | 村级埋葬点 village | 骨灰堂 columbarium.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    /// 公益性墓园.
    Public,
    /// 经营性公墓.
    Commercial,
    /// 村级埋葬点: its capacity must not grow (zero-growth rule).
    Village,
    /// 骨灰堂.
    Columbarium,
}

/// What a connected user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read-only; names masked everywhere. Unknown users are viewers.
    Viewer,
    /// Acts on cases.
    Officer,
    /// Station staff: logs events and completes tasks at the stations listing it in `staff`.
    Station,
    /// An officer who also approves payments above the cap and reopens cases.
    Supervisor,
    /// Everything, including backups.
    Admin,
}

/// A rescue station or temporary rescue point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Station {
    /// Station id, e.g. `TZ-JZZ`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `通州区救助管理站`.
    pub name: String,
    /// The street it lies in (a `[[street]]` id).
    pub street: String,
    /// Rescue station or temporary point.
    pub kind: StationKind,
    /// Beds; occupancy above it raises the over-capacity alert.
    pub beds: u32,
    /// OS users with the `station` role who log arrivals, discharges and incidents here
    /// (optional key `staff = ["clerk1"]`).
    #[serde(default)]
    pub staff: Vec<String>,
}

/// A burial site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    /// Site id, e.g. `C-SZ`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `宋庄镇公益性墓园`.
    pub name: String,
    /// The town (乡镇) it lies in, as text.
    pub town: String,
    /// Public, commercial, village point or columbarium.
    pub kind: SiteKind,
}

/// A marriage registration office (婚姻登记机关).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Office {
    /// Office id, e.g. `M-TZ`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `通州区婚姻登记中心`.
    pub name: String,
    /// Optional 6-digit division code of the office's district; a party whose hukou code differs
    /// is cross-district. Defaults to the registry's `district_code`.
    pub division: Option<String>,
}

/// A street or town (街道/乡镇), holder of an emergency reserve fund (临时救助备用金).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Street {
    /// Street id, e.g. `ST-01`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `北苑街道`.
    pub name: String,
    /// The fund's allotment (the registry writes yuan).
    pub reserve_fund: Fen,
    /// Most that may be paid on one case without a supervisor's approval (一事一议 above it).
    pub case_cap: Fen,
}

/// A department cases can be dispatched to (分办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Department {
    /// Department id, e.g. `police`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `公安`.
    pub name: String,
}

/// 社区/村: a community under a street, where grid reports (网格上报) come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Community {
    /// Community id, e.g. `SQ-0101`; unique in the registry.
    pub id: String,
    /// Its name, e.g. `北苑社区`.
    pub name: String,
    /// The street it belongs to (a `[[street]]` id).
    pub street: String,
}

/// Which rescue-station events open a 救急难 case by themselves (`[auto_cases]`, SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoCases {
    /// 异常事件 (default on).
    pub incident: bool,
    /// A minor admitted: mandatory report (default on).
    pub minor: bool,
    /// A stay past `long_stay_days`: placement (default on).
    pub long_stay: bool,
    /// A death at a station: free basic funeral service (default on).
    pub death: bool,
    /// Elderly, disabled, mental, ill or pregnant adults (default off: station tasks instead).
    pub vulnerable_adult: bool,
    /// Identity unknown (default off: station tasks instead).
    pub unidentified: bool,
}

impl Default for AutoCases {
    fn default() -> Self {
        AutoCases {
            incident: true,
            minor: true,
            long_stay: true,
            death: true,
            vulnerable_adult: false,
            unidentified: false,
        }
    }
}

impl AutoCases {
    /// Every trigger on (benchmarks, tests).
    pub fn all() -> AutoCases {
        AutoCases {
            incident: true,
            minor: true,
            long_stay: true,
            death: true,
            vulnerable_adult: true,
            unidentified: true,
        }
    }
}

/// Case time limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// A new case must be accepted this long after it was opened (default 30 min).
    pub accept_within: Duration,
    /// A case must be closed this long after it was opened (default 72 h).
    pub close_within: Duration,
    /// A payment's paperwork is due this long after the payment (default 5 days).
    pub paperwork_within: Duration,
    /// A dispatched department's reply is due this long after the dispatch (default 48 h).
    pub reply_within: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            accept_within: Duration::from_secs(30 * 60),
            close_within: Duration::from_secs(72 * 3600),
            paperwork_within: Duration::from_secs(5 * 86400),
            reply_within: Duration::from_secs(48 * 3600),
        }
    }
}

/// The whole registry, validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registry {
    /// IANA zone name; default `Asia/Shanghai`.
    pub timezone: String,
    /// Stays longer than this many days are long stays (长期滞留); default 10.
    pub long_stay_days: u32,
    /// Optional 6-digit division code of the district (default for offices).
    pub district_code: Option<String>,
    /// The district's name (通州区), for reports and the city roll-up.
    pub district_name: Option<String>,
    /// Public holidays: not working days (the DNA-request clock of SPEC §7).
    pub holidays: BTreeSet<jiff::civil::Date>,
    /// Weekend days that are working days (调休).
    pub workdays: BTreeSet<jiff::civil::Date>,
    /// `[[station]]` entries, in file order.
    pub stations: Vec<Station>,
    /// `[[site]]` entries, in file order.
    pub sites: Vec<Site>,
    /// `[[office]]` entries, in file order.
    pub offices: Vec<Office>,
    /// `[[street]]` entries, in file order.
    pub streets: Vec<Street>,
    /// `[[department]]` entries, in file order.
    pub departments: Vec<Department>,
    /// `[[community]]` entries, in file order.
    pub communities: Vec<Community>,
    /// `[limits]`: case time limits.
    pub limits: Limits,
    /// `[auto_cases]`: which station events open a case by themselves.
    pub auto_cases: AutoCases,
    /// OS user name -> role.
    pub roles: BTreeMap<String, Role>,
    /// The zone named by `timezone`, looked up once at parse.
    #[serde(skip, default = "utc")]
    zone: jiff::tz::TimeZone,
}

fn utc() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::UTC
}

/// Why a registry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Not valid TOML, or a key of the wrong type: line and column are 1-based.
    #[error("registry is not valid TOML at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The TOML parser's message.
        message: String,
    },
    /// Valid TOML whose content is wrong: `at` names the entry and key, e.g.
    /// `[[station]] id = "TZ-JZZ", key beds`.
    #[error("registry entry {at}: {message}")]
    Invalid {
        /// The entry and key at fault.
        at: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Registry {
    /// Parses and validates a registry file's text.
    ///
    /// TOML and type errors (including unknown keys) are [`RegistryError::Syntax`] with the
    /// 1-based line and column; content errors are [`RegistryError::Invalid`] naming the entry.
    pub fn parse(text: &str) -> Result<Registry, RegistryError> {
        let raw: RawRegistry = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
        raw.validate()
    }

    /// The demo registry of SPEC §4 (a district like Tongzhou).
    pub fn demo() -> Registry {
        Registry::parse(DEMO_REGISTRY).expect("the demo registry is valid")
    }

    /// The registry's time zone (`timezone`), in which local times and days are read and shown.
    pub fn time_zone(&self) -> jiff::tz::TimeZone {
        self.zone.clone()
    }

    /// The `[[station]]` with this id.
    pub fn station(&self, id: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.id == id)
    }

    /// The `[[site]]` with this id.
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.id == id)
    }

    /// The `[[office]]` with this id.
    pub fn office(&self, id: &str) -> Option<&Office> {
        self.offices.iter().find(|s| s.id == id)
    }

    /// The `[[street]]` with this id.
    pub fn street(&self, id: &str) -> Option<&Street> {
        self.streets.iter().find(|s| s.id == id)
    }

    /// The `[[department]]` with this id.
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|s| s.id == id)
    }

    /// The `[[community]]` with this id.
    pub fn community(&self, id: &str) -> Option<&Community> {
        self.communities.iter().find(|s| s.id == id)
    }

    /// Whether `date` is a working day: Monday to Friday unless a holiday, or a listed workday.
    pub fn is_working_day(&self, date: jiff::civil::Date) -> bool {
        if self.workdays.contains(&date) {
            return true;
        }
        let weekend = matches!(date.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday);
        !weekend && !self.holidays.contains(&date)
    }

    /// Whether `user` with `role` may log station events at `station_id`: station staff at their
    /// own stations, admins anywhere.
    pub fn may_log_at(&self, user: &str, role: Role, station_id: &str) -> bool {
        match role {
            Role::Admin => true,
            Role::Station => self.station(station_id).is_some_and(|s| s.staff.iter().any(|u| u == user)),
            _ => false,
        }
    }

    /// The role of an OS user; unknown users are viewers.
    pub fn role_of(&self, user: &str) -> Role {
        self.roles.get(user).copied().unwrap_or(Role::Viewer)
    }

    /// Whether `new` may replace this registry on a reload. A save cut short (an empty file,
    /// or one that ends before `[roles]` or `[[department]]`) still parses, but drops whole
    /// sections: every station, street or role would vanish and every row be rejected. A reload
    /// that empties a section this registry fills is refused; to empty one on purpose, restart
    /// the daemon with the new file.
    pub fn check_replacement(&self, new: &Registry) -> Result<(), RegistryError> {
        let sections = [
            ("[[station]]", self.stations.len(), new.stations.len()),
            ("[[site]]", self.sites.len(), new.sites.len()),
            ("[[office]]", self.offices.len(), new.offices.len()),
            ("[[street]]", self.streets.len(), new.streets.len()),
            ("[[department]]", self.departments.len(), new.departments.len()),
            ("[roles]", self.roles.len(), new.roles.len()),
        ];
        let emptied: Vec<String> = sections
            .iter()
            .filter(|(_, old, new)| *old > 0 && *new == 0)
            .map(|(s, old, _)| format!("{s} ({old})"))
            .collect();
        if emptied.is_empty() {
            return Ok(());
        }
        Err(RegistryError::Invalid {
            at: "the whole file".into(),
            message: format!(
                "it has no entries left in {} (the registry in force has them in brackets): a save cut short? \
                 Fix the file; to remove a whole section on purpose, restart mzd with the new file",
                emptied.join(", ")
            ),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Raw form: what the TOML says, before validation.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    timezone: Option<String>,
    long_stay_days: Option<i64>,
    district_code: Option<String>,
    district_name: Option<String>,
    #[serde(default)]
    holidays: Vec<String>,
    #[serde(default)]
    workdays: Vec<String>,
    #[serde(default)]
    station: Vec<RawStation>,
    #[serde(default)]
    site: Vec<RawSite>,
    #[serde(default)]
    office: Vec<RawOffice>,
    #[serde(default)]
    street: Vec<RawStreet>,
    #[serde(default)]
    department: Vec<RawDepartment>,
    #[serde(default)]
    community: Vec<RawCommunity>,
    limits: Option<RawLimits>,
    auto_cases: Option<RawAutoCases>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    id: String,
    name: String,
    street: String,
    kind: String,
    beds: i64,
    #[serde(default)]
    staff: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    id: String,
    name: String,
    town: String,
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffice {
    id: String,
    name: String,
    division: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStreet {
    id: String,
    name: String,
    reserve_fund: toml::Value,
    case_cap: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDepartment {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommunity {
    id: String,
    name: String,
    street: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    accept_within: Option<String>,
    close_within: Option<String>,
    paperwork_within: Option<String>,
    reply_within: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAutoCases {
    incident: Option<bool>,
    minor: Option<bool>,
    long_stay: Option<bool>,
    death: Option<bool>,
    vulnerable_adult: Option<bool>,
    unidentified: Option<bool>,
}

impl RawAutoCases {
    fn validate(self) -> AutoCases {
        let d = AutoCases::default();
        AutoCases {
            incident: self.incident.unwrap_or(d.incident),
            minor: self.minor.unwrap_or(d.minor),
            long_stay: self.long_stay.unwrap_or(d.long_stay),
            death: self.death.unwrap_or(d.death),
            vulnerable_adult: self.vulnerable_adult.unwrap_or(d.vulnerable_adult),
            unidentified: self.unidentified.unwrap_or(d.unidentified),
        }
    }
}

/// A list of `YYYY-MM-DD` dates (`holidays`, `workdays`).
fn dates(key: &str, texts: &[String]) -> Result<BTreeSet<jiff::civil::Date>, RegistryError> {
    let mut out = BTreeSet::new();
    for (i, text) in texts.iter().enumerate() {
        let date = jiff::civil::Date::strptime("%Y-%m-%d", text.trim()).map_err(|_| {
            invalid(
                format!("{key}, item {}", i + 1),
                format!("{text:?} is not a date: write it as \"2026-10-01\" (year-month-day)"),
            )
        })?;
        out.insert(date);
    }
    Ok(out)
}

/// Turns a TOML error into a `Syntax` error with a 1-based line and column (in characters).
fn syntax_error(text: &str, e: &toml::de::Error) -> RegistryError {
    let offset = e.span().map_or(0, |s| s.start).min(text.len());
    // The span may in theory not fall on a character boundary; step back to one.
    let offset = (0..=offset).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    // serde names Rust types; say what to write instead.
    let message = e.message().trim().replace("expected i64", "expected a whole number (without quotes)");
    RegistryError::Syntax { line, column, message }
}

fn invalid(at: impl Into<String>, message: impl Into<String>) -> RegistryError {
    RegistryError::Invalid { at: at.into(), message: message.into() }
}

/// Names an array-of-tables entry: `[[station]] id = "TZ-JZZ"`, or `[[station]] #2` when it has
/// no usable id.
fn entry(table: &str, index: usize, id: &str) -> String {
    if id.trim().is_empty() {
        format!("[[{table}]] #{}", index + 1)
    } else {
        format!("[[{table}]] id = {id:?}")
    }
}

fn is_division_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Checks an entry's id and name, and that the id is new among `seen`.
fn check_id_name(
    table: &str,
    index: usize,
    id: &str,
    name: &str,
    seen: &mut BTreeMap<String, usize>,
) -> Result<(), RegistryError> {
    let at = entry(table, index, id);
    if id.trim().is_empty() {
        return Err(invalid(format!("{at}, key id"), format!("id is empty: give every [[{table}]] a short unique id")));
    }
    if id.trim() != id {
        return Err(invalid(format!("{at}, key id"), "id has blanks around it: remove them"));
    }
    if let Some(first) = seen.insert(id.to_string(), index) {
        return Err(invalid(
            format!("{at}, key id"),
            format!(
                "id {id:?} is used by [[{table}]] entries #{} and #{}: ids must be unique, rename one",
                first + 1,
                index + 1
            ),
        ));
    }
    if name.trim().is_empty() {
        return Err(invalid(format!("{at}, key name"), "name is empty: give the name people know it by"));
    }
    Ok(())
}

/// A money value in yuan (TOML integer, float, or string), at most two decimals, not negative.
fn money(at: String, value: &toml::Value) -> Result<Fen, RegistryError> {
    let text = match value {
        toml::Value::Integer(i) => i.to_string(),
        // `Display` of f64 never uses exponent notation and gives the shortest text that reads
        // back as the same float: 1234.56 shows as `1234.56`, so the decimals can be counted.
        toml::Value::Float(f) => f.to_string(),
        toml::Value::String(s) => s.clone(),
        other => {
            return Err(invalid(
                at,
                format!("expected an amount in yuan such as 5000.00, found a {}", other.type_str()),
            ))
        }
    };
    let fen = Fen::from_yuan_str(&text).map_err(|e| invalid(at.clone(), e.to_string()))?;
    if fen.0 < 0 {
        return Err(invalid(at, format!("{text} is negative: amounts must be 0 or more")));
    }
    Ok(fen)
}

fn duration(at: &str, text: Option<&str>, default: Duration) -> Result<Duration, RegistryError> {
    let Some(text) = text else { return Ok(default) };
    let d = humantime::parse_duration(text.trim())
        .map_err(|e| invalid(at, format!("{text:?} is not a duration ({e}): write e.g. \"30m\", \"72h\" or \"5d\"")))?;
    if d.is_zero() {
        return Err(invalid(at, "must be longer than zero: write e.g. \"30m\", \"72h\" or \"5d\""));
    }
    Ok(d)
}

/// A short list of known ids for messages: `ST-01, ST-02, …` (at most ten).
fn known_ids<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let ids: Vec<&str> = ids.collect();
    let mut out = ids.iter().take(10).copied().collect::<Vec<_>>().join(", ");
    if ids.len() > 10 {
        out.push_str(", …");
    }
    out
}

impl RawRegistry {
    fn validate(self) -> Result<Registry, RegistryError> {
        let timezone = self.timezone.unwrap_or_else(|| "Asia/Shanghai".to_string());
        if jiff::tz::TimeZone::get(&timezone).is_err() {
            return Err(invalid(
                "timezone",
                format!("{timezone:?} is not a known time zone: use an IANA name such as \"Asia/Shanghai\""),
            ));
        }

        let long_stay_days = match self.long_stay_days {
            None => 10,
            Some(n) => u32::try_from(n).ok().filter(|&n| n >= 1).ok_or_else(|| {
                invalid("long_stay_days", format!("{n} is not allowed: give a number of days, 1 or more (default 10)"))
            })?,
        };

        if let Some(code) = &self.district_code {
            if !is_division_code(code) {
                return Err(invalid(
                    "district_code",
                    format!("{code:?} is not a 6-digit division code: write e.g. \"110112\""),
                ));
            }
        }

        let mut streets = Vec::with_capacity(self.street.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.street.into_iter().enumerate() {
            check_id_name("street", i, &raw.id, &raw.name, &mut seen)?;
            let at = entry("street", i, &raw.id);
            let reserve_fund = money(format!("{at}, key reserve_fund"), &raw.reserve_fund)?;
            let case_cap = money(format!("{at}, key case_cap"), &raw.case_cap)?;
            streets.push(Street { id: raw.id, name: raw.name, reserve_fund, case_cap });
        }

        let mut stations = Vec::with_capacity(self.station.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.station.into_iter().enumerate() {
            check_id_name("station", i, &raw.id, &raw.name, &mut seen)?;
            let at = entry("station", i, &raw.id);
            if !streets.iter().any(|s| s.id == raw.street) {
                let hint = if streets.is_empty() {
                    "no [[street]] is defined yet: add one with that id".to_string()
                } else {
                    format!("use one of {} or add that street", known_ids(streets.iter().map(|s| s.id.as_str())))
                };
                return Err(invalid(
                    format!("{at}, key street"),
                    format!("street {:?} is not the id of a [[street]]: {hint}", raw.street),
                ));
            }
            let kind = match raw.kind.trim().to_ascii_lowercase().as_str() {
                "station" => StationKind::Station,
                "point" => StationKind::Point,
                _ => {
                    return Err(invalid(
                        format!("{at}, key kind"),
                        format!(
                            "kind {:?} is unknown: use \"station\" (救助管理站) or \"point\" (临时救助点)",
                            raw.kind
                        ),
                    ))
                }
            };
            let beds = u32::try_from(raw.beds).ok().filter(|&b| b >= 1).ok_or_else(|| {
                invalid(format!("{at}, key beds"), format!("{} beds is not allowed: give 1 or more", raw.beds))
            })?;
            stations.push(Station { id: raw.id, name: raw.name, street: raw.street, kind, beds, staff: raw.staff });
        }

        let mut sites = Vec::with_capacity(self.site.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.site.into_iter().enumerate() {
            check_id_name("site", i, &raw.id, &raw.name, &mut seen)?;
            let at = entry("site", i, &raw.id);
            if raw.town.trim().is_empty() {
                return Err(invalid(format!("{at}, key town"), "town is empty: name the town or street of the site"));
            }
            let kind = match raw.kind.trim().to_ascii_lowercase().as_str() {
                "public" => SiteKind::Public,
                "commercial" => SiteKind::Commercial,
                "village" => SiteKind::Village,
                "columbarium" => SiteKind::Columbarium,
                _ => {
                    return Err(invalid(
                        format!("{at}, key kind"),
                        format!(
                            "kind {:?} is unknown: use \"public\" (公益性墓园), \"commercial\" (经营性公墓), \
                             \"village\" (村级埋葬点) or \"columbarium\" (骨灰堂)",
                            raw.kind
                        ),
                    ))
                }
            };
            sites.push(Site { id: raw.id, name: raw.name, town: raw.town, kind });
        }

        let mut offices = Vec::with_capacity(self.office.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.office.into_iter().enumerate() {
            check_id_name("office", i, &raw.id, &raw.name, &mut seen)?;
            if let Some(code) = &raw.division {
                if !is_division_code(code) {
                    return Err(invalid(
                        format!("{}, key division", entry("office", i, &raw.id)),
                        format!("{code:?} is not a 6-digit division code: write e.g. \"110112\" or leave it out"),
                    ));
                }
            }
            offices.push(Office { id: raw.id, name: raw.name, division: raw.division });
        }

        let mut departments = Vec::with_capacity(self.department.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.department.into_iter().enumerate() {
            check_id_name("department", i, &raw.id, &raw.name, &mut seen)?;
            departments.push(Department { id: raw.id, name: raw.name });
        }

        let defaults = Limits::default();
        let limits = match self.limits {
            None => defaults,
            Some(raw) => Limits {
                accept_within: duration(
                    "[limits] key accept_within",
                    raw.accept_within.as_deref(),
                    defaults.accept_within,
                )?,
                close_within: duration(
                    "[limits] key close_within",
                    raw.close_within.as_deref(),
                    defaults.close_within,
                )?,
                paperwork_within: duration(
                    "[limits] key paperwork_within",
                    raw.paperwork_within.as_deref(),
                    defaults.paperwork_within,
                )?,
                reply_within: duration(
                    "[limits] key reply_within",
                    raw.reply_within.as_deref(),
                    defaults.reply_within,
                )?,
            },
        };

        let mut communities = Vec::with_capacity(self.community.len());
        let mut seen = BTreeMap::new();
        for (i, raw) in self.community.into_iter().enumerate() {
            check_id_name("community", i, &raw.id, &raw.name, &mut seen)?;
            if !streets.iter().any(|s| s.id == raw.street) {
                return Err(invalid(
                    format!("{}, key street", entry("community", i, &raw.id)),
                    format!(
                        "street {:?} is not the id of a [[street]]: use one of {}",
                        raw.street,
                        known_ids(streets.iter().map(|s| s.id.as_str()))
                    ),
                ));
            }
            communities.push(Community { id: raw.id, name: raw.name, street: raw.street });
        }
        let holidays = dates("holidays", &self.holidays)?;
        let workdays = dates("workdays", &self.workdays)?;
        if let Some(both) = holidays.intersection(&workdays).next() {
            return Err(invalid(
                "workdays",
                format!("{both} is listed both in holidays and in workdays: keep it in one"),
            ));
        }
        let auto_cases = self.auto_cases.map(RawAutoCases::validate).unwrap_or_default();

        let mut roles = BTreeMap::new();
        for (user, role) in self.roles {
            let at = format!("[roles] key {user:?}");
            if user.trim().is_empty() || user.trim() != user {
                return Err(invalid(at, "user name is empty or has blanks around it: write the OS user name"));
            }
            let role = match role.trim().to_ascii_lowercase().as_str() {
                "viewer" => Role::Viewer,
                "officer" => Role::Officer,
                "station" => Role::Station,
                "supervisor" => Role::Supervisor,
                "admin" => Role::Admin,
                _ => {
                    return Err(invalid(
                        at,
                        format!("role {role:?} is unknown: use viewer, officer, station, supervisor or admin"),
                    ))
                }
            };
            roles.insert(user, role);
        }

        let zone = jiff::tz::TimeZone::get(&timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        Ok(Registry {
            zone,
            timezone,
            long_stay_days,
            district_code: self.district_code,
            district_name: self.district_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            holidays,
            workdays,
            stations,
            sites,
            offices,
            streets,
            departments,
            communities,
            limits,
            auto_cases,
            roles,
        })
    }
}

/// Text of the demo registry.
pub const DEMO_REGISTRY: &str = include_str!("demo_registry.toml");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_that_empties_a_section_is_refused() {
        let demo = Registry::demo();
        assert_eq!(demo.check_replacement(&demo.clone()), Ok(()));
        let empty = Registry::parse("").expect("an empty file parses");
        let err = demo.check_replacement(&empty).unwrap_err().to_string();
        assert!(err.contains("[[station]]") && err.contains("[roles]"), "{err}");
        let mut no_roles = demo.clone();
        no_roles.roles.clear();
        let err = demo.check_replacement(&no_roles).unwrap_err().to_string();
        assert!(err.contains("[roles]") && !err.contains("[[station]]"), "{err}");
        let mut fewer = demo.clone();
        fewer.stations.truncate(1);
        assert_eq!(demo.check_replacement(&fewer), Ok(()), "removing some entries stays allowed");
    }

    const MINIMAL: &str = r#"
[[station]]
id = "S1"
name = "救助站"
street = "ST-01"
kind = "station"
beds = 5

[[street]]
id = "ST-01"
name = "北苑街道"
reserve_fund = 1000
case_cap = 200.5
"#;

    fn invalid_at(text: &str) -> (String, String) {
        match Registry::parse(text) {
            Err(RegistryError::Invalid { at, message }) => (at, message),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    fn syntax_at(text: &str) -> (usize, usize, String) {
        match Registry::parse(text) {
            Err(RegistryError::Syntax { line, column, message }) => (line, column, message),
            other => panic!("expected Syntax, got {other:?}"),
        }
    }

    #[test]
    fn demo_registry_parses_with_expected_counts() {
        let r = Registry::demo();
        assert_eq!(r.timezone, "Asia/Shanghai");
        assert_eq!(r.long_stay_days, 10);
        assert_eq!(r.district_code.as_deref(), Some("110112"));

        let district: Vec<_> = r.stations.iter().filter(|s| s.kind == StationKind::Station).collect();
        assert_eq!(district.len(), 1);
        assert_eq!(district[0].id, "TZ-JZZ");
        assert_eq!(district[0].name, "通州区救助管理站");
        assert_eq!(district[0].beds, 50);
        let points: Vec<_> = r.stations.iter().filter(|s| s.kind == StationKind::Point).collect();
        assert_eq!(points.len(), 5);
        assert!(points.iter().all(|p| (6..=12).contains(&p.beds)));
        let mut streets: Vec<_> = points.iter().map(|p| p.street.as_str()).collect();
        streets.sort();
        streets.dedup();
        assert_eq!(streets.len(), 5, "points are on different streets");

        let count = |k: SiteKind| r.sites.iter().filter(|s| s.kind == k).count();
        assert_eq!(count(SiteKind::Public), 9);
        assert!((4..=5).contains(&count(SiteKind::Village)));
        assert_eq!(count(SiteKind::Columbarium), 1);
        let towns: Vec<_> = r.sites.iter().filter(|s| s.kind == SiteKind::Public).map(|s| s.town.as_str()).collect();
        for town in
            ["宋庄镇", "张家湾镇", "漷县镇", "永乐店镇", "潞城镇", "西集镇", "台湖镇", "马驹桥镇", "于家务回族乡"]
        {
            assert!(towns.contains(&town), "{town}");
        }

        assert_eq!(r.offices.len(), 2);
        assert_eq!(r.office("M-TZ").unwrap().name, "通州区婚姻登记中心");
        assert!((8..=10).contains(&r.streets.len()));
        assert_eq!(r.street("ST-01").unwrap().reserve_fund, Fen(20_000_000));
        assert_eq!(r.street("ST-01").unwrap().case_cap, Fen(500_000));
        let deps: Vec<_> = r.departments.iter().map(|d| (d.id.as_str(), d.name.as_str())).collect();
        assert_eq!(
            deps,
            [
                ("police", "公安"),
                ("health", "卫健"),
                ("housing", "住建"),
                ("education", "教育"),
                ("hrss", "人社"),
                ("charity", "慈善"),
                ("disabled", "残联")
            ]
        );
        assert_eq!(r.limits, Limits::default());
        assert_eq!(r.roles.len(), 5);
        assert_eq!(r.role_of("duty1"), Role::Officer);
        assert_eq!(r.role_of("duty2"), Role::Officer);
        assert_eq!(r.role_of("chief"), Role::Supervisor);
        assert_eq!(r.role_of("clerk1"), Role::Station);
        assert_eq!(r.role_of("ops"), Role::Admin);
        assert_eq!(r.role_of("stranger"), Role::Viewer);
        // Every station's street exists (checked at parse; asserted here for the demo's sake).
        assert!(r.stations.iter().all(|s| r.street(&s.street).is_some()));
        assert_eq!(r.time_zone(), jiff::tz::TimeZone::get("Asia/Shanghai").unwrap());
    }

    #[test]
    fn defaults() {
        let r = Registry::parse("").unwrap();
        assert_eq!(r.timezone, "Asia/Shanghai");
        assert_eq!(r.long_stay_days, 10);
        assert_eq!(r.district_code, None);
        assert_eq!(r.limits, Limits::default());
        assert!(r.stations.is_empty() && r.roles.is_empty());

        let r = Registry::parse("[limits]\naccept_within = \"1h\"\n").unwrap();
        assert_eq!(r.limits.accept_within, Duration::from_secs(3600));
        assert_eq!(r.limits.close_within, Limits::default().close_within);

        let r = Registry::parse(MINIMAL).unwrap();
        assert_eq!(r.street("ST-01").unwrap().reserve_fund, Fen(100_000));
        assert_eq!(r.street("ST-01").unwrap().case_cap, Fen(20_050));
        assert_eq!(r.station("S1").unwrap().beds, 5);
    }

    #[test]
    fn case_cap_above_reserve_fund_is_allowed() {
        let r = Registry::parse(
            "[[street]]\nid = \"A\"\nname = \"甲\"\nreserve_fund = 100\ncase_cap = 5000.00\n\
             [[street]]\nid = \"B\"\nname = \"乙\"\nreserve_fund = \"¥1,234.50\"\ncase_cap = 0\n",
        )
        .unwrap();
        assert_eq!(r.street("A").unwrap().case_cap, Fen(500_000));
        assert_eq!(r.street("B").unwrap().reserve_fund, Fen(123_450));
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let (line, column, _) = syntax_at("timezone = \"Asia/Shanghai\"\nlong_stay_days = = 3\n");
        assert_eq!(line, 2);
        assert!(column > 1);

        // Unknown key, with its position.
        let text =
            "[[station]]\nid = \"S1\"\nname = \"x\"\nstreet = \"ST-01\"\nkind = \"station\"\nbeds = 5\n  bed = 4\n";
        let (line, column, message) = syntax_at(text);
        assert_eq!((line, column), (7, 3));
        assert!(message.contains("unknown field `bed`"), "{message}");

        // Unknown top-level key and table.
        let (line, _, message) = syntax_at("timezon = \"UTC\"\n");
        assert_eq!(line, 1);
        assert!(message.contains("timezon"), "{message}");
        let (line, _, _) = syntax_at("# c\n[limit]\naccept_within = \"1h\"\n");
        assert_eq!(line, 2);

        // Wrong types.
        let (line, _, message) = syntax_at("long_stay_days = \"ten\"\n");
        assert_eq!(line, 1);
        assert!(message.contains("whole number"), "{message}");
        let (line, _, _) = syntax_at(&MINIMAL.replace("beds = 5", "beds = \"5\""));
        assert_eq!(line, 7);

        // Missing key.
        let (_, _, message) = syntax_at(&MINIMAL.replace("beds = 5\n", ""));
        assert!(message.contains("beds"), "{message}");

        // Columns count characters, not bytes.
        let (line, column, _) = syntax_at("# 中文注释\nname = \"通州\" x\n");
        assert_eq!((line, column), (2, 13));
    }

    #[test]
    fn invalid_top_level_values() {
        let (at, message) = invalid_at("timezone = \"Asia/Beijing\"\n");
        assert_eq!(at, "timezone");
        assert!(message.contains("Asia/Shanghai"), "{message}");
        assert_eq!(Registry::parse("timezone = \"Europe/Berlin\"\n").unwrap().timezone, "Europe/Berlin");

        assert_eq!(invalid_at("long_stay_days = 0\n").0, "long_stay_days");
        assert_eq!(invalid_at("long_stay_days = -3\n").0, "long_stay_days");
        assert_eq!(invalid_at("district_code = \"11011\"\n").0, "district_code");
        assert_eq!(invalid_at("district_code = \"11011a\"\n").0, "district_code");
    }

    #[test]
    fn invalid_stations() {
        let (at, message) = invalid_at(&MINIMAL.replace("beds = 5", "beds = 0"));
        assert_eq!(at, "[[station]] id = \"S1\", key beds");
        assert!(message.contains("1 or more"), "{message}");
        assert_eq!(invalid_at(&MINIMAL.replace("beds = 5", "beds = -2")).0, "[[station]] id = \"S1\", key beds");

        let (at, message) = invalid_at(&MINIMAL.replace("street = \"ST-01\"", "street = \"ST-99\""));
        assert_eq!(at, "[[station]] id = \"S1\", key street");
        assert!(message.contains("ST-99") && message.contains("ST-01"), "{message}");

        let (at, message) = invalid_at(&MINIMAL.replace("kind = \"station\"", "kind = \"shelter\""));
        assert_eq!(at, "[[station]] id = \"S1\", key kind");
        assert!(message.contains("point"), "{message}");

        let (at, _) = invalid_at(&MINIMAL.replace("id = \"S1\"", "id = \"\""));
        assert_eq!(at, "[[station]] #1, key id");
        let (at, _) = invalid_at(&MINIMAL.replace("id = \"S1\"", "id = \" S1\""));
        assert_eq!(at, "[[station]] id = \" S1\", key id");
        let (at, _) = invalid_at(&MINIMAL.replace("name = \"救助站\"", "name = \"  \""));
        assert_eq!(at, "[[station]] id = \"S1\", key name");

        let dup = format!(
            "{MINIMAL}\n[[station]]\nid = \"S1\"\nname = \"b\"\nstreet = \"ST-01\"\nkind = \"point\"\nbeds = 2\n"
        );
        let (at, message) = invalid_at(&dup);
        assert_eq!(at, "[[station]] id = \"S1\", key id");
        assert!(message.contains("#1 and #2"), "{message}");
    }

    #[test]
    fn same_id_in_different_kinds_is_fine() {
        let text = format!("{MINIMAL}\n[[site]]\nid = \"S1\"\nname = \"墓园\"\ntown = \"宋庄镇\"\nkind = \"public\"\n");
        assert!(Registry::parse(&text).is_ok());
    }

    #[test]
    fn invalid_sites_offices_departments() {
        let site = "[[site]]\nid = \"C1\"\nname = \"墓园\"\ntown = \"宋庄镇\"\nkind = \"public\"\n";
        assert!(Registry::parse(site).is_ok());
        for kind in ["commercial", "village", "columbarium"] {
            assert!(Registry::parse(&site.replace("public", kind)).is_ok(), "{kind}");
        }
        let (at, message) = invalid_at(&site.replace("public", "cemetery"));
        assert_eq!(at, "[[site]] id = \"C1\", key kind");
        assert!(message.contains("columbarium"), "{message}");
        assert_eq!(invalid_at(&site.replace("宋庄镇", "")).0, "[[site]] id = \"C1\", key town");
        assert_eq!(invalid_at(&format!("{site}{site}")).0, "[[site]] id = \"C1\", key id");

        let office = "[[office]]\nid = \"M1\"\nname = \"中心\"\ndivision = \"110112\"\n";
        assert_eq!(Registry::parse(office).unwrap().office("M1").unwrap().division.as_deref(), Some("110112"));
        assert_eq!(invalid_at(&office.replace("110112", "1101")).0, "[[office]] id = \"M1\", key division");
        assert_eq!(invalid_at(&format!("{office}{office}")).0, "[[office]] id = \"M1\", key id");

        let dep = "[[department]]\nid = \"police\"\nname = \"公安\"\n";
        assert!(Registry::parse(dep).unwrap().department("police").is_some());
        assert_eq!(invalid_at(&format!("{dep}{dep}")).0, "[[department]] id = \"police\", key id");
        assert_eq!(invalid_at(&dep.replace("police", "")).0, "[[department]] #1, key id");
    }

    #[test]
    fn invalid_money() {
        for (bad, needle) in [
            ("case_cap = 200.505", "two decimals"),
            ("case_cap = -1", "negative"),
            ("case_cap = -0.5", "negative"),
            ("case_cap = true", "boolean"),
            ("case_cap = \"abc\"", "not an amount"),
            ("case_cap = 1e30", "too large"),
        ] {
            let (at, message) = invalid_at(&MINIMAL.replace("case_cap = 200.5", bad));
            assert_eq!(at, "[[street]] id = \"ST-01\", key case_cap", "{bad}");
            assert!(message.contains(needle), "{bad}: {message}");
        }
        let (at, _) = invalid_at(&MINIMAL.replace("reserve_fund = 1000", "reserve_fund = 0.001"));
        assert_eq!(at, "[[street]] id = \"ST-01\", key reserve_fund");
    }

    #[test]
    fn invalid_limits_and_roles() {
        let (at, message) = invalid_at("[limits]\nclose_within = \"3 days-ish\"\n");
        assert_eq!(at, "[limits] key close_within");
        assert!(message.contains("72h"), "{message}");
        assert_eq!(invalid_at("[limits]\npaperwork_within = \"0s\"\n").0, "[limits] key paperwork_within");
        let r = Registry::parse("[limits]\naccept_within = \"15min\"\nclose_within = \"3days\"\n").unwrap();
        assert_eq!(r.limits.accept_within, Duration::from_secs(900));
        assert_eq!(r.limits.close_within, Duration::from_secs(3 * 86400));

        let (at, message) = invalid_at("[roles]\nduty1 = \"offcer\"\n");
        assert_eq!(at, "[roles] key \"duty1\"");
        assert!(message.contains("supervisor"), "{message}");
        let r = Registry::parse(
            "[roles]\na = \"viewer\"\nb = \"Officer\"\nc = \"station\"\nd = \"supervisor\"\ne = \"admin\"\n",
        )
        .unwrap();
        assert_eq!(
            r.roles.values().copied().collect::<Vec<_>>(),
            [Role::Viewer, Role::Officer, Role::Station, Role::Supervisor, Role::Admin]
        );
    }

    #[test]
    fn error_display_names_the_entry() {
        let e = Registry::parse(&MINIMAL.replace("beds = 5", "beds = 0")).unwrap_err();
        assert!(e.to_string().starts_with("registry entry [[station]] id = \"S1\", key beds: "), "{e}");
        let e = Registry::parse("x = = 1").unwrap_err();
        assert!(e.to_string().starts_with("registry is not valid TOML at line 1, column "), "{e}");
    }

    #[test]
    fn fen_display_and_parse() {
        assert_eq!(Fen(300_000).to_string(), "¥3,000.00");
        assert_eq!(Fen(20_000_000).to_string(), "¥200,000.00");
        assert_eq!(Fen(123_456_789).to_string(), "¥1,234,567.89");
        assert_eq!(Fen(5).to_string(), "¥0.05");
        assert_eq!(Fen(0).to_string(), "¥0.00");
        assert_eq!(Fen(-1250).to_string(), "-¥12.50");
        assert_eq!(Fen(99_900).to_string(), "¥999.00");
        assert_eq!(Fen(300_000).to_yuan_string(), "3000.00");
        assert_eq!(Fen(-5).to_yuan_string(), "-0.05");

        assert_eq!("5000".parse::<Fen>(), Ok(Fen(500_000)));
        assert_eq!(Fen::from_yuan_str(" 12.5 "), Ok(Fen(1250)));
        assert_eq!(Fen::from_yuan_str("12.05"), Ok(Fen(1205)));
        assert_eq!(Fen::from_yuan_str("¥3,000.00"), Ok(Fen(300_000)));
        assert_eq!(Fen::from_yuan_str("￥200,000"), Ok(Fen(20_000_000)));
        assert_eq!(Fen::from_yuan_str("-12.50"), Ok(Fen(-1250)));
        assert_eq!(Fen::from_yuan_str("+1"), Ok(Fen(100)));
        assert_eq!(Fen::from_yuan_str(""), Err(MoneyError::Empty));
        assert!(matches!(Fen::from_yuan_str("12.345"), Err(MoneyError::TooManyDecimals(_))));
        for bad in ["abc", "12.", ".5", "1,00", "1,0000", ",100", "1 000", "1.2.3", "--1", "NaN", "inf", "1e3"] {
            assert!(matches!(Fen::from_yuan_str(bad), Err(MoneyError::NotANumber(_))), "{bad}");
        }
        assert!(matches!(Fen::from_yuan_str("999999999999999999999"), Err(MoneyError::TooLarge(_))));
        for fen in [0, 1, 99, 100, 123_456, 20_000_000] {
            assert_eq!(Fen::from_yuan_str(&Fen(fen).to_string()), Ok(Fen(fen)));
            assert_eq!(Fen::from_yuan_str(&Fen(fen).to_yuan_string()), Ok(Fen(fen)));
        }
    }
}

#[cfg(test)]
mod calendar_tests {
    use super::*;

    fn with(extra: &str) -> Result<Registry, RegistryError> {
        Registry::parse(&format!(
            "{extra}\n[[street]]\nid = \"ST-01\"\nname = \"北苑街道\"\nreserve_fund = 1\ncase_cap = 1\n"
        ))
    }

    #[test]
    fn working_days_follow_weekends_holidays_and_adjusted_workdays() {
        let r = with("holidays = [\"2026-10-01\"]\nworkdays = [\"2026-09-27\"]").unwrap();
        let d = |s: &str| jiff::civil::Date::strptime("%Y-%m-%d", s).unwrap();
        assert!(r.is_working_day(d("2026-09-30")), "a Wednesday");
        assert!(!r.is_working_day(d("2026-10-01")), "a holiday on a Thursday");
        assert!(!r.is_working_day(d("2026-10-03")), "a Saturday");
        assert!(r.is_working_day(d("2026-09-27")), "a Sunday worked instead (调休)");
    }

    #[test]
    fn calendar_communities_and_auto_cases_are_checked() {
        assert!(with("holidays = [\"2026-13-01\"]").unwrap_err().to_string().contains("holidays, item 1"));
        assert!(with("holidays = [\"2026-10-01\"]\nworkdays = [\"2026-10-01\"]").is_err());
        let e = with("[[community]]\nid = \"SQ\"\nname = \"x\"\nstreet = \"ST-99\"").unwrap_err();
        assert!(e.to_string().contains("ST-99"), "{e}");
        let r = with("[auto_cases]\nunidentified = true").unwrap();
        assert!(r.auto_cases.unidentified && r.auto_cases.incident && !r.auto_cases.vulnerable_adult);
        assert_eq!(with("").unwrap().auto_cases, AutoCases::default());
        let demo = Registry::demo();
        assert!(!demo.communities.is_empty() && !demo.holidays.is_empty());
        assert_eq!(demo.limits.reply_within, std::time::Duration::from_secs(48 * 3600));
    }
}
