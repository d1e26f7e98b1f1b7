//! What `LIANXIN_TRACE` prints of a sync conversation: each frame in a line.

/// A sync message in a line, for `LIANXIN_TRACE`.
fn describe_sync(data: &[u8]) -> String {
    match automerge::sync::Message::decode(data) {
        Ok(m) => {
            let short = |h: &automerge::ChangeHash| hex::encode(&h.0[..3]);
            format!(
                "heads [{}] need [{}] have {:?} changes {} ({} bytes) flags {:?}",
                m.heads.iter().map(short).collect::<Vec<_>>().join(" "),
                m.need.iter().map(short).collect::<Vec<_>>().join(" "),
                m.have
                    .iter()
                    .map(|h| h.last_sync.iter().map(short).collect::<Vec<_>>().join(" "))
                    .collect::<Vec<_>>(),
                m.changes.len(),
                m.changes.iter().map(<[u8]>::len).sum::<usize>(),
                m.flags,
            )
        }
        Err(e) => format!("undecodable: {e}"),
    }
}

pub(super) fn describe_client(frame: &[u8]) -> String {
    match lianxin_shared::protocol::decode::<lianxin_shared::protocol::ClientMessage>(frame) {
        Ok(lianxin_shared::protocol::ClientMessage::Sync(items)) => items
            .iter()
            .map(|i| format!("sync {} {}", i.doc.short(), describe_sync(&i.data)))
            .collect::<Vec<_>>()
            .join("; "),
        Ok(lianxin_shared::protocol::ClientMessage::Push(items)) => items
            .iter()
            .map(|p| {
                format!(
                    "push {} since {} heads, {} changes ({} bytes)",
                    p.doc.short(),
                    p.since.len(),
                    p.changes.len(),
                    p.changes.iter().map(Vec::len).sum::<usize>()
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        Ok(other) => format!("{other:?}"),
        Err(e) => e.to_string(),
    }
}

pub(super) fn describe_server(frame: &[u8]) -> String {
    use lianxin_shared::protocol::{Outcome, PushOutcome, ServerMessage};
    match lianxin_shared::protocol::decode::<ServerMessage>(frame) {
        Ok(ServerMessage::Replies(r)) => r
            .iter()
            .map(|r| match &r.outcome {
                Outcome::Sync(Some(d)) => format!("reply {} {}", r.doc.short(), describe_sync(d)),
                Outcome::Sync(None) => format!("reply {} none", r.doc.short()),
                Outcome::Refused(why) => format!("refused {} {why}", r.doc.short()),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Ok(ServerMessage::Changed(c)) => format!(
            "changed {}",
            c.iter()
                .map(|(d, _)| d.short())
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Ok(ServerMessage::Snapshots(s)) => format!("{} snapshots", s.len()),
        Ok(ServerMessage::Fresh(f)) => format!(
            "{} snapshots, {} with rows",
            f.len(),
            f.iter().filter(|f| f.row.is_some()).count()
        ),
        Ok(ServerMessage::Welcome { seq, changed }) => {
            format!("welcome seq {seq}, {} changed", changed.len())
        }
        Ok(ServerMessage::Error(e)) => format!("error {e}"),
        Ok(ServerMessage::SessionEnded(e)) => format!("session ended: {e}"),
        Ok(ServerMessage::Gone(docs)) => format!("{} gone", docs.len()),
        Ok(ServerMessage::Since(items)) => format!(
            "changes since the cursor of {} documents ({} bytes)",
            items.len(),
            items
                .iter()
                .flat_map(|i| i.changes.iter().map(Vec::len))
                .sum::<usize>()
        ),
        Ok(ServerMessage::Pushed(p)) => p
            .iter()
            .map(|p| match &p.outcome {
                PushOutcome::Taken(c) => format!(
                    "taken #{}, {} changes back ({} bytes)",
                    p.n,
                    c.len(),
                    c.iter().map(Vec::len).sum::<usize>()
                ),
                PushOutcome::Unknown => format!("unknown heads #{}", p.n),
                PushOutcome::Refused(why) => format!("refused #{} {why}", p.n),
            })
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => e.to_string(),
    }
}
