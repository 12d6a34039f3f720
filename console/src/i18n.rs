//! Every label the console shows, in Chinese (default) and English.
//!
//! A label is an [`L`] pair, so a missing translation does not compile. Names of the shared
//! enumerations (event kinds, flags, alert kinds, …) come from `mz_shared` (`.zh()`), with the
//! English word derived from `.as_str()`.

use mz_shared::alert::AlertKind;
use mz_shared::records::{DischargeReason, EventKind, Flag, Gender, IncidentType, MarriageKind};
use mz_shared::registry::{Role, SiteKind, StationKind};

pub use mz_shared::reason::Lang;

/// A label: Chinese, English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L(pub &'static str, pub &'static str);

impl L {
    /// The label in `lang`.
    pub fn t(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.0,
            Lang::En => self.1,
        }
    }
}

// Views.
pub(crate) const VIEW_OVERVIEW: L = L("总览", "Overview");
pub(crate) const VIEW_STATIONS: L = L("救助站", "Stations");
pub(crate) const VIEW_BURIALS: L = L("殡葬", "Burials");
pub(crate) const VIEW_MARRIAGES: L = L("婚姻", "Marriages");
pub(crate) const VIEW_ALERTS: L = L("告警", "Alerts");
pub(crate) const VIEW_INGEST: L = L("导入", "Ingest");
pub(crate) const VIEW_CASES: L = L("救急难", "Cases");
pub(crate) const VIEW_FUNDS: L = L("备用金", "Funds");
pub(crate) const VIEW_REPORT: L = L("报表", "Report");
pub(crate) const ECO_DISTRICT: L = L("全区节地生态安葬率", "district eco-burial share");

// Reserve funds.
pub(crate) const VIEW_FUNDS_TITLE: L = L("临时救助备用金（各街道）", "Reserve funds by street");
pub(crate) const FUND_NAME: L = L("名称", "Name");
pub(crate) const FUND_INITIAL: L = L("核定额度", "Allotted");
pub(crate) const FUND_PAID: L = L("已支付", "Paid");
pub(crate) const FUND_PENDING: L = L("待审批", "Pending");
pub(crate) const FUND_BALANCE: L = L("余额", "Balance");
pub(crate) const FUND_OPEN_CASES: L = L("在办案件", "Open cases");
pub(crate) const NO_FUNDS: L = L("登记册中没有街道", "no streets in the registry");

// Connection and status bar.
pub(crate) const CONNECTING: L = L("正在连接…", "connecting...");
pub(crate) const CONNECTED: L = L("已连接", "connected");
/// Shown across the top while the connection to the daemon is lost.
pub const DISCONNECTED_BANNER: L = L("连接中断，正在重连…", "disconnected, reconnecting...");
pub(crate) const DISCONNECTED: L = L("未连接", "disconnected");
pub(crate) const PAUSED: L = L("已暂停", "paused");
pub(crate) const UPDATES_HELD: L = L("条更新待显示", "held");
pub(crate) const USER: L = L("用户", "user");
pub(crate) const NO_DATA: L = L("等待数据…", "waiting for data...");
pub(crate) const ATTEMPT: L = L("第几次重连", "attempt");
pub(crate) const HELP_HINT: L = L("?帮助 q退出", "? help  q quit");
pub(crate) const TOO_SMALL: L = L("终端窗口太小", "terminal too small");
pub(crate) const NEED: L = L("至少需要", "needs at least");
pub(crate) const NOW: L = L("当前", "now");
pub(crate) const EXPORTED: L = L("已导出", "exported");
pub(crate) const EXPORT_FAILED: L = L("导出失败", "export failed");
pub(crate) const ACKING: L = L("正在确认告警…", "acknowledging alert...");
pub(crate) const ACKED: L = L("告警已确认", "alert acknowledged");
pub(crate) const ACK_FAILED: L = L("确认失败", "acknowledge failed");
pub(crate) const ACK_ALREADY: L = L("该告警已确认", "alert already acknowledged");
pub(crate) const NOTHING_SELECTED: L = L("未选中任何行", "nothing selected");
pub(crate) const FILTER: L = L("过滤", "filter");
pub(crate) const FILTER_HINT: L = L("Enter确定 Esc清除", "Enter apply  Esc clear");
pub(crate) const ROWS: L = L("行", "rows");
/// The demo marker; the speed matches `demo::CLOCK_SPEED`.
pub(crate) const DEMO: L = L("演示：时间加速 ×60", "demo: clock ×60");

