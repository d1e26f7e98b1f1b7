//! A demo caseload: plausible Chinese petition cases for a fictional county, generated
//! deterministically from a seed, so a demo, a benchmark and a test all see the same cases.
//!
//! Names, villages and phone numbers are invented. ID numbers are never generated.
//!
//! Proportions follow DOMAIN.md's county figures (Wugang, 2020: 854 visits and 611 letters,
//! calls and online matters; of the visits 670 individual with 1,446 people and 184 collective
//! with 1,632; 710 visits settled on the spot; of the matters filed, 114 of 144 concluded;
//! 143 assigned from above and 463 from an inspection team; a prefecture's 416 leader case
//! packages over 13 counties), so about: 58% visits; 22% of visits collective (5–13 people,
//! about 9), individual visits 1–4 people (about 2.1); 83% of visits settled on the spot; 80%
//! of the rest concluded once old enough; sources 58% local, 32% inspection, 10% from above;
//! 2% of filed cases under a leader's package. Seven-evenings plans (3% of long-running cases),
//! evaluations (60% of concluded cases: 70% satisfied, 22% basically, 8% not), hardship aid
//! and hearings (1% each) are sprinkled so every screen has something to show.

use automerge::ActorId;

use crate::{
    CaseDoc, CaseDraft, Category, Channel, Date, DetailsDoc, DocId, Editor, EntryId, Field, Form,
    Level, Petitioner, Satisfaction, Source, StepDraft, StepKind, UnitId,
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
pub(crate) const TOWNSHIPS: &[&str] = &["longxi", "taohua", "shitang", "qingshan"];

pub(crate) const VILLAGES: &[&str] = &[
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
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The `index`-th demo case, registered within the 90 days before `now_ms`, written by `actor`,
/// with its details document (the township, the responsible unit and the bureau handle it).
pub fn case(rng: &mut Rng, index: usize, now_ms: i64, actor: ActorId) -> (CaseDoc, DetailsDoc) {
    const DAY: i64 = 86_400_000;
    let age_days = rng.below(90) as i64;
    let created = now_ms - age_days * DAY - rng.below(8 * 3_600_000) as i64;
    let registrar = Editor::new("registrar", created);
    let township: &&str = rng.pick(TOWNSHIPS);
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
    // About one case in twelve is a returning petitioner's: one of a few people per matter
    // (more as the caseload grows), who keep their township. Drawn from its own generator so
    // the rest of the case is what it would be otherwise.
    let returning = {
        let mut again = Rng::new(index as u64 ^ 0x7E7E_A7ED_0000_0000);
        (again.below(100) < 8).then(|| again.below(4 + index / 50))
    };
    let matter = Category::ALL
        .iter()
        .position(|c| *c == category)
        .unwrap_or(0);
    let township = match returning {
        Some(k) => &TOWNSHIPS[(matter * 7 + k) % TOWNSHIPS.len()],
        None => township,
    };
    let unit = UnitId::new(township).expect("demo unit ids are valid");
    let channel = if rng.below(100) < 58 {
        Channel::Visit
    } else {
        *rng.pick(&[
            Channel::Letter,
            Channel::Letter,
            Channel::Phone,
            Channel::Online,
            Channel::Online,
            Channel::Mobile,
        ])
    };
    let collective = rng.below(100) < if channel == Channel::Visit { 22 } else { 3 };
    let people = if collective {
        5 + rng.below(9)
    } else {
        *rng.pick(&[1, 1, 2, 2, 2, 3, 4])
    };
    let village = *rng.pick(VILLAGES);
    let (summaries, responsible) = template(category);
    let summary = rng
        .pick(summaries)
        .replace("{v}", village)
        .replace("{n}", &people.to_string());
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    id[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    let draft = CaseDraft {
        id: DocId::from_bytes(id),
        unit,
        channel,
        summary,
    };
    let others: Vec<UnitId> = [responsible, UNITS[0].0]
        .iter()
        .filter_map(|u| UnitId::new(u).ok())
        .collect();
    let (mut doc, mut details) = CaseDoc::create_with_details(&draft, &others, &registrar, actor);

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
    let source = match rng.below(100) {
        0..58 => Source::Local,
        58..90 => Source::Inspection,
        90..96 => Source::PrefectureBureau,
        96..99 => Source::Provincial,
        _ => Source::National,
    };
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
        (Field::Leader, leader.clone()),
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
        masked: Default::default(),
    };
    let petitioner = match returning {
        Some(k) => Petitioner {
            name: format!(
                "{}{}",
                SURNAMES[(matter * 3 + k) % SURNAMES.len()],
                GIVEN[(k * 5 + matter) % GIVEN.len()]
            ),
            id_number: (k % 2 == 0).then(|| {
                format!(
                    "4312811970{:02}{:02}{:04}",
                    1 + k % 12,
                    1 + matter,
                    k % 10_000
                )
            }),
            phone: Some(format!("1370{matter:03}{:04}", k % 10_000)),
            ..petitioner
        },
        None => petitioner,
    };
    let _ = doc.add_petitioner(&registrar, &petitioner, Some(&mut details));
    let step = |kind, on, outcome: Option<&str>| StepDraft {
        kind,
        on,
        reason: None,
        outcome: outcome.map(str::to_string),
    };
    let _ = doc.add_step(&registrar, &step(StepKind::Registered, registered, None));
    let today = Date::from_unix_ms_china(now_ms);
    // Most visits are settled on the spot: accepted and answered the day they are registered.
    if channel == Channel::Visit && rng.below(100) < 83 {
        // Recorded a minute apart, so they read back in the order they happened.
        let (accepting, answering) = (
            Editor::new("registrar", created + 60_000),
            Editor::new("registrar", created + 120_000),
        );
        let _ = doc.add_step(&accepting, &step(StepKind::Notified, registered, None));
        let outcome = *rng.pick(&["explained", "explained", "explained", "upheld"]);
        let _ = doc.add_step(
            &answering,
            &step(StepKind::Concluded, registered, Some(outcome)),
        );
        evaluate(&mut doc, rng, registered, created);
        return (doc, details);
    }
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
                met: Some(name.clone()),
                attitude: Some(rng.pick(&["情绪平稳", "情绪激动", "态度缓和"]).to_string()),
                ..Default::default()
            };
            let _ = doc.add_follow_up(&mediator, &draft);
        }
    }
    // A difficult case: a leader takes the package.
    if rng.below(100) < 2 {
        let ed = Editor::new("leader", created + DAY);
        let _ = doc.set(Field::PackageDue, &registered.add_days(60).to_string(), &ed);
        let _ = doc.set(Field::FourCountyLeader, &leader, &ed);
        let _ = doc.set(Field::FourTownshipLeader, "镇党委书记", &ed);
        let _ = doc.set(Field::FourOfficer, &format!("{village}支书"), &ed);
        let _ = doc.add_progress(
            &ed,
            "investigate",
            registered.add_days(2),
            "调阅档案，听取村组意见",
            age_days >= 5,
        );
        if age_days >= 10 {
            let _ = doc.add_progress(
                &ed,
                "mediate",
                registered.add_days(10),
                "组织相关部门召开协调会",
                false,
            );
        }
    }
    // A long-running case: seven evenings at the petitioner's home, begun ten days ago.
    if age_days >= 30 && rng.below(100) < 3 {
        let start = today.add_days(-10);
        let ed = Editor::new("mediator", now_ms - 10 * DAY);
        let _ = doc.start_evenings(&ed, start, &format!("{leader}、乡贤{}", rng.pick(SURNAMES)));
        let missed = rng.below(3) == 0;
        for e in 0..7 {
            let held = !(missed && e == 4);
            let _ = doc.log_evening(
                &ed,
                &crate::EveningLogDraft {
                    on: Some(start.add_days(e)),
                    held,
                    time: held.then(|| "19:30–22:30".to_string()),
                    talk: if held {
                        rng.pick(&["拉家常，听取诉求", "讲解政策，核对事实", "共同商量解决方案"])
                            .to_string()
                    } else {
                        String::new()
                    },
                    attitude: None,
                    agreement: None,
                },
            );
        }
    }
    if rng.below(100) == 0 {
        let _ = doc.add_aid(
            &Editor::new("handler", created + 5 * DAY),
            &crate::AidDraft {
                amount: 1000 * (1 + rng.below(5) as i64),
                reason: "家庭生活困难，临时救助".into(),
                approved_by: "县信访局".into(),
                approved_on: Some(registered.add_days(5)),
                paid_on: (age_days >= 10).then(|| registered.add_days(9)),
            },
        );
    }
    if age_days >= 40 && rng.below(100) == 0 {
        let _ = doc.add_hearing(
            &Editor::new("handler", created + 40 * DAY),
            &crate::HearingDraft {
                on: Some(registered.add_days(40)),
                participants: "人大代表2名、律师1名、村民代表3名".into(),
                conclusion: "诉求部分合理，建议依政策解决".into(),
            },
        );
    }
    if age_days >= 55 && rng.below(100) < 80 {
        let handler_editor = Editor::new("handler", created + 55 * DAY);
        let concluded = registered.add_days(55);
        let _ = doc.add_step(
            &handler_editor,
            &step(
                StepKind::Concluded,
                concluded,
                Some(*rng.pick(&[
                    "upheld",
                    "explained",
                    "explained",
                    "not_upheld",
                    "agreement",
                ])),
            ),
        );
        evaluate(&mut doc, rng, concluded, created + 56 * DAY);
    }
    (doc, details)
}

