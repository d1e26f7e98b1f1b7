//! The demo county's mediation ledger and leader reception days: disputes at the townships'
//! committees (some settled, some still in mediation, one escalated) and reception days past
//! and to come, so the ledger, the reception screens and the leader's home have something to
//! show (`lianxin serve --demo`).

use automerge::ActorId;

use crate::demo::{Rng, TOWNSHIPS, VILLAGES};
use crate::{
    Committee, Date, DisputeDoc, DisputeDraft, DocId, Editor, MatterDraft, MediationKind,
    MediationLevel, ReceivedOutcome, ReceptionDoc, ReceptionDraft, UnitId,
};

const DAY: i64 = 86_400_000;

const DISPUTES: &[(&str, Committee)] = &[
    (
        "两户村民因宅基地界址发生纠纷，一方砌墙占用通道",
        Committee::Local,
    ),
    ("承包地流转租金拖欠两年，双方对面积有争议", Committee::Land),
    (
        "装修工程款结算纠纷，工人要求支付剩余工钱",
        Committee::Labour,
    ),
    ("邻里之间因排水沟堵塞导致农田被淹发生争执", Committee::Local),
    (
        "养殖场气味扰民，周边住户要求搬迁或补偿",
        Committee::Environmental,
    ),
    (
        "小区物业费上涨，业主拒缴并要求公开账目",
        Committee::Property,
    ),
    ("摩托车与三轮车相撞，医药费分担未谈妥", Committee::Traffic),
    ("赡养老人费用兄弟三人分担不均发生争吵", Committee::Local),
];
const PARTIES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
const GIVEN: &[&str] = &[
    "建华", "春梅", "国强", "秀英", "德明", "桂兰", "志勇", "海燕",
];

/// `n` demo disputes registered within the 60 days before `now_ms`.
pub fn disputes(rng: &mut Rng, n: usize, now_ms: i64, actor: ActorId) -> Vec<DisputeDoc> {
    (0..n)
        .filter_map(|i| {
            let created = now_ms - rng.below(60) as i64 * DAY - 3_600_000;
            let township = TOWNSHIPS[i % TOWNSHIPS.len()];
            let village = rng.pick(VILLAGES);
            let (summary, committee) = DISPUTES[i % DISPUTES.len()];
            let ed = Editor::new("mediator", created);
            let mut d = DisputeDoc::create(
                &DisputeDraft {
                    id: DocId::random(),
                    unit: UnitId::new(township).ok()?,
                    summary: format!("{village}{summary}"),
                    kind: MediationKind::People,
                    committee,
                    level: if i % 3 == 0 {
                        MediationLevel::Township
                    } else {
                        MediationLevel::Village
                    },
                },
                &ed,
                actor.clone(),
            );
            let name = |rng: &mut Rng| format!("{}{}", rng.pick(PARTIES), rng.pick(GIVEN));
            let (a, b) = (name(rng), name(rng));
            d.add_party(&ed, &a, Some("申请人"), None).ok()?;
            d.add_party(&ed, &b, Some("被申请人"), None).ok()?;
            let first = Date::from_unix_ms_china(created);
            let sessions = 1 + rng.below(3);
            for s in 0..sessions {
                let on = first
                    .add_days(2 + 5 * s as i32)
                    .min(Date::from_unix_ms_china(now_ms));
                let at = Editor::new("mediator", created + (2 + 5 * s as i64) * DAY);
                d.add_session(
                    &at,
                    on,
                    "罗主任",
                    &format!(
                        "第{}次调解：{a}与{b}到场，各自陈述诉求，调解员释法明理。",
                        s + 1
                    ),
                )
                .ok()?;
            }
            let end = Editor::new("mediator", created + 20 * DAY);
            match i % 4 {
                0 | 1 => {
                    d.set_agreement(&format!("经调解，{a}与{b}自愿达成协议，当场履行。"), &end)
                        .ok()?;
                    d.set("result", "settled", &end).ok()?;
                }
                2 if i % 8 == 2 => {
                    d.escalate(
                        &end,
                        first.add_days(18),
                        "村级调解不成，双方同意提交乡镇调委会",
                    )
                    .ok()?;
                }
                _ => {}
            }
            Some(d)
        })
        .collect()
}

/// Leader reception days: eight held in the 60 days before `now_ms` (each with matters
/// received: resolved on the spot or given a deadline) and two to come.
pub fn receptions(rng: &mut Rng, now_ms: i64, actor: ActorId) -> Vec<ReceptionDoc> {
    let today = Date::from_unix_ms_china(now_ms);
    let leaders = ["周书记", "刘副县长", "陈县长助理"];
    (0..10i64)
        .filter_map(|i| {
            let offset = if i < 8 { -(i * 7 + 3) } else { (i - 7) * 7 };
            let on = today.add_days(offset as i32);
            let created = now_ms + (offset.min(0) - 7) * DAY;
            let ed = Editor::new("registrar", created);
            let mut r = ReceptionDoc::create(
                &ReceptionDraft {
                    id: DocId::random(),
                    unit: UnitId::new("lianshan").ok()?,
                    on,
                    leader: leaders[i as usize % leaders.len()].to_string(),
                    place: "县信访局接待大厅".into(),
                },
                &ed,
                actor.clone(),
            )
            .ok()?;
            if offset < 0 {
                let at = Editor::new("registrar", now_ms + offset * DAY + 3_600_000);
                for m in 0..(1 + rng.below(3)) {
                    let deadline = m % 2 == 1;
                    r.receive(
                        &at,
                        &MatterDraft {
                            summary: format!(
                                "{}反映{}",
                                rng.pick(VILLAGES),
                                DISPUTES[rng.below(DISPUTES.len())].0
                            ),
                            people: 1 + rng.below(3) as i64,
                            petitioner: format!("{}{}", rng.pick(PARTIES), rng.pick(GIVEN)),
                            phone: None,
                            outcome: if deadline {
                                ReceivedOutcome::Deadline
                            } else {
                                ReceivedOutcome::OnTheSpot
                            },
                            due: deadline.then(|| on.add_days(30)),
                        },
                    )
                    .ok()?;
                }
            }
            Some(r)
        })
        .collect()
}
