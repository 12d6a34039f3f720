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
    pub fn t(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.0,
            Lang::En => self.1,
        }
    }
}

// Views.
pub const VIEW_OVERVIEW: L = L("总览", "Overview");
pub const VIEW_STATIONS: L = L("救助站", "Stations");
pub const VIEW_BURIALS: L = L("殡葬", "Burials");
pub const VIEW_MARRIAGES: L = L("婚姻", "Marriages");
pub const VIEW_ALERTS: L = L("告警", "Alerts");
pub const VIEW_INGEST: L = L("导入", "Ingest");
pub const VIEW_CASES: L = L("救急难", "Cases");
pub const VIEW_FUNDS: L = L("备用金", "Funds");
pub const VIEW_REPORT: L = L("报表", "Report");
pub const ECO_DISTRICT: L = L("全区节地生态安葬率", "district eco-burial share");

// Reserve funds.
pub const VIEW_FUNDS_TITLE: L = L("临时救助备用金（各街道）", "Reserve funds by street");
pub const FUND_NAME: L = L("名称", "Name");
pub const FUND_INITIAL: L = L("核定额度", "Allotted");
pub const FUND_PAID: L = L("已支付", "Paid");
pub const FUND_PENDING: L = L("待审批", "Pending");
pub const FUND_BALANCE: L = L("余额", "Balance");
pub const FUND_OPEN_CASES: L = L("在办案件", "Open cases");
pub const NO_FUNDS: L = L("登记册中没有街道", "no streets in the registry");

// Connection and status bar.
pub const CONNECTING: L = L("正在连接…", "connecting...");
pub const CONNECTED: L = L("已连接", "connected");
pub const DISCONNECTED_BANNER: L = L("连接中断，正在重连…", "disconnected, reconnecting...");
pub const DISCONNECTED: L = L("未连接", "disconnected");
pub const PAUSED: L = L("已暂停", "paused");
pub const UPDATES_HELD: L = L("条更新待显示", "held");
pub const USER: L = L("用户", "user");
pub const NO_DATA: L = L("等待数据…", "waiting for data...");
pub const ATTEMPT: L = L("第几次重连", "attempt");
pub const HELP_HINT: L = L("?帮助 q退出", "? help  q quit");
pub const TOO_SMALL: L = L("终端窗口太小", "terminal too small");
pub const NEED: L = L("至少需要", "needs at least");
pub const NOW: L = L("当前", "now");
pub const EXPORTED: L = L("已导出", "exported");
pub const EXPORT_FAILED: L = L("导出失败", "export failed");
pub const ACKING: L = L("正在确认告警…", "acknowledging alert...");
pub const ACKED: L = L("告警已确认", "alert acknowledged");
pub const ACK_FAILED: L = L("确认失败", "acknowledge failed");
pub const ACK_ALREADY: L = L("该告警已确认", "alert already acknowledged");
pub const NOTHING_SELECTED: L = L("未选中任何行", "nothing selected");
pub const FILTER: L = L("过滤", "filter");
pub const FILTER_HINT: L = L("Enter确定 Esc清除", "Enter apply  Esc clear");
pub const ROWS: L = L("行", "rows");
/// The demo marker; the speed matches `demo::CLOCK_SPEED`.
pub const DEMO: L = L("演示：时间加速 ×60", "demo: clock ×60");

