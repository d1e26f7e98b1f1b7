//! The domain vocabulary: channels, forms, levels, sources, categories and lifecycle steps,
//! each with its code (stored in documents and typed on the command line), its Chinese label
//! (shown by default) and its English label.

use crate::Error;
use crate::kit::schema::{Label, Vocab, Vocabulary};

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident => $code:literal, $zh:literal, $en:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn zh(self) -> &'static str { match self { $($name::$variant => $zh),+ } }
            pub fn en(self) -> &'static str { match self { $($name::$variant => $en),+ } }
            pub const VOCAB: Vocab = Vocab { name: $field, codes: &[$($code),+] };
            pub fn parse(code: &str) -> Result<Self, Error> {
                match code {
                    $($code => Ok($name::$variant),)+
                    _ => Err(Error::InvalidValue {
                        field: $field.into(),
                        value: code.into(),
                        reason: format!("expected one of {}", [$($code),+].join(", ")),
                    }),
                }
            }
        }

        impl Label for $name {
            fn zh(self) -> &'static str { $name::zh(self) }
            fn en(self) -> &'static str { $name::en(self) }
        }

        impl Vocabulary for $name {
            const VOCAB: Vocab = $name::VOCAB;
            fn code(self) -> &'static str { $name::code(self) }
            fn from_code(code: &str) -> Option<Self> { $name::parse(code).ok() }
            fn all() -> &'static [Self] { $name::ALL }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        /// Written as its code, as in documents.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let code = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(&code).map_err(serde::de::Error::custom)
            }
        }
    };
}

vocabulary!(
    /// How the petition reached the office 渠道.
    Channel, "channel" {
    Visit => "visit", "来访", "visit";
    Letter => "letter", "来信", "letter";
    Phone => "phone", "来电", "phone";
    Sms => "sms", "短信", "SMS";
    Online => "online", "网上信访", "online";
    Mobile => "mobile", "手机/微信", "mobile / WeChat";
    Mailbox => "mailbox", "领导信箱", "leader mailbox";
    Video => "video", "视频接访", "video";
    Hotline => "hotline", "热线", "hotline";
});

vocabulary!(
    /// Individual or collective (five or more people) 个访/集访.
    Form, "form" {
    Individual => "individual", "个访", "individual";
    Collective => "collective", "集访", "collective";
});

vocabulary!(
    /// Where the petition was lodged 去向层级.
    Level, "level" {
    Capital => "capital", "赴京", "national capital";
    Province => "province", "赴省", "province";
    Prefecture => "prefecture", "到地市", "prefecture";
    County => "county", "来市", "this city/county";
    Township => "township", "乡镇", "township";
});

vocabulary!(
    /// Where the matter came from 来源.
    Source, "source" {
    Local => "local", "自登", "registered here";
    National => "national", "国家信访局交办", "assigned by the national bureau";
    Provincial => "provincial", "省信访局交办", "assigned by the provincial bureau";
    PrefectureBureau => "prefecture", "市信访局交办", "assigned by the prefecture bureau";
    Inspection => "inspection", "巡视组移交", "transferred by an inspection team";
    Campaign => "campaign", "专项活动", "campaign";
});

vocabulary!(
    /// The problem category 问题类别 (the default list; the admin may extend it later).
    Category, "category" {
    Land => "land", "征地补偿", "land requisition";
    Demolition => "demolition", "城建拆迁", "urban demolition";
    Housing => "housing", "问题楼盘", "problem housing";
    Wages => "wages", "劳资纠纷/欠薪", "wages and labour";
    Restructuring => "restructuring", "企业改制", "enterprise restructuring";
    Resettlement => "resettlement", "库区移民", "reservoir resettlement";
    Veterans => "veterans", "涉军", "veterans' matters";
    Environment => "environment", "环境污染", "environmental pollution";
    SocialSecurity => "social_security", "社保", "social security";
    Law => "law", "涉法涉诉", "law and litigation";
    Other => "other", "其他", "other";
});

vocabulary!(
    /// A lifecycle step recorded on a case (the rules over them come with the workflow).
    StepKind, "step" {
    Registered => "registered", "登记", "registered";
    Forwarded => "forwarded", "转送", "forwarded";
    Assigned => "assigned", "交办", "assigned";
    Notified => "notified", "告知", "receipt notified";
    NotAccepted => "not_accepted", "不予受理", "not accepted";
    NotReaccepted => "not_reaccepted", "不再受理", "not accepted again";
    Handling => "handling", "办理", "handling";
    Extended => "extended", "延期", "extended";
    Concluded => "concluded", "办结/答复", "concluded";
    Evaluated => "evaluated", "评价", "evaluated";
    Review => "review", "复查", "review";
    ReReview => "re_review", "复核", "re-review";
});