// Roles.
pub(crate) fn role(role: Role, lang: Lang) -> &'static str {
    let l = match role {
        Role::Viewer => L("只读", "viewer"),
        Role::Officer => L("值班员", "officer"),
        Role::Station => L("站点", "station"),
        Role::Supervisor => L("主管", "supervisor"),
        Role::Admin => L("管理员", "admin"),
    };
    l.t(lang)
}

// Overview.
pub(crate) const STATIONS_BEDS: L = L("救助站床位", "Station beds, in/out today");
pub(crate) const CEMETERIES: L = L("墓位容量", "Cemetery capacity");
pub(crate) const REGISTRATIONS_TODAY: L = L("今日婚姻登记", "Registrations today");
pub(crate) const LAST_7_DAYS: L = L("近7日", "last 7 days");
pub(crate) const ACTIVE_ALERTS: L = L("待处理告警", "Active alerts");
pub(crate) const INGEST_HEALTH: L = L("导入状况", "Ingest health");
pub(crate) const URGENT_CASES: L = L("最紧急的在办个案", "Most urgent open cases");
pub(crate) const LATEST_ALERTS: L = L("最新告警", "Latest alerts");
pub(crate) const ARRIVALS_BY_HOUR: L = L("每小时入站：今日对比昨日", "Arrivals per hour: today vs yesterday");
pub(crate) const HOURS_TODAY: L = L("今日", "today");
pub(crate) const HOURS_YESTERDAY: L = L("昨日", "yday");
pub(crate) const ADMITS_TODAY_ALL: L = L("今日各站入站合计", "arrivals today, all stations:");
pub(crate) const LAST_FILE: L = L("最近文件", "last file");
pub(crate) const NO_FILES: L = L("尚无文件", "no files yet");
pub(crate) const REJECTED_TODAY: L = L("今日拒收行", "rows rejected today");
pub(crate) const FILES_TOTAL: L = L("文件 导入/隔离/重复", "files in/quar./dup.");
pub(crate) const HEALTHY: L = L("运行正常", "healthy");
pub(crate) const UNHEALTHY: L = L("运行异常", "UNHEALTHY");
pub(crate) const ATTENTION: L = L("运行正常，需处理", "healthy, needs attention");
pub(crate) const SITES: L = L("墓园数", "sites");
pub(crate) const CAPACITY: L = L("总穴位", "capacity");
pub(crate) const CAP_SHORT: L = L("总穴位", "Cap.");
pub(crate) const OCC_SHORT: L = L("已用", "Used");
pub(crate) const OCCUPIED: L = L("已用", "occupied");
pub(crate) const NEARLY_FULL: L = L("将满(>=90%)", "nearly full (>=90%)");
pub(crate) const GROWTH_VIOLATIONS: L = L("零增长违规", "zero-growth breaches");
pub(crate) const SOONEST_FULL: L = L("最早用满", "soonest full");
pub(crate) const MONTHS: L = L("个月", "months");
pub(crate) const FULL_RATE_UNKNOWN: L = L("已用，增速未知", "full, rate unknown");
pub(crate) const NONE: L = L("无", "none");
pub(crate) const TOTAL: L = L("合计", "total");
pub(crate) const CASES_OPEN: L = L("在办个案", "open cases");
pub(crate) const CASES_OVERDUE: L = L("超时", "overdue");

// Stations.
pub(crate) const STATION: L = L("救助站", "Station");
pub(crate) const KIND: L = L("类型", "Kind");
pub(crate) const BEDS: L = L("床位", "Beds");
pub(crate) const ADMITS_TODAY: L = L("今日入站", "In");
pub(crate) const DISCHARGES_TODAY: L = L("今日离站", "Out");
pub(crate) const INCIDENTS_TODAY: L = L("今日异常", "Inc. today");
pub(crate) const LONG_STAYS: L = L("长期滞留", "Long");
pub(crate) const OPEN_INCIDENTS: L = L("异常", "Inc.");
pub(crate) const RESIDENTS: L = L("在站人员", "Residents");
pub(crate) const RECENT_EVENTS: L = L("最近事件", "Recent events");
pub(crate) const PERSON: L = L("编号", "Ref");
pub(crate) const NAME: L = L("姓名", "Name");
pub(crate) const GENDER: L = L("性别", "Sex");
pub(crate) const AGE: L = L("年龄", "Age");
pub(crate) const BED: L = L("床位", "Bed");
pub(crate) const DAYS: L = L("在站天数", "Days");
pub(crate) const MARKS: L = L("标记", "Flags");
pub(crate) const LONG_STAY_MARK: L = L("长期滞留", "LONG STAY");
pub(crate) const UNIDENTIFIED: L = L("身份不明", "unidentified");
pub(crate) const INCIDENT_MARK: L = L("异常", "incident");
pub(crate) const TIME: L = L("时间", "Time");
pub(crate) const EVENT: L = L("事件", "Event");
pub(crate) const DETAIL: L = L("详情", "Detail");
pub(crate) const RECORD: L = L("记录编号", "Record");
pub(crate) const ADMITTED_AT: L = L("入站时间", "Admitted");
pub(crate) const ENTER_RESIDENTS: L = L("Enter查看在站人员", "Enter: residents");
pub(crate) const NO_RESIDENTS: L = L("无在站人员", "no residents");
pub(crate) const NO_EVENTS: L = L("无事件", "no events");

