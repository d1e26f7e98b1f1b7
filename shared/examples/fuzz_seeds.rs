//! Writes starting inputs for the fuzz targets (`fuzz/`): sync messages a device sends about
//! the case the `check` target's server holds, and saved documents of every kind for `load`.
//!
//! `cargo run -p lianxin-shared --example fuzz_seeds -- fuzz/corpus`

use automerge::{ActorId, AutoCommit, sync, sync::SyncDoc};
use lianxin_shared::{
    CaseDoc, CaseDraft, Channel, Committee, DisputeDoc, DisputeDraft, DocId, Editor, FollowUpDraft,
    MediationKind, MediationLevel, ReceptionDoc, ReceptionDraft, UnitId,
};

fn main() -> std::io::Result<()> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or("fuzz/corpus".into()));
    std::fs::create_dir_all(out.join("check"))?;
    std::fs::create_dir_all(out.join("load"))?;
    std::fs::create_dir_all(out.join("frame"))?;
    // The same case as the check target's server copy.
    let actor = ActorId::from(vec![7u8; 16]);
    let mut draft = CaseDraft::new(UnitId::new("longxi").unwrap(), Channel::Visit, "案件");
    draft.id = DocId::from_bytes([1; 16]);
    let mut case = CaseDoc::create(&draft, &Editor::new("mediator", 1), actor.clone());
    case.append_note(&Editor::new("mediator", 2), "笔记")
        .unwrap();
    let server = case.doc().clone();
    let mut n = 0;
    let mut write = |dir: &str, bytes: &[u8]| -> std::io::Result<()> {
        n += 1;
        std::fs::write(out.join(dir).join(format!("seed{n}")), bytes)
    };
    for i in 0..6 {
        let mut device = server.clone();
        let mut c = CaseDoc::from_doc(device.clone()).unwrap();
        let ed = Editor::new("mediator", 10 + i);
        match i % 3 {
            0 => c.append_note(&ed, "又一条").unwrap(),
            1 => c.set(lianxin_shared::Field::Handler, "张三", &ed).unwrap(),
            _ => {
                c.add_follow_up(
                    &ed,
                    &FollowUpDraft {
                        text: "走访".into(),
                        ..Default::default()
                    },
                )
                .unwrap();
            }
        }
        device = c.into_doc();
        let (mut s, mut d) = (sync::State::new(), sync::State::new());
        let mut srv = server.clone();
        for _ in 0..3 {
            let Some(m) = device.sync().generate_sync_message(&mut d) else {
                break;
            };
            let bytes = m.clone().encode();
            write("check", &bytes)?;
            srv.sync().receive_sync_message(&mut s, m).unwrap();
            if let Some(r) = lianxin_shared::reply(&mut srv, &mut s, &[])
                .and_then(|r| sync::Message::decode(&r).ok())
            {
                device.sync().receive_sync_message(&mut d, r).unwrap();
            }
        }
    }
    let ed = Editor::new("mediator", 1);
    let unit = UnitId::new("longxi").unwrap();
    write("load", &case.save())?;
    let dispute = DisputeDoc::create(
        &DisputeDraft {
            id: DocId::random(),
            unit: unit.clone(),
            summary: "纠纷".into(),
            kind: MediationKind::People,
            committee: Committee::Local,
            level: MediationLevel::Group,
        },
        &ed,
        actor.clone(),
    );
    write("load", &dispute.into_doc().save())?;
    let day = ReceptionDoc::create(
        &ReceptionDraft {
            id: DocId::random(),
            unit,
            on: "2026-11-25".parse().unwrap(),
            leader: "刘副县长".into(),
            place: "接待室".into(),
        },
        &ed,
        actor,
    )
    .unwrap();
    write("load", &day.into_doc().save())?;
    let mut empty = AutoCommit::new();
    write("load", &empty.save())?;
    let hello = lianxin_shared::protocol::encode(&lianxin_shared::protocol::ClientMessage::Hello {
        cursor: 7,
    });
    write("frame", &hello)?;
    Ok(())
}
