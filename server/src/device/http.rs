//! What the device asks of the server over plain HTTP beside the sync socket: a case's
//! history and the bytes of its attachments.

use super::{Device, DeviceError, Result};

impl Device {
    /// `GET path` on the server with this device's session (blocking): the body of a 200, up
    /// to `limit` bytes; a 401 as [`DeviceError::SessionEnded`]; else the server's reason.
    fn get(&self, path: &str, limit: u64) -> Result<Vec<u8>> {
        let login = self.login_info()?;
        let mut resp = self
            .agent()?
            .get(&format!("{}{path}", login.server))
            .header("authorization", &format!("Bearer {}", login.token))
            .call()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let text = || String::from_utf8_lossy(&body).into_owned();
        match status {
            200 => Ok(body),
            401 => Err(DeviceError::SessionEnded(text())),
            _ => Err(DeviceError::Sync(
                serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["error"].as_str().map(str::to_string))
                    .unwrap_or_else(text),
            )),
        }
    }

    /// A case's history from the server: who changed what, when, from which device; refused
    /// changes too for the administrator.
    pub fn history(&self, id: &str) -> Result<serde_json::Value> {
        let body = self.get(&format!("/api/history/{id}"), 64 * 1024 * 1024)?;
        Ok(serde_json::from_slice(&body).unwrap_or_default())
    }

    /// The bytes of attachment `hash` of case `id`, from the server.
    pub fn attachment(&self, id: &str, hash: &str) -> Result<Vec<u8>> {
        self.get(
            &format!("/api/cases/{id}/attachments/{hash}"),
            lianxin_shared::MAX_ATTACHMENT_BYTES as u64,
        )
    }
}