// Burials.
pub(crate) const SITE: L = L("墓园", "Site");
pub(crate) const TOWN: L = L("乡镇", "Town");
pub(crate) const FILL: L = L("占用", "Fill");
pub(crate) const ECO: L = L("生态", "Eco");
pub(crate) const TO_FULL: L = L("剩余月", "Mo. left");
pub(crate) const STATE: L = L("状态", "State");
pub(crate) const NEARLY_FULL_MARK: L = L("将满", "near full");
pub(crate) const VIOLATION_MARK: L = L("扩容违规", "grew: breach");
pub(crate) const REPORTED_ON: L = L("统计日期", "Reported on");
pub(crate) const HISTORY: L = L("历史", "History");
pub(crate) const NOT_REPORTED: L = L("未上报", "no report");

// Marriages.
pub(crate) const OFFICE: L = L("登记机关", "Office");
pub(crate) const REG_KIND: L = L("登记类型", "Kind");
pub(crate) const TODAY: L = L("今日", "Today");
pub(crate) const DAYS_7: L = L("近7日", "7 days");
pub(crate) const DAYS_30: L = L("近30日", "30 days");
pub(crate) const CROSS_DISTRICT: L = L("跨区比例", "cross-district");
pub(crate) const COUNSELLING: L = L("辅导率", "counselling");
pub(crate) const CHART_30: L = L("近30日登记量（全区）", "Registrations, 30 days (all offices)");
pub(crate) const COOLING_OFF: L = L("离婚冷静期", "Cooling-off");
pub(crate) const APPLIED_AT: L = L("申请时间", "Applied");
pub(crate) const PEAK: L = L("最高", "peak");
pub(crate) const NO_COOLING: L = L("无冷静期中的申请", "no applications in cooling-off");
pub(crate) const DIVORCE_QUEUE: L = L("离婚冷静期/申领期", "Divorce applications");
pub(crate) const DAYS_LEFT_SHORT: L = L("剩余", "Left");
pub(crate) const WINDOW: L = L("阶段", "Window");
pub(crate) const WINDOW_COOLING: L = L("冷静期", "cooling-off");
pub(crate) const WINDOW_REGISTER: L = L("申领期", "to register");
pub(crate) const LAPSED: L = L("视为撤回申请", "lapsed");

// Alerts.
pub(crate) const ALERT_ACTIVE: L = L("待处理", "ACTIVE");
pub(crate) const ALERT_ACKED: L = L("已确认", "acked");
pub(crate) const ALERT_KIND: L = L("告警类型", "Kind");
pub(crate) const SUBJECT: L = L("对象", "Subject");
pub(crate) const RAISED_AT: L = L("发生时间", "Raised");
pub(crate) const MESSAGE: L = L("内容", "Message");
pub(crate) const ACKED_BY: L = L("确认人", "Acked by");
pub(crate) const NO_ALERTS: L = L("无告警", "no alerts");

// Ingest.
pub(crate) const FILE: L = L("文件", "File");
pub(crate) const FEED: L = L("数据类", "Feed");
pub(crate) const OUTCOME: L = L("结果", "Outcome");
pub(crate) const STORED: L = L("入库", "Stored");
pub(crate) const CORRECTED: L = L("更正", "Corr.");
pub(crate) const DUPLICATE: L = L("重复", "Dup.");
pub(crate) const REJECTED: L = L("拒收", "Rej.");
pub(crate) const NOTE: L = L("说明", "Note");
pub(crate) const DEST: L = L("去向", "Moved to");
pub(crate) const REJECTS_PREVIEW: L = L("拒收行预览（前20行）", "Rejected rows (first 20 lines)");
pub(crate) const PREVIEW_UNAVAILABLE: L = L("无法读取拒收文件", "cannot read the rejects file");
pub(crate) const LOADING: L = L("读取中…", "loading...");

