//! Who may sign in: users (Argon2id hashes, their units, their names), the devices registered
//! to them (an actor belongs to one user for ever) and their sessions.

use super::db::args;
use super::{
    DeviceInfo, Result, Role, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS, Session, Store, StoreError,
    User, parse_role, user_units,
};
use lianxin_shared::UnitId;

impl Store {
    // Users.

    pub fn add_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        unit: &UnitId,
    ) -> Result<()> {
        self.tx(|c| {
            if c.row("SELECT 1 FROM units WHERE id = ?1", args![unit.as_str()])?.is_none() {
                return Err(StoreError::Invalid(format!("no unit {unit}")));
            }
            let n = c.exec(
                "INSERT INTO users (username, password_hash, role) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
                args![username, password_hash, role.code()],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("user {username} already exists")));
            }
            c.exec(
                "INSERT INTO user_units (username, unit) VALUES (?1, ?2)",
                args![username, unit.as_str()],
            )?;
            Ok(())
        })
    }

    pub fn user(&self, username: &str) -> Result<Option<User>> {
        self.read(|c| {
            let Some(row) = c.row(
                "SELECT username, password_hash, role, disabled, name FROM users WHERE username = ?1",
                args![username],
            )?
            else {
                return Ok(None);
            };
            let username = row.text(0)?;
            let units = user_units(c, &username)?;
            Ok(Some(User {
                username,
                password_hash: row.text(1)?,
                role: parse_role(&row.text(2)?)?,
                disabled: row.int(3)? != 0,
                units,
                name: row.text(4)?,
            }))
        })
    }

    /// Disables or enables a user; disabling ends every session of theirs.
    pub fn set_disabled(&self, username: &str, disabled: bool) -> Result<()> {
        self.tx(|c| {
            let n = c.exec(
                "UPDATE users SET disabled = ?2 WHERE username = ?1",
                args![username, disabled],
            )?;
            if n == 0 {
                return Err(StoreError::Invalid(format!("no user {username}")));
            }
            if disabled {
                c.exec("DELETE FROM sessions WHERE username = ?1", args![username])?;
            }
            Ok(())
        })
    }

    // Devices and sessions.

    /// Registers a device's actor for a user. An actor belongs to one user for ever, and a
    /// revoked one is never taken again.
    pub fn register_device(&self, username: &str, actor: &str, name: &str, now: i64) -> Result<()> {
        self.tx(|c| {
            let owner = c.row("SELECT username, revoked_at FROM devices WHERE actor = ?1", args![actor])?;
            match owner {
                Some(r) if r.opt_int(1)?.is_some() => Err(StoreError::Invalid(
                    "this device has been revoked by the administrator".into(),
                )),
                Some(r) if r.text(0)? == username => Ok(()),
                Some(_) => Err(StoreError::Invalid("this device key is registered to another user".into())),
                None => {
                    c.exec(
                        "INSERT INTO devices (actor, username, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                        args![actor, username, name, now],
                    )?;
                    Ok(())
                }
            }
        })
    }

    /// Whether `actor` is a device `username` has signed in from before and not revoked: such
    /// a sign-in is not held back by its address's lock (a colleague's, or an attacker's,
    /// failures behind the same office router), only by its account's.
    pub fn known_device(&self, username: &str, actor: &str) -> Result<bool> {
        self.read(|c| {
            Ok(c.row(
                "SELECT 1 FROM devices WHERE actor = ?1 AND username = ?2 AND revoked_at IS NULL",
                args![actor, username],
            )?
            .is_some())
        })
    }

    /// A new session, for [`SESSION_ABSOLUTE_MS`] from `now`; returns when it expires.
    pub fn create_session(
        &self,
        token_hash: &[u8],
        username: &str,
        actor: &str,
        now: i64,
    ) -> Result<i64> {
        let expires_at = now + SESSION_ABSOLUTE_MS;
        self.with(|c| {
            c.exec(
                "INSERT INTO sessions (token_hash, username, actor, expires_at, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                args![token_hash, username, actor, expires_at, now],
            )?;
            Ok(expires_at)
        })
    }

    /// The live session for a token: not past its absolute or its idle lifetime, the user not
    /// disabled, the device not revoked. Using it counts as activity (written at most once a
    /// minute).
    pub fn session(&self, token_hash: &[u8], now: i64) -> Result<Option<Session>> {
        self.read(|c| {
            let Some(row) = c.row(
                "SELECT s.username, u.role, s.actor, s.last_seen FROM sessions s
                 JOIN users u ON u.username = s.username
                 JOIN devices d ON d.actor = s.actor
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND s.last_seen > ?3
                   AND u.disabled = 0 AND d.revoked_at IS NULL",
                args![token_hash, now, now - SESSION_IDLE_MS],
            )?
            else {
                return Ok(None);
            };
            let (username, actor) = (row.text(0)?, row.text(2)?);
            if now - row.int(3)? > 60_000 {
                c.exec(
                    "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
                    args![token_hash, now],
                )?;
                c.exec(
                    "UPDATE devices SET last_seen = ?2 WHERE actor = ?1",
                    args![actor.as_str(), now],
                )?;
            }
            let units = user_units(c, &username)?;
            Ok(Some(Session {
                username,
                role: parse_role(&row.text(1)?)?,
                actor,
                units,
            }))
        })
    }

    pub fn end_session(&self, token_hash: &[u8]) -> Result<()> {
        self.with(|c| {
            c.exec(
                "DELETE FROM sessions WHERE token_hash = ?1",
                args![token_hash],
            )?;
            Ok(())
        })
    }

    /// Deletes sessions past their absolute or idle lifetime; returns how many.
    pub fn purge_sessions(&self, now: i64) -> Result<usize> {
        self.with(|c| {
            Ok(c.exec(
                "DELETE FROM sessions WHERE expires_at <= ?1 OR last_seen <= ?2",
                args![now, now - SESSION_IDLE_MS],
            )? as usize)
        })
    }

    /// Every registered device, newest first, with its live sessions as of `now`.
    pub fn devices(&self, now: i64) -> Result<Vec<DeviceInfo>> {
        self.read(|c| {
            c.rows(
                "SELECT d.actor, d.username, d.name, d.created_at, d.last_seen, d.revoked_at,
                   (SELECT COUNT(*) FROM sessions s WHERE s.actor = d.actor AND s.expires_at > ?1 AND s.last_seen > ?2)
                 FROM devices d ORDER BY d.created_at DESC, d.actor",
                args![now, now - SESSION_IDLE_MS],
            )?
            .iter()
            .map(|r| {
                Ok(DeviceInfo {
                    actor: r.text(0)?,
                    username: r.text(1)?,
                    name: r.text(2)?,
                    created_at: r.int(3)?,
                    last_seen: r.opt_int(4)?,
                    revoked_at: r.opt_int(5)?,
                    live_sessions: r.int(6)? as usize,
                })
            })
            .collect()
        })
    }

    /// Revokes a device (a lost or stolen tablet): its sessions end at once, its connections
    /// close within seconds, and its key can never sign in again. `actor` may be a unique
    /// prefix of the key.
    pub fn revoke_device(&self, actor: &str, now: i64) -> Result<String> {
        self.tx(|c| {
            let matches: Vec<String> = c
                .rows(
                    "SELECT actor FROM devices WHERE actor LIKE CAST(?1 AS TEXT) || '%'",
                    args![actor],
                )?
                .iter()
                .map(|r| r.text(0))
                .collect::<Result<_>>()?;
            let full = match matches.as_slice() {
                [one] => one.clone(),
                [] => return Err(StoreError::Invalid(format!("no device {actor}"))),
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "{actor} names {} devices; give more of its key",
                        matches.len()
                    )));
                }
            };
            c.exec(
                "UPDATE devices SET revoked_at = ?2 WHERE actor = ?1 AND revoked_at IS NULL",
                args![full.as_str(), now],
            )?;
            c.exec(
                "DELETE FROM sessions WHERE actor = ?1",
                args![full.as_str()],
            )?;
            Ok(full)
        })
    }
}
