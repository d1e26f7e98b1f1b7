//! Passwords (Argon2id) and session tokens (256 random bits, stored only as their SHA-256).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < 8 {
        return Err("a password needs at least 8 characters".into());
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| format!("cannot make a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash password: {e}"))
}

/// Password checks done by this process, for the test that an unknown user costs the same
/// work as a wrong password.
static VERIFICATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn verifications() -> u64 {
    VERIFICATIONS.load(std::sync::atomic::Ordering::SeqCst)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    VERIFICATIONS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Refuses a password too weak for an administrator: shorter than 10 characters, of one kind
/// of character only, one of the passwords everyone tries first, or containing the name.
pub fn check_strength(password: &str, username: &str) -> Result<(), String> {
    const COMMON: &[&str] = &[
        "password",
        "12345678",
        "123456789",
        "1234567890",
        "qwertyuiop",
        "admin123",
        "88888888",
        "66666666",
        "11111111",
        "abc12345",
        "a1234567",
        "woaini1314",
        "iloveyou",
        "lianxin",
    ];
    let chars = password.chars().count();
    if chars < 10 {
        return Err("the password needs at least 10 characters / 密码至少 10 个字符".into());
    }
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if kinds < 2 {
        return Err("mix letters with digits or signs / 密码须包含字母以外的数字或符号".into());
    }
    let lower = password.to_lowercase();
    if COMMON.iter().any(|c| lower.contains(c))
        || (!username.is_empty() && lower.contains(&username.to_lowercase()))
    {
        return Err("too easy to guess / 密码太容易被猜到".into());
    }
    Ok(())
}

/// A hash no password matches, checked against for a user who does not exist so that the
/// answer costs the same as for a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 24];
        rand::rng().fill_bytes(&mut random);
        let password = base64::engine::general_purpose::STANDARD.encode(random);
        hash_password(&password).unwrap_or_default()
    })
}

/// A new session token for the client, and the hash the server keeps.
pub fn new_token() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_and_tokens_differ() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(hash_password("short").is_err());
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn weak_administrator_passwords_are_refused() {
        for (password, ok) in [
            ("short1!", false),
            ("abcdefghijkl", false),
            ("Password2026!", false),
            ("zhang-admin-77", false),
            ("88888888abc", false),
            ("Bamboo river 7", true),
            ("竹林小河-2026-春", true),
        ] {
            assert_eq!(
                check_strength(password, "zhang-admin").is_ok(),
                ok,
                "{password}"
            );
        }
    }
}