pub(crate) fn outcome(outcome: &str, lang: Lang) -> String {
    let l = match outcome {
        "ingested" => L("已导入", "ingested"),
        "quarantined" => L("已隔离", "QUARANTINED"),
        "duplicate" => L("重复文件", "duplicate"),
        other => return other.to_string(),
    };
    l.t(lang).to_string()
}

pub(crate) fn feed(feed: &str, lang: Lang) -> String {
    match (feed.parse::<mz_shared::feed::Feed>(), lang) {
        (Ok(f), Lang::Zh) => f.zh().to_string(),
        _ => feed.to_string(),
    }
}

// Case desk (view 7).
pub(crate) const CASE_ID: L = L("编号", "Case");
pub(crate) const STREET: L = L("街道", "Street");
pub(crate) const URGENCY: L = L("紧急", "Urg.");
pub(crate) const SUMMARY: L = L("摘要", "Summary");
pub(crate) const DEADLINE: L = L("时限", "Deadline");
pub(crate) const PAID: L = L("已拨付", "Paid");
pub(crate) const OVERDUE_MARK: L = L("[超时]", "[OVERDUE]");
pub(crate) const PENDING_MARK: L = L("/待批", "/req.");
pub(crate) const LEFT: L = L("剩", "in");
pub(crate) const NO_CASES: L = L("无在办案件", "no open cases");
pub(crate) const CASES_ALL: L = L("含已结束", "with ended");
pub(crate) const CASES_ENDED: L = L("已结束", "ended");
pub(crate) const CASE_DETAIL: L = L("案件详情", "Case");
pub(crate) const SOURCE: L = L("来源", "Source");
pub(crate) const OPENED: L = L("登记", "Opened");
pub(crate) const ACCEPTED_AT: L = L("受理时间", "Accepted");
pub(crate) const DEPARTMENTS: L = L("分办部门", "Departments");
pub(crate) const REFERRED_TO: L = L("转办至", "Referred to");
pub(crate) const ID_NUMBER: L = L("身份证号", "ID number");
pub(crate) const STATION_OF: L = L("救助站", "Station");
pub(crate) const ACCEPT_BY: L = L("受理时限", "Accept by");
pub(crate) const CLOSE_BY: L = L("办结时限", "Close by");
pub(crate) const PAPERWORK_DUE: L = L("补充说明时限", "Paperwork due");
pub(crate) const PAYMENTS: L = L("拨付记录", "Payments");
pub(crate) const PAPERWORK_FILED: L = L("已补充说明", "paperwork filed");
pub(crate) const PAPERWORK_MISSING: L = L("待补充说明", "PAPERWORK MISSING");
pub(crate) const APPROVED_BY: L = L("审批人", "approved by");
pub(crate) const PENDING_REQUEST: L = L("待审批申请", "Pending request");
pub(crate) const NOTES: L = L("备注", "Notes");
pub(crate) const OUTCOME_LABEL: L = L("办结结果", "Outcome");
pub(crate) const CLOSED_AT: L = L("结束时间", "Ended");
pub(crate) const ACTIONS: L = L("可用操作", "keys");
pub(crate) const NO_ACTIONS: L = L("只读：无可用操作", "read-only: no actions");
pub(crate) const DETAIL_KEYS: L = L("j/k 滚动  Esc 返回", "j/k scroll  Esc back");
pub(crate) const FORM_KEYS: L =
    L("Tab切换 左右选择 Enter继续 Esc取消", "Tab next  Left/Right pick  Enter next  Esc cancel");
