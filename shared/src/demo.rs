//! A demo caseload: plausible Chinese petition cases for a fictional county, generated
//! deterministically from a seed, so a demo, a benchmark and a test all see the same cases.
//!
//! Names, villages and phone numbers are invented. ID numbers are never generated.

use automerge::ActorId;

use crate::{
    CaseDoc, CaseDraft, Category, Channel, Date, DocId, Editor, EntryId, Field, Form, Level,
    Petitioner, Source, StepDraft, StepKind, UnitId,
};

/// A demo unit: id, name, parent.
pub type DemoUnit = (&'static str, &'static str, Option<&'static str>);

/// The fictional county: the bureau at the root, townships and departments below it.
pub const UNITS: &[DemoUnit] = &[
    ("lianshan", "连山县信访局", None),
    ("longxi", "龙溪镇", Some("lianshan")),
    ("taohua", "桃花坪街道", Some("lianshan")),
    ("shitang", "石塘乡", Some("lianshan")),
    ("qingshan", "青山镇", Some("lianshan")),
    ("hrss", "县人社局", Some("lianshan")),
    ("natres", "县自然资源局", Some("lianshan")),
    ("housing", "县住建局", Some("lianshan")),
];

/// Townships where petitioners live and cases are registered.
const TOWNSHIPS: &[&str] = &["longxi", "taohua", "shitang", "qingshan"];

const VILLAGES: &[&str] = &[
    "石桥村",
    "枫树村",
    "新屋村",
    "水口村",
    "杨柳村",
    "大塘村",
    "茶园村",
    "白沙社区",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "邓", "曾", "彭", "谢",
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "德明", "桂花", "志强", "玉兰", "国华", "春梅", "海波", "红霞", "长生", "小军",
];
const CADRES: &[&str] = &["罗主任", "唐书记", "蒋站长", "肖科长", "段副镇长"];
const LEADERS: &[&str] = &["刘副县长", "陈县长助理", "周书记"];

fn template(category: Category) -> (&'static [&'static str], &'static str) {
    match category {
        Category::Land => (
            &[
                "反映{v}组土地被征收后补偿款至今未足额发放",
                "要求核实{v}承包地征收面积及青苗补偿标准",
            ],
            "natres",
        ),
        Category::Demolition => (
            &[
                "反映县城棚户区改造房屋拆迁安置补偿偏低",
                "要求落实拆迁过渡费",
            ],
            "housing",
        ),
        Category::Housing => (
            &[
                "反映所购商品房逾期两年未交房",
                "反映小区办证难，开发商拒不配合",
            ],
            "housing",
        ),
        Category::Wages => (
            &[
                "反映在某建筑工地务工被拖欠工资三万余元",
                "代表{n}名农民工反映工程款结算后工资仍未发放",
            ],
            "hrss",
        ),
        Category::SocialSecurity => (
            &["反映养老保险缴费年限认定有误", "要求补办城乡居民医保"],
            "hrss",
        ),
        Category::Resettlement => (&["反映库区移民后期扶持资金未到位"], "natres"),
        Category::Environment => (
            &[
                "反映村旁养殖场污水直排，影响饮水",
                "反映石料厂夜间作业噪声扰民",
            ],
            "natres",
        ),
        _ => (
            &["反映与邻居宅基地界址纠纷", "反映村务公开不到位，要求查账"],
            "lianshan",
        ),
    }
}