// Roles.
pub fn role(role: Role, lang: Lang) -> &'static str {
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
pub const STATIONS_BEDS: L = L("救助站床位", "Station beds, in/out today");
pub const CEMETERIES: L = L("墓位容量", "Cemetery capacity");
pub const REGISTRATIONS_TODAY: L = L("今日婚姻登记", "Registrations today");
pub const LAST_7_DAYS: L = L("近7日", "last 7 days");
pub const ACTIVE_ALERTS: L = L("待处理告警", "Active alerts");
pub const INGEST_HEALTH: L = L("导入状况", "Ingest health");
pub const URGENT_CASES: L = L("最紧急的在办个案", "Most urgent open cases");
pub const LATEST_ALERTS: L = L("最新告警", "Latest alerts");
pub const ARRIVALS_BY_HOUR: L = L("每小时入站：今日对比昨日", "Arrivals per hour: today vs yesterday");
pub const HOURS_TODAY: L = L("今日", "today");
pub const HOURS_YESTERDAY: L = L("昨日", "yday");
pub const ADMITS_TODAY_ALL: L = L("今日各站入站合计", "arrivals today, all stations:");
pub const ARRIVALS_BASIS: L = L("按小时据在站人员与最近事件统计", "hourly: from residents and latest events");
pub const LAST_FILE: L = L("最近文件", "last file");
pub const NO_FILES: L = L("尚无文件", "no files yet");
pub const REJECTED_TODAY: L = L("今日拒收行", "rows rejected today");
pub const FILES_TOTAL: L = L("文件 导入/隔离/重复", "files in/quar./dup.");
pub const HEALTHY: L = L("运行正常", "healthy");
pub const UNHEALTHY: L = L("运行异常", "UNHEALTHY");
pub const ATTENTION: L = L("运行正常，需处理", "healthy, needs attention");
pub const SITES: L = L("墓园数", "sites");
pub const CAPACITY: L = L("总穴位", "capacity");
pub const CAP_SHORT: L = L("总穴位", "Cap.");
pub const OCC_SHORT: L = L("已用", "Used");
pub const OCCUPIED: L = L("已用", "occupied");
pub const NEARLY_FULL: L = L("将满(>=90%)", "nearly full (>=90%)");
pub const GROWTH_VIOLATIONS: L = L("零增长违规", "zero-growth breaches");
pub const SOONEST_FULL: L = L("最早用满", "soonest full");
pub const MONTHS: L = L("个月", "months");
pub const FULL_RATE_UNKNOWN: L = L("已用，增速未知", "full, rate unknown");
pub const NONE: L = L("无", "none");
pub const TOTAL: L = L("合计", "total");
pub const CASES_OPEN: L = L("在办个案", "open cases");
pub const CASES_OVERDUE: L = L("超时", "overdue");

// Stations.
pub const STATION: L = L("救助站", "Station");
pub const KIND: L = L("类型", "Kind");
pub const BEDS: L = L("床位", "Beds");
pub const ADMITS_TODAY: L = L("今日入站", "In");
pub const DISCHARGES_TODAY: L = L("今日离站", "Out");
pub const INCIDENTS_TODAY: L = L("今日异常", "Inc. today");
pub const LONG_STAYS: L = L("长期滞留", "Long");
pub const OPEN_INCIDENTS: L = L("异常", "Inc.");
pub const RESIDENTS: L = L("在站人员", "Residents");
pub const RECENT_EVENTS: L = L("最近事件", "Recent events");
pub const PERSON: L = L("编号", "Ref");
pub const NAME: L = L("姓名", "Name");
pub const GENDER: L = L("性别", "Sex");
pub const AGE: L = L("年龄", "Age");
pub const BED: L = L("床位", "Bed");
pub const DAYS: L = L("在站天数", "Days");
pub const MARKS: L = L("标记", "Flags");
pub const LONG_STAY_MARK: L = L("长期滞留", "LONG STAY");
pub const UNIDENTIFIED: L = L("身份不明", "unidentified");
pub const INCIDENT_MARK: L = L("异常", "incident");
pub const TIME: L = L("时间", "Time");
pub const EVENT: L = L("事件", "Event");
pub const DETAIL: L = L("详情", "Detail");
pub const RECORD: L = L("记录编号", "Record");
pub const ADMITTED_AT: L = L("入站时间", "Admitted");
pub const ENTER_RESIDENTS: L = L("Enter查看在站人员", "Enter: residents");
pub const NO_RESIDENTS: L = L("无在站人员", "no residents");
pub const NO_EVENTS: L = L("无事件", "no events");

// Burials.
pub const SITE: L = L("墓园", "Site");
pub const TOWN: L = L("乡镇", "Town");
pub const FILL: L = L("占用", "Fill");
pub const ECO: L = L("生态", "Eco");
pub const TO_FULL: L = L("剩余月", "Mo. left");
pub const STATE: L = L("状态", "State");
pub const NEARLY_FULL_MARK: L = L("将满", "near full");
pub const VIOLATION_MARK: L = L("扩容违规", "grew: breach");
pub const REPORTED_ON: L = L("统计日期", "Reported on");
pub const HISTORY: L = L("历史", "History");
pub const NOT_REPORTED: L = L("未上报", "no report");

