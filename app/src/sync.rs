//! The browser's sync transport: one WebSocket to `/api/sync` driving the shared
//! [`DeviceSession`], reconnecting with backoff when the network goes.
//!
//! Documents live in memory here; IndexedDB persistence is not built yet (issue #3).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use automerge::ActorId;
use lianxin_shared::{DeviceSession, DocId, Replica};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// What the sync indicator shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Offline,
    Syncing,
    Synced,
}

/// Called when the status changes or documents arrive.
pub type Listener = Rc<dyn Fn(Status, bool)>;

pub struct Engine {
    pub actor: ActorId,
    pub replicas: RefCell<HashMap<DocId, Replica>>,
    cursor: RefCell<u64>,
    token: String,
    listener: Listener,
    socket: RefCell<Option<WebSocket>>,
    backoff_ms: RefCell<i32>,
}

impl Engine {
    pub fn new(actor: ActorId, token: String, listener: Listener) -> Rc<Engine> {
        Rc::new(Engine {
            actor,
            replicas: RefCell::new(HashMap::new()),
            cursor: RefCell::new(0),
            token,
            listener,
            socket: RefCell::new(None),
            backoff_ms: RefCell::new(1000),
        })
    }

    /// Opens the socket; on close, tries again later (1 s, doubling to 60 s).
    pub fn connect(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let host = location.host().unwrap_or_default();
        let scheme = if location.protocol().unwrap_or_default() == "https:" {
            "wss"
        } else {
            "ws"
        };
        let url = format!("{scheme}://{host}/api/sync?token={}", self.token);
        let Ok(ws) = WebSocket::new(&url) else {
            self.retry_later();
            return;
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        let session = Rc::new(RefCell::new(DeviceSession::default()));
        (self.listener)(Status::Syncing, false);

        let engine = self.clone();
        let opened_session = session.clone();
        let socket = ws.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            *engine.backoff_ms.borrow_mut() = 1000;
            let (s, hello) = DeviceSession::hello(*engine.cursor.borrow());
            *opened_session.borrow_mut() = s;
            let _ = socket.send_with_u8_array(&hello);
            let mut session = opened_session.borrow_mut();
            for (id, replica) in engine.replicas.borrow_mut().iter_mut() {
                if !replica.is_confirmed() {
                    session.push(*id, replica);
                }
            }
            for frame in session.take_frames() {
                let _ = socket.send_with_u8_array(&frame);
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();

        let engine = self.clone();
        let socket = ws.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let bytes = js_sys::Uint8Array::new(&event.data()).to_vec();
            let mut session = session.borrow_mut();
            let tasks = match session.receive(&bytes) {
                Ok(tasks) => tasks,
                Err(e) => {
                    web_sys::console::warn_1(&format!("sync: {e}").into());
                    let _ = socket.close();
                    return;
                }
            };
            let mut changed = false;
            {
                let mut replicas = engine.replicas.borrow_mut();
                for task in tasks {
                    let id = task.doc();
                    let replica = replicas
                        .entry(id)
                        .or_insert_with(|| Replica::empty(engine.actor.clone()));
                    match session.handle(&task, replica) {
                        Ok(stored) => changed |= stored,
                        Err(e) => {
                            web_sys::console::warn_1(&format!("sync {}: {e}", id.short()).into())
                        }
                    }
                }
            }
            for frame in session.take_frames() {
                let _ = socket.send_with_u8_array(&frame);
            }
            if session.is_settled() {
                *engine.cursor.borrow_mut() = session.cursor();
                (engine.listener)(Status::Synced, changed);
            } else {
                (engine.listener)(Status::Syncing, changed);
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();

        let engine = self.clone();
        let on_close = Closure::<dyn FnMut()>::new(move || {
            (engine.listener)(Status::Offline, false);
            engine.socket.borrow_mut().take();
            engine.retry_later();
        });
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        on_close.forget();
        *self.socket.borrow_mut() = Some(ws);
    }

    fn retry_later(self: &Rc<Self>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let delay = *self.backoff_ms.borrow();
        *self.backoff_ms.borrow_mut() = (delay * 2).min(60_000);
        let engine = self.clone();
        let retry = Closure::once_into_js(move || engine.connect());
        let _ = window
            .set_timeout_with_callback_and_timeout_and_arguments_0(retry.unchecked_ref(), delay);
    }
}