pub(crate) const CONFIRM_KEYS: L = L("Enter确认发送  Esc返回修改", "Enter send  Esc back");
pub(crate) const CONFIRM_TITLE: L = L("请确认", "Confirm");
pub(crate) const SENDING: L = L("正在提交…", "sending...");
pub(crate) const DONE_OK: L = L("已完成", "done");
pub(crate) const REFUSED: L = L("未执行", "refused");
pub(crate) const WARNINGS: L = L("提醒", "warning");
pub(crate) const ROLE_CANNOT: L = L("您的角色不能执行此操作", "your role may not do this");
pub(crate) const NO_CASE_SELECTED: L = L("未选中案件", "no case selected");
pub(crate) const CASE_ENDED_NO_ACTION: L = L("案件已结束，不能再操作", "the case has ended: no more actions");
pub(crate) const NOW_PENDING: L = L("已成为待主管审批的申请（一事一议）", "now a request waiting for a supervisor");
pub(crate) const ID_OK: L = L("身份证号有效", "ID number valid");
pub(crate) const REQUIRED: L = L("必填", "required");
pub(crate) const NO_CHOICES: L = L("无可选项", "nothing to choose from");
pub(crate) const F_STREET: L = L("街道", "Street");
pub(crate) const F_TO_STREET: L = L("转至街道", "To street");
pub(crate) const F_SUMMARY: L = L("情况摘要", "Summary");
pub(crate) const F_NAME: L = L("姓名(可空)", "Name (optional)");
pub(crate) const F_ID_NUMBER: L = L("身份证号(可空)", "ID number (optional)");
pub(crate) const F_SOURCE: L = L("来源", "Source");
pub(crate) const F_URGENCY: L = L("紧急程度", "Urgency");
pub(crate) const F_DEPARTMENT: L = L("部门", "Department");
pub(crate) const F_AMOUNT: L = L("金额(元)", "Amount (yuan)");
pub(crate) const F_NOTE: L = L("备注(可空)", "Note (optional)");
pub(crate) const F_NOTE_TEXT: L = L("备注内容", "Note");
pub(crate) const F_PAPERWORK: L = L("事后补充说明", "Paperwork");
pub(crate) const F_OUTCOME: L = L("办结结果", "Outcome");
pub(crate) const HINT_SUMMARY: L = L("如：突发重病，无力支付医药费", "e.g. sudden illness, cannot pay the hospital");
pub(crate) const HINT_ID: L =
    L("18位，末位可为X；只发给服务端，掩码保存", "18 characters; sent to mzd only, kept masked");
pub(crate) const HINT_DEPARTMENT: L = L("部门编号，如", "department id, e.g.");
pub(crate) const CASE_CAP: L = L("单案上限", "case cap");
pub(crate) const BALANCE: L = L("备用金余额", "fund balance");
pub(crate) const ID_MASKED: L = L("仅保存掩码", "kept masked");
pub(crate) const WILL_BE_REFUSED_PAPERWORK: L = L(
    "注意：尚有待审批申请或拨付缺少补充说明，服务端将拒绝此操作",
    "Note: a request is pending or a payment lacks paperwork; mzd will refuse this",
);
pub(crate) const PAPERWORK_DUE_AFTER: L = L("拨付后须在时限内补充事后说明。", "Paperwork is due afterwards.");
pub(crate) const FUND_SHORT: L =
    L("注意：备用金余额不足，服务端将拒绝", "Note: the fund's balance is too low; mzd will refuse this");
pub(crate) const NOT_ACCEPTED_YET: L = L(
    "注意：案件尚未受理（先按 a 受理），服务端将拒绝",
    "Note: the case is not accepted yet (a); mzd will refuse this",
);
pub(crate) const NO_PENDING: L = L("注意：该案件没有待审批的申请", "Note: the case has no pending request");
pub(crate) const NO_PAPERWORK_MISSING: L = L("注意：没有缺少补充说明的拨付", "Note: no payment lacks paperwork");
pub(crate) const KEY_CASE_DETAIL: L =
    L("案件详情与办理历史（详情中也可按操作键）", "case detail and history (action keys work there too)");
pub(crate) const KEY_TOGGLE_ENDED: L = L("显示/隐藏已结束案件", "show / hide ended cases");

pub(crate) fn case_state(s: mz_shared::case::CaseState, lang: Lang) -> String {
    match lang {
        Lang::Zh => s.zh().to_string(),
        Lang::En => en_word(s.as_str()),
    }
}

pub(crate) fn source(s: mz_shared::case::Source, lang: Lang) -> String {
    match lang {
        Lang::Zh => s.zh().to_string(),
        Lang::En => en_word(s.as_str()),
    }
}

pub(crate) fn urgency(u: mz_shared::case::Urgency, lang: Lang) -> &'static str {
    match (u, lang) {
        (_, Lang::Zh) => u.zh(),
        (mz_shared::case::Urgency::High, Lang::En) => "HIGH",
        (mz_shared::case::Urgency::Normal, Lang::En) => "normal",
    }
}