// Marriages.
pub const OFFICE: L = L("登记机关", "Office");
pub const REG_KIND: L = L("登记类型", "Kind");
pub const TODAY: L = L("今日", "Today");
pub const DAYS_7: L = L("近7日", "7 days");
pub const DAYS_30: L = L("近30日", "30 days");
pub const CROSS_DISTRICT: L = L("跨区比例", "cross-district");
pub const COUNSELLING: L = L("辅导率", "counselling");
pub const CHART_30: L = L("近30日登记量（全区）", "Registrations, 30 days (all offices)");
pub const COOLING_OFF: L = L("离婚冷静期", "Cooling-off");
pub const APPLIED_AT: L = L("申请时间", "Applied");
pub const DAYS_LEFT: L = L("剩余天数", "Days left");
pub const PEAK: L = L("最高", "peak");
pub const NO_COOLING: L = L("无冷静期中的申请", "no applications in cooling-off");
pub const DIVORCE_QUEUE: L = L("离婚冷静期/申领期", "Divorce applications");
pub const DAYS_LEFT_SHORT: L = L("剩余", "Left");
pub const WINDOW: L = L("阶段", "Window");
pub const WINDOW_COOLING: L = L("冷静期", "cooling-off");
pub const WINDOW_REGISTER: L = L("申领期", "to register");
pub const LAPSED: L = L("视为撤回申请", "lapsed");

// Alerts.
pub const ALERT_ACTIVE: L = L("待处理", "ACTIVE");
pub const ALERT_ACKED: L = L("已确认", "acked");
pub const ALERT_KIND: L = L("告警类型", "Kind");
pub const SUBJECT: L = L("对象", "Subject");
pub const RAISED_AT: L = L("发生时间", "Raised");
pub const MESSAGE: L = L("内容", "Message");
pub const ACKED_BY: L = L("确认人", "Acked by");
pub const NO_ALERTS: L = L("无告警", "no alerts");

// Ingest.
pub const FILE: L = L("文件", "File");
pub const FEED: L = L("数据类", "Feed");
pub const OUTCOME: L = L("结果", "Outcome");
pub const STORED: L = L("入库", "Stored");
pub const CORRECTED: L = L("更正", "Corr.");
pub const DUPLICATE: L = L("重复", "Dup.");
pub const REJECTED: L = L("拒收", "Rej.");
pub const NOTE: L = L("说明", "Note");
pub const DEST: L = L("去向", "Moved to");
pub const REJECTS_PREVIEW: L = L("拒收行预览（前20行）", "Rejected rows (first 20 lines)");
pub const PREVIEW_UNAVAILABLE: L = L("无法读取拒收文件", "cannot read the rejects file");
pub const LOADING: L = L("读取中…", "loading...");

pub fn outcome(outcome: &str, lang: Lang) -> String {
    let l = match outcome {
        "ingested" => L("已导入", "ingested"),
        "quarantined" => L("已隔离", "QUARANTINED"),
        "duplicate" => L("重复文件", "duplicate"),
        other => return other.to_string(),
    };
    l.t(lang).to_string()
}

pub fn feed(feed: &str, lang: Lang) -> String {
    match (feed.parse::<mz_shared::feed::Feed>(), lang) {
        (Ok(f), Lang::Zh) => f.zh().to_string(),
        _ => feed.to_string(),
    }
}