/// A small deterministic generator (SplitMix64); no dependency, the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The `index`-th demo case, registered within the 90 days before `now_ms`, written by `actor`.
pub fn case(rng: &mut Rng, index: usize, now_ms: i64, actor: ActorId) -> CaseDoc {
    const DAY: i64 = 86_400_000;
    let age_days = rng.below(90) as i64;
    let created = now_ms - age_days * DAY - rng.below(8 * 3_600_000) as i64;
    let registrar = Editor::new("registrar", created);
    let unit = UnitId::new(*rng.pick(TOWNSHIPS)).expect("demo unit ids are valid");
    let category = *rng.pick(&[
        Category::Land,
        Category::Land,
        Category::Wages,
        Category::Wages,
        Category::Demolition,
        Category::Housing,
        Category::SocialSecurity,
        Category::Resettlement,
        Category::Environment,
        Category::Other,
    ]);
    let collective = rng.below(6) == 0;
    let people = if collective { 5 + rng.below(40) } else { 1 };
    let village = *rng.pick(VILLAGES);
    let (summaries, responsible) = template(category);
    let summary = rng
        .pick(summaries)
        .replace("{v}", village)
        .replace("{n}", &people.to_string());
    let channel = *rng.pick(&[
        Channel::Visit,
        Channel::Visit,
        Channel::Letter,
        Channel::Phone,
        Channel::Online,
        Channel::Mobile,
    ]);
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&rng.next().to_be_bytes());
    id[8..].copy_from_slice(&rng.next().to_be_bytes());
    let draft = CaseDraft {
        id: DocId::from_bytes(id),
        unit,
        channel,
        summary,
    };
    let mut doc = CaseDoc::create(&draft, &registrar, actor);

    let registered = Date::from_unix_ms_china(created);
    let (y, _, _) = registered.ymd();
    let form = if collective {
        Form::Collective
    } else {
        Form::Individual
    };
    let level = *rng.pick(&[
        Level::County,
        Level::County,
        Level::County,
        Level::Township,
        Level::Prefecture,
    ]);
    let source = *rng.pick(&[
        Source::Local,
        Source::Local,
        Source::Local,
        Source::PrefectureBureau,
        Source::Provincial,
    ]);
    let handler = rng.pick(CADRES).to_string();
    let leader = rng.pick(LEADERS).to_string();
    let fields: [(Field, String); 9] = [
        (Field::Reference, format!("连信〔{y}〕{:04}号", index + 1)),
        (Field::Form, form.code().into()),
        (Field::People, people.to_string()),
        (Field::Level, level.code().into()),
        (Field::Source, source.code().into()),
        (Field::Category, category.code().into()),
        (Field::ResponsibleUnit, responsible.into()),
        (Field::Handler, handler.clone()),
        (Field::Leader, leader),
    ];
    for (field, value) in fields {
        // Demo values come from the vocabulary above, so they always parse.
        let _ = doc.set(field, &value, &registrar);
    }
    let name = format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN));
    let petitioner = Petitioner {
        id: EntryId::random(),
        name: name.clone(),
        id_number: None,
        phone: Some(format!(
            "13{}{:08}",
            5 + rng.below(5),
            rng.below(100_000_000)
        )),
        address: Some(format!(
            "连山县{}{}",
            crate::demo::unit_name(draft.unit.as_str()),
            village
        )),
    };
    let _ = doc.add_petitioner(&registrar, &petitioner);
    let step = |kind, on, outcome: Option<&str>| StepDraft {
        kind,
        on,
        reason: None,
        outcome: outcome.map(str::to_string),
    };
    let _ = doc.add_step(&registrar, &step(StepKind::Registered, registered, None));
    // Older cases have moved further along their lifecycle.
    if age_days >= 1 {
        let _ = doc.add_step(
            &registrar,
            &step(StepKind::Assigned, registered.add_days(1), None),
        );
    }
    if age_days >= 3 {
        let handler_editor = Editor::new("handler", created + 3 * DAY);
        let _ = doc.add_step(
            &handler_editor,
            &step(StepKind::Notified, registered.add_days(3), None),
        );
    }
    if age_days >= 10 {
        let handler_editor = Editor::new("handler", created + 10 * DAY);
        let _ = doc.add_step(
            &handler_editor,
            &step(StepKind::Handling, registered.add_days(10), None),
        );
        let _ = doc.append_note(
            &handler_editor,
            &format!("{handler}已与{name}电话联系，约定上门面谈。"),
        );
    }
    if age_days >= 20 && rng.below(3) > 0 {
        let mediator = Editor::new("mediator", created + 20 * DAY);
        let visits = 1 + rng.below(3);
        for v in 0..visits {
            let text = *rng.pick(&[
                "入户走访，听取诉求，讲解相关政策。",
                "第二次上门，当事人情绪平稳，同意等待核查结果。",
                "召集村组干部与当事人三方座谈，初步达成调解意向。",
            ]);
            let draft = crate::FollowUpDraft {
                on: Some(registered.add_days(20 + v as i32 * 5)),
                text: text.to_string(),
                place: Some(format!("{village}当事人家中")),
                visitors: Some(handler.clone()),
                ..Default::default()
            };
            let _ = doc.add_follow_up(&mediator, &draft);
        }
    }
    if age_days >= 55 && rng.below(2) == 0 {
        let handler_editor = Editor::new("handler", created + 55 * DAY);
        let _ = doc.add_step(
            &handler_editor,
            &step(
                StepKind::Concluded,
                registered.add_days(55),
                Some(*rng.pick(&[
                    "upheld",
                    "explained",
                    "explained",
                    "not_upheld",
                    "agreement",
                ])),
            ),
        );
    }
    doc
}

/// The name of a demo unit, or the id itself.
pub fn unit_name(id: &str) -> &str {
    UNITS.iter().find(|u| u.0 == id).map(|u| u.1).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_cases_are_complete_and_deterministic() {
        let now = 1_790_000_000_000;
        let actor = ActorId::from([7u8; 16]);
        let mut a = Rng::new(42);
        let mut b = Rng::new(42);
        for i in 0..50 {
            let x = case(&mut a, i, now, actor.clone()).read().unwrap();
            let y = case(&mut b, i, now, actor.clone()).read().unwrap();
            assert_eq!(x.header.id, y.header.id);
            assert_eq!(x.summary, y.summary);
            assert!(
                !x.summary.contains('{'),
                "template not filled: {}",
                x.summary
            );
            assert_eq!(x.petitioners.len(), 1);
            assert!(x.steps.iter().any(|s| s.kind == "registered"));
            let received = crate::Date::from_unix_ms_china(x.header.created_at);
            let life = crate::rules::lifecycle(
                &x.steps,
                received,
                &crate::rules::Limits::default(),
                &crate::rules::Calendar::default(),
            );
            assert!(life.irregularities.is_empty(), "{:?}", life.irregularities);
            assert!(x.reference.as_deref().unwrap_or("").starts_with("连信"));
            assert!(x.conflicts.is_empty());
            assert!(
                x.header
                    .units
                    .iter()
                    .any(|u| TOWNSHIPS.contains(&u.as_str()))
            );
        }
    }
}