/// A history entry's action word (`pay_request`, ...) in `lang`.
pub(crate) fn case_action(action: &str, lang: Lang) -> String {
    use mz_shared::case::ActionKind as K;
    let all = [
        K::Open,
        K::Accept,
        K::Dispatch,
        K::Refer,
        K::Pay,
        K::PayRequest,
        K::Approve,
        K::Reject,
        K::Paperwork,
        K::Note,
        K::Close,
        K::Reply,
        K::Reopen,
        K::Event,
    ];
    match (all.into_iter().find(|k| k.as_str() == action), lang) {
        (Some(k), Lang::Zh) => k.zh().to_string(),
        _ => en_word(action),
    }
}

// Station forms (view 2).
pub(crate) const F_STATION: L = L("救助站", "Station");
pub(crate) const F_TIME: L = L("发生时间", "Time");
pub(crate) const F_PERSON_REF: L = L("受助人编号", "Person ref");
pub(crate) const F_GENDER: L = L("性别", "Sex");
pub(crate) const F_AGE: L = L("年龄(可空)", "Age (optional)");
pub(crate) const F_ORIGIN: L = L("户籍地(可空)", "Origin (optional)");
pub(crate) const F_REFERRAL: L = L("来源", "Referral");
pub(crate) const F_FLAGS: L = L("特殊情况", "Flags");
pub(crate) const F_BED: L = L("床位(可空)", "Bed (optional)");
pub(crate) const F_DISCHARGE_REASON: L = L("离站原因", "Discharge reason");
pub(crate) const F_INCIDENT_TYPE: L = L("异常类型", "Incident type");
pub(crate) const HINT_TIME: L = L("YYYY-MM-DD HH:MM，默认当前时间", "YYYY-MM-DD HH:MM, default now");
pub(crate) const HINT_PERSON_REF: L = L("本站的受助人编号，如 TZ-JZZ-00013", "the station's number, e.g. TZ-JZZ-00013");
pub(crate) const HINT_NAME: L = L("不知道可留空或填 无名氏", "leave empty or 无名氏 if unknown");
pub(crate) const HINT_AGE: L = L("0-130；留空则按身份证号推算", "0-130; from the ID number when empty");
pub(crate) const HINT_FLAGS: L = L("左右浏览，空格勾选/取消", "Left/Right browse, Space ticks");
pub(crate) const BAD_TIME: L = L("时间格式应为 YYYY-MM-DD HH:MM", "time: use YYYY-MM-DD HH:MM");
pub(crate) const BAD_AGE: L = L("年龄应为 0-130 的整数", "age: a whole number 0-130");
pub(crate) const PICK_ONE: L = L("请选择（左右键）", "pick one (Left/Right)");
pub(crate) const NAMELESS: L = L("无名氏", "unnamed");
pub(crate) const WILL_BE_OVER_CAPACITY: L =
    L("注意：床位已满，登记后将超员并触发告警", "Note: the station is full; this raises the over-capacity alert");
pub(crate) const INCIDENT_NO_OCCUPANCY: L = L("异常不改变在站人数。", "An incident does not change the occupancy.");
pub(crate) const STORED_AS_FEED_ROW: L = L(
    "经与导入数据相同的校验后存入救助站事件，记录编号由服务端分配。",
    "Stored in the admissions feed after the same checks as a feed row; mzd assigns the record id.",
);
pub(crate) const LOGGED: L = L("已登记", "logged");
pub(crate) const NO_RESIDENT_SELECTED: L =
    L("请先按Enter进入在站人员并选中一人", "press Enter for the residents and select one first");
pub(crate) const NO_STATION_SELECTED: L = L("未选中救助站", "no station selected");

// Station tasks (在站事项).
pub(crate) const TASKS: L = L("在站事项", "Station tasks");
pub(crate) const TASK: L = L("事项", "Task");
pub(crate) const DUE: L = L("到期", "Due");
pub(crate) const TIME_LEFT: L = L("剩余", "Left");
pub(crate) const NO_TASKS: L = L("无待办事项", "no open tasks");
pub(crate) const TASK_DONE_TITLE: L = L("完成事项", "Complete task");
pub(crate) const TASK_DONE_KEYS: L =
    L("输入备注(可空)  Enter确认完成  Esc取消", "type a note (optional)  Enter complete  Esc cancel");
pub(crate) const TASK_COMPLETED: L = L("事项已完成", "task completed");
pub(crate) const PICK_A_TASK: L =
    L("已切换到在站事项：选中一项后按 d 完成", "moved to the station tasks: select one and press d to complete it");