// Case desk (view 7).
pub const CASE_ID: L = L("编号", "Case");
pub const STREET: L = L("街道", "Street");
pub const URGENCY: L = L("紧急", "Urg.");
pub const SUMMARY: L = L("摘要", "Summary");
pub const DEADLINE: L = L("时限", "Deadline");
pub const PAID: L = L("已拨付", "Paid");
pub const OVERDUE_MARK: L = L("[超时]", "[OVERDUE]");
pub const PENDING_MARK: L = L("/待批", "/req.");
pub const LEFT: L = L("剩", "in");
pub const NO_CASES: L = L("无在办案件", "no open cases");
pub const CASES_ALL: L = L("含已结束", "with ended");
pub const CASES_ENDED: L = L("已结束", "ended");
pub const CASE_DETAIL: L = L("案件详情", "Case");
pub const SOURCE: L = L("来源", "Source");
pub const OPENED: L = L("登记", "Opened");
pub const ACCEPTED_AT: L = L("受理时间", "Accepted");
pub const DEPARTMENTS: L = L("分办部门", "Departments");
pub const REFERRED_TO: L = L("转办至", "Referred to");
pub const ID_NUMBER: L = L("身份证号", "ID number");
pub const STATION_OF: L = L("救助站", "Station");
pub const ACCEPT_BY: L = L("受理时限", "Accept by");
pub const CLOSE_BY: L = L("办结时限", "Close by");
pub const PAPERWORK_DUE: L = L("补充说明时限", "Paperwork due");
pub const PAYMENTS: L = L("拨付记录", "Payments");
pub const PAPERWORK_FILED: L = L("已补充说明", "paperwork filed");
pub const PAPERWORK_MISSING: L = L("待补充说明", "PAPERWORK MISSING");
pub const APPROVED_BY: L = L("审批人", "approved by");
pub const PENDING_REQUEST: L = L("待审批申请", "Pending request");
pub const NOTES: L = L("备注", "Notes");
pub const OUTCOME_LABEL: L = L("办结结果", "Outcome");
pub const CLOSED_AT: L = L("结束时间", "Ended");
pub const ACTIONS: L = L("可用操作", "keys");
pub const NO_ACTIONS: L = L("只读：无可用操作", "read-only: no actions");
pub const DETAIL_KEYS: L = L("j/k 滚动  Esc 返回", "j/k scroll  Esc back");
pub const FORM_KEYS: L = L("Tab切换 左右选择 Enter继续 Esc取消", "Tab next  Left/Right pick  Enter next  Esc cancel");
pub const CONFIRM_KEYS: L = L("Enter确认发送  Esc返回修改", "Enter send  Esc back");
pub const CONFIRM_TITLE: L = L("请确认", "Confirm");
pub const SENDING: L = L("正在提交…", "sending...");
pub const DONE_OK: L = L("已完成", "done");
pub const REFUSED: L = L("未执行", "refused");
pub const WARNINGS: L = L("提醒", "warning");
pub const ROLE_CANNOT: L = L("您的角色不能执行此操作", "your role may not do this");
pub const NO_CASE_SELECTED: L = L("未选中案件", "no case selected");
pub const CASE_ENDED_NO_ACTION: L = L("案件已结束，不能再操作", "the case has ended: no more actions");
pub const NOW_PENDING: L = L("已成为待主管审批的申请（一事一议）", "now a request waiting for a supervisor");
pub const ID_OK: L = L("身份证号有效", "ID number valid");
pub const REQUIRED: L = L("必填", "required");
pub const NO_CHOICES: L = L("无可选项", "nothing to choose from");
pub const F_STREET: L = L("街道", "Street");
pub const F_TO_STREET: L = L("转至街道", "To street");
pub const F_SUMMARY: L = L("情况摘要", "Summary");
pub const F_NAME: L = L("姓名(可空)", "Name (optional)");
pub const F_ID_NUMBER: L = L("身份证号(可空)", "ID number (optional)");
pub const F_SOURCE: L = L("来源", "Source");
pub const F_URGENCY: L = L("紧急程度", "Urgency");
pub const F_DEPARTMENT: L = L("部门", "Department");
pub const F_AMOUNT: L = L("金额(元)", "Amount (yuan)");
pub const F_NOTE: L = L("备注(可空)", "Note (optional)");
pub const F_NOTE_TEXT: L = L("备注内容", "Note");
pub const F_PAPERWORK: L = L("事后补充说明", "Paperwork");
pub const F_OUTCOME: L = L("办结结果", "Outcome");
pub const HINT_SUMMARY: L = L("如：突发重病，无力支付医药费", "e.g. sudden illness, cannot pay the hospital");
pub const HINT_ID: L = L("18位，末位可为X；只发给服务端，掩码保存", "18 characters; sent to mzd only, kept masked");
pub const HINT_DEPARTMENT: L = L("部门编号，如", "department id, e.g.");
pub const CASE_CAP: L = L("单案上限", "case cap");
pub const BALANCE: L = L("备用金余额", "fund balance");
pub const ID_MASKED: L = L("仅保存掩码", "kept masked");
pub const WILL_BE_REFUSED_PAPERWORK: L = L(
    "注意：尚有待审批申请或拨付缺少补充说明，服务端将拒绝此操作",
    "Note: a request is pending or a payment lacks paperwork; mzd will refuse this",
);
pub const PAPERWORK_DUE_AFTER: L = L("拨付后须在时限内补充事后说明。", "Paperwork is due afterwards.");
pub const FUND_SHORT: L =
    L("注意：备用金余额不足，服务端将拒绝", "Note: the fund's balance is too low; mzd will refuse this");
