//! Encryption at rest with WebCrypto: every document, row, draft and the session in
//! IndexedDB is sealed with AES-GCM (256-bit, a fresh 96-bit IV each time) under the user's
//! data key. The data key is random, made at the first sign-in on this tablet, and kept only
//! wrapped (AES-GCM) by a key derived from the password with PBKDF2-SHA-256 at
//! [`ITERATIONS`]; in memory it is a non-extractable `CryptoKey`. Unlocking needs the
//! password and nothing from the network, so it works in a village; forgetting the key (lock,
//! sign-out, a closed tab) leaves only ciphertext.
//!
//! What stays in clear, in localStorage: the user name of whoever last used the tablet, the
//! salt and the wrapped key ([`LockRecord`]), the Automerge actor, the idle setting.

use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// PBKDF2 iterations (OWASP's 2023 figure for PBKDF2-HMAC-SHA-256).
pub const ITERATIONS: u32 = 600_000;

/// What unlocks a user's data on this tablet, kept in clear.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LockRecord {
    pub username: String,
    pub salt: String,
    pub iterations: u32,
    /// IV (12 bytes) followed by the AES-GCM-wrapped raw data key, hex.
    pub wrapped: String,
}

/// The unlocked data key.
#[derive(Clone)]
pub struct Vault {
    key: CryptoKey,
}

fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(|_| {
            "this page has no WebCrypto: open the app over https (see README)".to_string()
        })?;
    Ok(crypto.subtle())
}

fn random(n: usize) -> Result<Vec<u8>, String> {
    let mut bytes = vec![0u8; n];
    web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(|_| "no WebCrypto")?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|_| "no random numbers")?;
    Ok(bytes)
}

fn object(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o
}

fn usages(list: &[&str]) -> JsValue {
    list.iter()
        .map(|u| JsValue::from_str(u))
        .collect::<Array>()
        .into()
}

fn gcm(iv: &[u8]) -> Object {
    object(&[
        ("name", "AES-GCM".into()),
        ("iv", Uint8Array::from(iv).into()),
    ])
}

fn aes256() -> Object {
    object(&[("name", "AES-GCM".into()), ("length", 256.into())])
}

async fn wait(p: Result<js_sys::Promise, JsValue>, what: &str) -> Result<JsValue, String> {
    let p = p.map_err(|e| format!("{what}: {e:?}"))?;
    JsFuture::from(p).await.map_err(|e| {
        // A failed AES-GCM decryption (wrong key) is an OperationError.
        let name = Reflect::get(&e, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        format!("{what}: {name}")
    })
}

/// The key that wraps the data key, from the password.
async fn key_from_password(
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey, String> {
    let subtle = subtle()?;
    let raw = Uint8Array::from(password.as_bytes());
    let base: CryptoKey = wait(
        subtle.import_key_with_str("raw", &raw, "PBKDF2", false, &usages(&["deriveKey"])),
        "import",
    )
    .await?
    .unchecked_into();
    let params = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", iterations.into()),
    ]);
    Ok(wait(
        subtle.derive_key_with_object_and_object(
            &params,
            &base,
            &aes256(),
            false,
            &usages(&["wrapKey", "unwrapKey"]),
        ),
        "derive",
    )
    .await?
    .unchecked_into())
}

impl Vault {
    /// A new data key for `username`, wrapped under `password`.
    pub async fn create(username: &str, password: &str) -> Result<(Vault, LockRecord), String> {
        let subtle = subtle()?;
        let salt = random(16)?;
        let kek = key_from_password(password, &salt, ITERATIONS).await?;
        let data: CryptoKey = wait(
            subtle.generate_key_with_object(&aes256(), true, &usages(&["encrypt", "decrypt"])),
            "generate",
        )
        .await?
        .unchecked_into();
        let iv = random(12)?;
        let wrapped = wait(
            subtle.wrap_key_with_object("raw", &data, &kek, &gcm(&iv)),
            "wrap",
        )
        .await?;
        let mut sealed = iv;
        sealed.extend(Uint8Array::new(&wrapped).to_vec());
        let record = LockRecord {
            username: username.to_string(),
            salt: hex::encode(salt),
            iterations: ITERATIONS,
            wrapped: hex::encode(sealed),
        };
        // The copy kept in memory is not extractable.
        let vault = Vault::unlock(password, &record).await?;
        Ok((vault, record))
    }