pub(crate) const NO_TASK_SELECTED: L = L("该站没有待办事项", "this station has no open tasks");
pub(crate) const KEY_TASKS: L = L("切换到在站事项列表 / 返回", "move to the station tasks / back");
pub(crate) const KEY_REPORT_PERIOD: L = L("上一期 / 下一期", "previous / next period");
pub(crate) const KEY_REPORT_DAY: L = L("日报", "day report");
pub(crate) const KEY_REPORT_MONTH: L = L("月报", "month report");
pub(crate) const KEY_REPORT_REFRESH: L = L("重新获取报表", "fetch the report again");
pub(crate) const KEY_REPORT_PERIOD_SHORT: L = L("上一期/下一期", "previous/next");
pub(crate) const KEY_REPORT_REFRESH_SHORT: L = L("刷新", "reload");
pub(crate) const KEY_SCROLL_SHORT: L = L("滚动", "scroll");
pub(crate) const KEY_EXPORT_SHORT: L = L("导出CSV", "export CSV");
pub(crate) const KEY_TASK_DONE: L = L("完成选中的事项", "complete the selected task");
pub(crate) const KEY_TASKS_SHORT: L = L("事项", "tasks");
pub(crate) const KEY_TASK_DONE_SHORT: L = L("完成事项", "done");

// Help.
pub(crate) const HELP_TITLE: L = L("按键说明", "Keys");
pub(crate) const HELP_SCROLL: L = L("↑↓ 滚动", "↑↓ scroll");
pub(crate) const KEY_VIEWS: L = L("切换视图", "switch view");
pub(crate) const KEY_TAB: L = L("下一个/上一个视图", "next / previous view");
pub(crate) const KEY_MOVE: L = L("上下移动", "move");
pub(crate) const KEY_PAGE: L = L("翻页 / 首行 / 末行", "page / first / last");
pub(crate) const KEY_ENTER: L = L("打开详情", "open detail");
pub(crate) const KEY_ESC: L = L("返回 / 关闭", "back / close");
pub(crate) const KEY_FILTER: L =
    L("过滤当前列表（输入后Enter，Esc清除）", "filter this list (type, Enter; Esc clears)");
pub(crate) const KEY_HELP: L = L("显示/关闭本说明", "show / hide this help");
pub(crate) const KEY_PAUSE: L = L("暂停/恢复实时刷新", "pause / resume live refresh");
pub(crate) const KEY_EXPORT: L = L("导出当前表格为CSV", "export this table to CSV");
pub(crate) const KEY_QUIT: L = L("退出", "quit");
pub(crate) const KEY_PALETTE: L = L(
    "命令行（如 :cases、:station TZ-JZZ、:quit；Tab补全）",
    "command line (:cases, :station TZ-JZZ, :quit; Tab completes)",
);
pub(crate) const NO_SUCH_STATION: L = L("没有这个救助站", "no such station");
pub(crate) const NO_SUCH_CASE: L = L("没有这个案件", "no such case");
pub(crate) const PALETTE_HINT: L = L("Enter执行 Tab补全 Esc关闭", "Enter run  Tab complete  Esc close");
pub(crate) const KEY_ACK: L = L("确认选中的告警", "acknowledge the selected alert");
pub(crate) const KEY_RESIDENTS: L = L("Enter进入该站在站人员，Esc返回", "Enter: residents of the station, Esc: back");
pub(crate) const KEY_PREVIEW: L = L("Enter查看文件详情与拒收行", "Enter: file detail and rejected rows");

/// English words are the canonical snake_case words with spaces.
fn en_word(s: &str) -> String {
    s.replace('_', " ")
}