pub const NOT_ACCEPTED_YET: L = L(
    "注意：案件尚未受理（先按 a 受理），服务端将拒绝",
    "Note: the case is not accepted yet (a); mzd will refuse this",
);
pub const NO_PENDING: L = L("注意：该案件没有待审批的申请", "Note: the case has no pending request");
pub const NO_PAPERWORK_MISSING: L = L("注意：没有缺少补充说明的拨付", "Note: no payment lacks paperwork");
pub const KEY_CASE_DETAIL: L =
    L("案件详情与办理历史（详情中也可按操作键）", "case detail and history (action keys work there too)");
pub const KEY_TOGGLE_ENDED: L = L("显示/隐藏已结束案件", "show / hide ended cases");

pub fn case_state(s: mz_shared::case::CaseState, lang: Lang) -> String {
    match lang {
        Lang::Zh => s.zh().to_string(),
        Lang::En => en_word(s.as_str()),
    }
}

pub fn source(s: mz_shared::case::Source, lang: Lang) -> String {
    match lang {
        Lang::Zh => s.zh().to_string(),
        Lang::En => en_word(s.as_str()),
    }
}

pub fn urgency(u: mz_shared::case::Urgency, lang: Lang) -> &'static str {
    match (u, lang) {
        (_, Lang::Zh) => u.zh(),
        (mz_shared::case::Urgency::High, Lang::En) => "HIGH",
        (mz_shared::case::Urgency::Normal, Lang::En) => "normal",
    }
}