    /// The data key, if `password` is the one it was wrapped under.
    pub async fn unlock(password: &str, record: &LockRecord) -> Result<Vault, String> {
        let start = crate::perf::now();
        let out = Self::unlock_with(password, record).await;
        crate::perf::add("unlock: password to key", start);
        out
    }

    async fn unlock_with(password: &str, record: &LockRecord) -> Result<Vault, String> {
        let salt = hex::decode(&record.salt).map_err(|_| "damaged lock record")?;
        let sealed = hex::decode(&record.wrapped).map_err(|_| "damaged lock record")?;
        if sealed.len() < 13 {
            return Err("damaged lock record".into());
        }
        let kek = key_from_password(password, &salt, record.iterations).await?;
        let (iv, wrapped) = sealed.split_at(12);
        let key = wait(
            subtle()?.unwrap_key_with_u8_array_and_object_and_object(
                "raw",
                wrapped,
                &kek,
                &gcm(iv),
                &aes256(),
                false,
                &usages(&["encrypt", "decrypt"]),
            ),
            "unlock",
        )
        .await
        .map_err(|_| "wrong password".to_string())?;
        Ok(Vault {
            key: key.unchecked_into(),
        })
    }

    /// IV followed by the ciphertext (with its tag).
    pub async fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        let iv = random(12)?;
        let out = wait(
            subtle()?.encrypt_with_object_and_u8_array(&gcm(&iv), &self.key, plain),
            "encrypt",
        )
        .await?;
        let mut sealed = iv;
        sealed.extend(Uint8Array::new(&out).to_vec());
        Ok(sealed)
    }

    pub async fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, String> {
        if sealed.len() < 12 + 16 {
            return Err("damaged record".into());
        }
        let (iv, body) = sealed.split_at(12);
        let out = wait(
            subtle()?.decrypt_with_object_and_u8_array(&gcm(iv), &self.key, body),
            "decrypt",
        )
        .await?;
        Ok(Uint8Array::new(&out).to_vec())
    }

    /// Seals many values at once (WebCrypto works on them in parallel).
    pub async fn seal_all(&self, plains: &[&[u8]]) -> Result<Vec<Vec<u8>>, String> {
        futures_join(plains.iter().map(|p| self.seal(p))).await
    }

    pub async fn open_all(&self, sealed: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
        futures_join(sealed.iter().map(|s| self.open(s))).await
    }
}

/// Runs futures together, keeping their order; the first error wins.
async fn futures_join<T>(
    futures: impl Iterator<Item = impl std::future::Future<Output = Result<T, String>>>,
) -> Result<Vec<T>, String> {
    futures_util::future::join_all(futures)
        .await
        .into_iter()
        .collect()
}

// Lock records in localStorage.

use crate::storage;

fn record_key(username: &str) -> String {
    format!("lianxin.lock.{username}")
}

pub fn record(username: &str) -> Option<LockRecord> {
    let text = storage()?.get_item(&record_key(username)).ok()??;
    serde_json::from_str(&text).ok()
}

pub fn keep_record(record: &LockRecord) {
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(record)) {
        let _ = s.set_item(&record_key(&record.username), &text);
    }
}

pub fn forget_record(username: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(&record_key(username));
    }
}

/// Who used this tablet last (the lock screen asks for their password).
pub fn current_user() -> Option<String> {
    storage()?.get_item("lianxin.current").ok()?
}

pub fn set_current_user(username: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match username {
            Some(u) => s.set_item("lianxin.current", u),
            None => s.remove_item("lianxin.current"),
        };
    }
}