/// Most concluded matters are evaluated by the petitioner, mostly with satisfaction.
fn evaluate(doc: &mut CaseDoc, rng: &mut Rng, concluded: Date, at: i64) {
    if rng.below(100) >= 60 {
        return;
    }
    let pick = |rng: &mut Rng| match rng.below(100) {
        0..70 => Satisfaction::Satisfied,
        70..92 => Satisfaction::BasicallySatisfied,
        _ => Satisfaction::Unsatisfied,
    };
    let (office, unit) = (pick(rng), pick(rng));
    let _ = doc.evaluate(
        &Editor::new("registrar", at),
        concluded.add_days(3),
        office,
        unit,
    );
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
            let (x, details) = case(&mut a, i, now, actor.clone());
            let (x, details) = (x.read().unwrap(), details.read().unwrap());
            let y = case(&mut b, i, now, actor.clone()).0.read().unwrap();
            assert_eq!(details.case, Some(x.header.id));
            // The phone is in the details; the case keeps it masked.
            let phone = details.people[0].phone.as_deref().unwrap();
            assert_eq!(
                x.petitioners[0].masked.phone.as_deref(),
                Some(crate::mask_phone(phone).as_str())
            );
            assert_eq!(x.petitioners[0].phone, None);
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

    /// The generator's proportions are DOMAIN.md's, within sampling error over 3,000 cases.
    #[test]
    fn demo_proportions_follow_the_county_figures() {
        let now = 1_790_000_000_000;
        let actor = ActorId::from([7u8; 16]);
        let mut rng = Rng::new(2026);
        let cases: Vec<crate::Case> = (0..3_000)
            .map(|i| case(&mut rng, i, now, actor.clone()).0.read().unwrap())
            .collect();
        use crate::OptionCode;
        let share = |f: &dyn Fn(&crate::Case) -> bool, of: &dyn Fn(&crate::Case) -> bool| {
            let base: Vec<&crate::Case> = cases.iter().filter(|c| of(c)).collect();
            100.0 * base.iter().filter(|c| f(c)).count() as f64 / base.len() as f64
        };
        let all = |_: &crate::Case| true;
        let visit = |c: &crate::Case| c.channel.code() == Some("visit");
        let collective = |c: &crate::Case| c.form.code() == Some("collective");
        let on_the_spot =
            |c: &crate::Case| c.steps.len() == 3 && c.steps.iter().all(|s| s.on == c.steps[0].on);
        let people = |f: &dyn Fn(&crate::Case) -> bool| {
            let v: Vec<i64> = cases
                .iter()
                .filter(|c| visit(c) && f(c))
                .map(|c| c.people.unwrap())
                .collect();
            v.iter().sum::<i64>() as f64 / v.len() as f64
        };
        let checks = [
            ("visits", share(&visit, &all), 58.0),
            ("collective visits", share(&collective, &visit), 22.0),
            (
                "visits settled on the spot",
                share(&on_the_spot, &visit),
                83.0,
            ),
            (
                "from an inspection team",
                share(&|c| c.source.code() == Some("inspection"), &all),
                32.0,
            ),
            ("people per collective visit", people(&collective), 9.0),
            (
                "people per individual visit",
                people(&|c| !collective(c)),
                2.1,
            ),
        ];
        for (what, got, want) in checks {
            assert!(
                (got - want).abs() <= want * 0.12,
                "{what}: {got:.1}, expected about {want}"
            );
        }
        let evaluated: Vec<&crate::Evaluation> =
            cases.iter().filter_map(|c| c.evaluation()).collect();
        let satisfied = evaluated
            .iter()
            .filter(|e| e.office != "unsatisfied")
            .count() as f64
            / evaluated.len() as f64;
        assert!(
            (0.88..0.96).contains(&satisfied),
            "satisfaction {satisfied}"
        );
        for (what, n) in [
            (
                "seven-evenings plans",
                cases
                    .iter()
                    .filter(|c| !c.evening_starts.is_empty())
                    .count(),
            ),
            (
                "leader packages",
                cases.iter().filter(|c| c.package_due.is_some()).count(),
            ),
            ("aid", cases.iter().filter(|c| !c.aid.is_empty()).count()),
            (
                "hearings",
                cases.iter().filter(|c| !c.hearings.is_empty()).count(),
            ),
        ] {
            assert!(n > 0, "no {what} among 3,000 demo cases");
        }
    }
}