/// A history entry's action word (`pay_request`, ...) in `lang`.
pub fn case_action(action: &str, lang: Lang) -> String {
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
pub const F_STATION: L = L("救助站", "Station");
pub const F_TIME: L = L("发生时间", "Time");
pub const F_PERSON_REF: L = L("受助人编号", "Person ref");
pub const F_GENDER: L = L("性别", "Sex");
pub const F_AGE: L = L("年龄(可空)", "Age (optional)");
pub const F_ORIGIN: L = L("户籍地(可空)", "Origin (optional)");
pub const F_REFERRAL: L = L("来源", "Referral");
pub const F_FLAGS: L = L("特殊情况", "Flags");
pub const F_BED: L = L("床位(可空)", "Bed (optional)");
pub const F_DISCHARGE_REASON: L = L("离站原因", "Discharge reason");
pub const F_INCIDENT_TYPE: L = L("异常类型", "Incident type");
pub const HINT_TIME: L = L("YYYY-MM-DD HH:MM，默认当前时间", "YYYY-MM-DD HH:MM, default now");
pub const HINT_PERSON_REF: L = L("本站的受助人编号，如 TZ-JZZ-00013", "the station's number, e.g. TZ-JZZ-00013");
pub const HINT_NAME: L = L("不知道可留空或填 无名氏", "leave empty or 无名氏 if unknown");
pub const HINT_AGE: L = L("0-130；留空则按身份证号推算", "0-130; from the ID number when empty");
pub const HINT_FLAGS: L = L("左右浏览，空格勾选/取消", "Left/Right browse, Space ticks");
pub const BAD_TIME: L = L("时间格式应为 YYYY-MM-DD HH:MM", "time: use YYYY-MM-DD HH:MM");
pub const BAD_AGE: L = L("年龄应为 0-130 的整数", "age: a whole number 0-130");
pub const PICK_ONE: L = L("请选择（左右键）", "pick one (Left/Right)");
pub const NAMELESS: L = L("无名氏", "unnamed");
pub const WILL_BE_OVER_CAPACITY: L =
    L("注意：床位已满，登记后将超员并触发告警", "Note: the station is full; this raises the over-capacity alert");
pub const INCIDENT_NO_OCCUPANCY: L = L("异常不改变在站人数。", "An incident does not change the occupancy.");
pub const STORED_AS_FEED_ROW: L = L(
    "经与导入数据相同的校验后存入救助站事件，记录编号由服务端分配。",
    "Stored in the admissions feed after the same checks as a feed row; mzd assigns the record id.",
);
pub const LOGGED: L = L("已登记", "logged");
pub const NO_RESIDENT_SELECTED: L =
    L("请先按Enter进入在站人员并选中一人", "press Enter for the residents and select one first");
pub const NO_STATION_SELECTED: L = L("未选中救助站", "no station selected");

// Station tasks (在站事项).
pub const TASKS: L = L("在站事项", "Station tasks");
pub const TASK: L = L("事项", "Task");
pub const DUE: L = L("到期", "Due");
pub const TIME_LEFT: L = L("剩余", "Left");
pub const NO_TASKS: L = L("无待办事项", "no open tasks");
pub const TASK_DONE_TITLE: L = L("完成事项", "Complete task");
pub const TASK_DONE_KEYS: L =
    L("输入备注(可空)  Enter确认完成  Esc取消", "type a note (optional)  Enter complete  Esc cancel");
pub const TASK_COMPLETED: L = L("事项已完成", "task completed");
pub const PICK_A_TASK: L =
    L("已切换到在站事项：选中一项后按 d 完成", "moved to the station tasks: select one and press d to complete it");
pub const NO_TASK_SELECTED: L = L("该站没有待办事项", "this station has no open tasks");
pub const KEY_TASKS: L = L("切换到在站事项列表 / 返回", "move to the station tasks / back");
pub const KEY_REPORT_PERIOD: L = L("上一期 / 下一期", "previous / next period");
pub const KEY_REPORT_DAY: L = L("日报", "day report");
pub const KEY_REPORT_MONTH: L = L("月报", "month report");
pub const KEY_REPORT_REFRESH: L = L("重新获取报表", "fetch the report again");
pub const KEY_TASK_DONE: L = L("完成选中的事项", "complete the selected task");
pub const KEY_TASKS_SHORT: L = L("事项", "tasks");
pub const KEY_TASK_DONE_SHORT: L = L("完成事项", "done");

// Help.
pub const HELP_TITLE: L = L("按键说明", "Keys");
pub const KEY_VIEWS: L = L("切换视图", "switch view");
pub const KEY_TAB: L = L("下一个/上一个视图", "next / previous view");
pub const KEY_MOVE: L = L("上下移动", "move");
pub const KEY_PAGE: L = L("翻页 / 首行 / 末行", "page / first / last");
pub const KEY_ENTER: L = L("打开详情", "open detail");
pub const KEY_ESC: L = L("返回 / 关闭", "back / close");
pub const KEY_FILTER: L = L("过滤当前列表（输入后Enter，Esc清除）", "filter this list (type, Enter; Esc clears)");
pub const KEY_HELP: L = L("显示/关闭本说明", "show / hide this help");
pub const KEY_PAUSE: L = L("暂停/恢复实时刷新", "pause / resume live refresh");
pub const KEY_EXPORT: L = L("导出当前表格为CSV", "export this table to CSV");
pub const KEY_QUIT: L = L("退出", "quit");
pub const KEY_PALETTE: L = L(
    "命令行（如 :cases、:station TZ-JZZ、:quit；Tab补全）",
    "command line (:cases, :station TZ-JZZ, :quit; Tab completes)",
);
pub const NO_SUCH_STATION: L = L("没有这个救助站", "no such station");
pub const NO_SUCH_CASE: L = L("没有这个案件", "no such case");
pub const PALETTE_HINT: L = L("Enter执行 Tab补全 Esc关闭", "Enter run  Tab complete  Esc close");
pub const KEY_ACK: L = L("确认选中的告警", "acknowledge the selected alert");
pub const KEY_RESIDENTS: L = L("Enter进入该站在站人员，Esc返回", "Enter: residents of the station, Esc: back");
pub const KEY_PREVIEW: L = L("Enter查看文件详情与拒收行", "Enter: file detail and rejected rows");

/// English words are the canonical snake_case words with spaces.
fn en_word(s: &str) -> String {
    s.replace('_', " ")
}

pub fn alert_kind(k: AlertKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub fn marriage_kind(k: MarriageKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub fn event_kind(k: EventKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub fn task_kind(k: mz_shared::task::TaskKind, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub fn flag(k: Flag, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => en_word(k.as_str()),
    }
}

pub fn gender(k: Gender, lang: Lang) -> String {
    match lang {
        Lang::Zh => k.zh().to_string(),
        Lang::En => k.as_str().chars().take(1).collect::<String>().to_uppercase(),
    }
}

/// An event's detail (incident type or discharge reason, canonical English word) in `lang`.
pub fn event_detail(event: EventKind, detail: &str, lang: Lang) -> String {
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

pub fn station_kind(k: Option<StationKind>, lang: Lang) -> &'static str {
    match k {
        Some(StationKind::Station) => L("救助站", "station").t(lang),
        Some(StationKind::Point) => L("临时点", "point").t(lang),
        None => "-",
    }
}

pub fn site_kind(k: Option<SiteKind>, lang: Lang) -> &'static str {
    match k {
        Some(SiteKind::Public) => L("公益性墓园", "public").t(lang),
        Some(SiteKind::Commercial) => L("经营性公墓", "commercial").t(lang),
        Some(SiteKind::Village) => L("村级埋葬点", "village").t(lang),
        Some(SiteKind::Columbarium) => L("骨灰堂", "columbarium").t(lang),
        None => "-",
    }
}

// The city console (市级总览, SPEC §9).
pub const CITY_TITLE: L = L("市级总览", "City overview");
pub const CITY_DISTRICT: L = L("区", "District");
pub const CITY_BEDS: L = L("床位", "Beds");
pub const CITY_IN_STATION: L = L("在站", "In");
pub const CITY_ARRIVALS_TODAY: L = L("今日入站", "Today in");
pub const CITY_CASES: L = L("案件", "Cases");
pub const CITY_TASKS_OVERDUE: L = L("超期事项", "Late tasks");
pub const CITY_ALERTS: L = L("告警", "Alerts");
pub const CITY_SEQ: L = L("序号", "Seq");
pub const CITY_LAST_EVENT: L = L("最后事件", "Last event");
pub const CITY_STATE: L = L("状态", "State");
pub const CITY_OK: L = L("正常", "ok");
pub const CITY_STALE: L = L("停止发布", "stale");
pub const CITY_NEVER: L = L("未收到", "nothing yet");
pub const CITY_KEYS: L = L("↑↓ 选择  Enter 明细  Esc 返回  q 退出", "↑↓ select  Enter detail  Esc back  q quit");
pub const CITY_STATIONS: L = L("救助站", "Stations");
pub const CITY_SITES: L = L("墓园", "Burial sites");
pub const CITY_OFFICES: L = L("婚姻登记机关（今日登记）", "Marriage offices (registrations today)");
pub const CITY_STREETS: L = L("救急难案件（按街道）", "Cases by street");
pub const CITY_CAPACITY: L = L("总穴位", "Capacity");
pub const CITY_OCCUPIED: L = L("已用", "Occupied");
pub const CITY_OPEN: L = L("未结", "Open");
pub const CITY_PAID: L = L("已支付(元)", "Paid (yuan)");
pub const CITY_TOTAL: L = L("合计", "Total");
pub const CITY_REGISTRATIONS_TODAY: L = L("今日登记", "Today");
pub const CITY_CROSS_ALERTS: L = L("跨区告警", "Cross-district alerts");
pub const CITY_NO_ALERTS: L = L("无跨区告警", "no cross-district alerts");
pub const CITY_ALERT_ACTIVE: L = L("未确认", "active");
pub const CITY_ALERT_ACKED: L = L("已确认", "acked");

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