vocabulary!(
    /// How a matter was concluded (办结/答复 and the conclusions of review and re-review).
    Outcome, "outcome" {
    Upheld => "upheld", "支持", "upheld";
    Explained => "explained", "解释说明", "explained";
    NotUpheld => "not_upheld", "不予支持", "not upheld";
    Agreement => "agreement", "达成调解/和解协议", "mediation or settlement agreement";
});

vocabulary!(
    /// The petitioner's evaluation 评价, for the petition office and the responsible unit
    /// separately.
    Satisfaction, "satisfaction" {
    Satisfied => "satisfied", "满意", "satisfied";
    BasicallySatisfied => "basically_satisfied", "基本满意", "basically satisfied";
    Unsatisfied => "unsatisfied", "不满意", "unsatisfied";
});

vocabulary!(
    /// How a seven-evenings plan ended.
    EveningOutcome, "evening_outcome" {
    Resolved => "resolved", "事心双解/停访息诉", "resolved";
    Continue => "continue", "转其他措施继续化解", "continue with another measure";
});

vocabulary!(
    /// The tasks of a leader's case package 包案.
    PackageTask, "task" {
    Investigate => "investigate", "包调研", "investigate";
    Mediate => "mediate", "包调处", "mediate";
    Deliver => "deliver", "包兑现", "deliver what was promised";
    Relief => "relief", "包救济", "hardship aid";
    Resolve => "resolve", "包化解", "resolve";
    Stop => "stop", "包息访", "until the petitioner stops";
});

vocabulary!(
    /// The four commitments of 四定四包.
    Commitment, "commitment" {
    Policy => "policy", "包政策落实", "policy implementation";
    Hardship => "hardship", "包困难帮扶", "hardship assistance";
    Education => "education", "包教育转化", "explanation and education";
    Settlement => "settlement", "包化解", "resolution";
});

vocabulary!(
    /// The four named people of 四定四包; each is a single-value field of the case.
    FourRole, "role" {
    CountyLeader => "four_county_leader", "县级领导", "county-level leader";
    DeptLeader => "four_dept_leader", "牵头部门领导", "lead department's leader";
    TownshipLeader => "four_township_leader", "乡镇（街道）领导", "township or street leader";
    Officer => "four_officer", "社区（村）干部", "community officer";
});

vocabulary!(
    /// The kind of mediation 调解类型.
    MediationKind, "mediation_kind" {
    People => "people", "人民调解", "people's mediation";
    Administrative => "administrative", "行政调解", "administrative mediation";
    Judicial => "judicial", "司法调解", "judicial mediation";
});

vocabulary!(
    /// The mediation committee 调解委员会: the village or township's own, or a specialist one.
    Committee, "committee" {
    Local => "local", "村（居）、乡镇调委会", "village or township committee";
    Traffic => "traffic", "交通事故", "traffic";
    Medical => "medical", "医疗纠纷", "medical";
    Environmental => "environmental", "环境污染", "environmental";
    Land => "land", "土地", "land";
    Education => "education", "教育", "education";
    Consumer => "consumer", "消费", "consumer";
    Labour => "labour", "劳动争议", "labour";
    Property => "property", "物业", "property management";
});

vocabulary!(
    /// Where a dispute is being mediated, lowest first: the four-level analysis 四级研判 above
    /// the village group.
    MediationLevel, "mediation_level" {
    Group => "group", "村民小组", "village group";
    Village => "village", "村（社区）", "village";
    Township => "township", "乡镇（街道）", "township";
    City => "city", "市联席会议", "city joint conference";
    Standing => "standing", "党委常委会", "party standing committee";
});

vocabulary!(
    /// How a mediation ended.
    MediationResult, "result" {
    Settled => "settled", "调解成功", "settled";
    NotSettled => "not_settled", "调解不成", "not settled";
    Escalated => "escalated", "上报", "escalated";
});

vocabulary!(
    /// What became of a matter received at a leader's reception day.
    ReceivedOutcome, "outcome" {
    OnTheSpot => "on_the_spot", "现场化解", "resolved on the spot";
    Deadline => "deadline", "限期化解", "given a deadline";
    Case => "case", "登记为信访案件", "registered as a case";
});

vocabulary!(
    /// The kind of matter (articles 29–31 of the 2022 regulation).
    MatterKind, "matter_kind" {
    Suggestion => "suggestion", "建议意见", "suggestion";
    Accusation => "accusation", "检举控告", "accusation";
    Request => "request", "申诉求决", "complaint or request";
});