pub(crate) fn alert_kind(k: AlertKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub(crate) fn marriage_kind(k: MarriageKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub(crate) fn event_kind(k: EventKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub(crate) fn task_kind(k: mz_shared::task::TaskKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub(crate) fn flag(k: Flag, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub(crate) fn gender(k: Gender, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => k.as_str().chars().take(1).collect::<String>().to_uppercase(),
    }
}

/// An event's detail (incident type or discharge reason, canonical English word) in `lang`.
pub(crate) fn event_detail(event: EventKind, detail: &str, lang: Lang) -> String {
    let zh = match event {
        EventKind::Incident => IncidentType::parse(detail).map(IncidentType::zh),
        EventKind::Discharge => DischargeReason::parse(detail).map(DischargeReason::zh),
        EventKind::Admit => None,
    };
    match (lang, zh) {
        (Lang::Zh, Some(z)) => z.to_string(),
        _ => en_word(detail),
    }
}

pub(crate) fn station_kind(k: Option<StationKind>, lang: Lang) -> &'static str {
    match k {
        Some(StationKind::Station) => L("救助站", "station").t(lang),
        Some(StationKind::Point) => L("临时点", "point").t(lang),
        None => "-",
    }
}

pub(crate) fn site_kind(k: Option<SiteKind>, lang: Lang) -> &'static str {
    match k {
        Some(SiteKind::Public) => L("公益性墓园", "public").t(lang),
        Some(SiteKind::Commercial) => L("经营性公墓", "commercial").t(lang),
        Some(SiteKind::Village) => L("村级埋葬点", "village").t(lang),
        Some(SiteKind::Columbarium) => L("骨灰堂", "columbarium").t(lang),
        None => "-",
    }
}

// The city console (市级总览, SPEC §9).
pub(crate) const CITY_TITLE: L = L("市级总览", "City overview");
pub(crate) const CITY_DISTRICT: L = L("区", "District");
pub(crate) const CITY_BEDS: L = L("床位", "Beds");
pub(crate) const CITY_IN_STATION: L = L("在站", "In");
pub(crate) const CITY_ARRIVALS_TODAY: L = L("今日入站", "Today in");
pub(crate) const CITY_CASES: L = L("案件", "Cases");
pub(crate) const CITY_TASKS_OVERDUE: L = L("超期事项", "Late tasks");
pub(crate) const CITY_ALERTS: L = L("告警", "Alerts");
pub(crate) const CITY_SEQ: L = L("序号", "Seq");
pub(crate) const CITY_LAST_EVENT: L = L("最后事件", "Last event");
pub(crate) const CITY_STATE: L = L("状态", "State");
pub(crate) const CITY_OK: L = L("正常", "ok");
pub(crate) const CITY_STALE: L = L("停止发布", "stale");
pub(crate) const CITY_NEVER: L = L("未收到", "nothing yet");
pub(crate) const CITY_KEYS: L = L("↑↓ 选择  Enter 明细  Esc 返回  q 退出", "↑↓ select  Enter detail  Esc back  q quit");
pub(crate) const CITY_STATIONS: L = L("救助站", "Stations");
pub(crate) const CITY_SITES: L = L("墓园", "Burial sites");
pub(crate) const CITY_OFFICES: L = L("婚姻登记机关（今日登记）", "Marriage offices (registrations today)");
pub(crate) const CITY_STREETS: L = L("救急难案件（按街道）", "Cases by street");
pub(crate) const CITY_CAPACITY: L = L("总穴位", "Capacity");
pub(crate) const CITY_OCCUPIED: L = L("已用", "Occupied");
pub(crate) const CITY_OPEN: L = L("未结", "Open");
pub(crate) const CITY_PAID: L = L("已支付(元)", "Paid (yuan)");
pub(crate) const CITY_TOTAL: L = L("合计", "Total");
pub(crate) const CITY_REGISTRATIONS_TODAY: L = L("今日登记", "Today");
pub(crate) const CITY_CROSS_ALERTS: L = L("跨区告警", "Cross-district alerts");
pub(crate) const CITY_NO_ALERTS: L = L("无跨区告警", "no cross-district alerts");
pub(crate) const CITY_ALERT_ACTIVE: L = L("未确认", "active");
pub(crate) const CITY_ALERT_ACKED: L = L("已确认", "acked");

/// The name of a city alert kind.
pub fn city_alert_kind(kind: mz_shared::cross_district::CityAlertKind, lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => kind.zh(),
        Lang::En => match kind {
            mz_shared::cross_district::CityAlertKind::CrossDistrictBigamy => "bigamy risk",
            mz_shared::cross_district::CityAlertKind::CrossDistrictDuplicateAid => "duplicate aid",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_have_both_languages() {
        assert_eq!(alert_kind(AlertKind::BigamyRisk, Lang::Zh), "重婚风险");
        assert_eq!(alert_kind(AlertKind::BigamyRisk, Lang::En), "bigamy risk");
        assert_eq!(event_detail(EventKind::Incident, "severe_illness", Lang::Zh), "重病");
        assert_eq!(event_detail(EventKind::Discharge, "home", Lang::En), "home");
        assert_eq!(outcome("quarantined", Lang::Zh), "已隔离");
        assert_eq!(feed("burials", Lang::Zh), "殡葬点位统计");
    }
}
