//! What the device asks of the server over plain HTTP beside the sync socket: a case's
//! history and the bytes of its attachments.

use super::{Device, DeviceError, Result};

impl Device {
    /// A case's history from the server (blocking HTTP): who changed what, when, from which
    /// device; refused changes too for the administrator.
    pub fn history(&self, id: &str) -> Result<serde_json::Value> {
        let login = self.login_info()?;
        let agent = self.agent()?;
        let mut resp = agent
            .get(&format!("{}/api/history/{id}", login.server))
            .header("authorization", &format!("Bearer {}", login.token))
            .call()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        match status {
            200 => Ok(value),
            401 => Err(DeviceError::SessionEnded(body)),
            _ => Err(DeviceError::Sync(
                value["error"].as_str().map(str::to_string).unwrap_or(body),
            )),
        }
    }

    /// The bytes of attachment `hash` of case `id`, from the server (blocking HTTP).
    pub fn attachment(&self, id: &str, hash: &str) -> Result<Vec<u8>> {
        let login = self.login_info()?;
        let mut resp = self
            .agent()?
            .get(&format!(
                "{}/api/cases/{id}/attachments/{hash}",
                login.server
            ))
            .header("authorization", &format!("Bearer {}", login.token))
            .call()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(lianxin_shared::MAX_ATTACHMENT_BYTES as u64)
            .read_to_vec()
            .map_err(|e| DeviceError::Unreachable(e.to_string()))?;
        match status {
            200 => Ok(body),
            401 => Err(DeviceError::SessionEnded(
                String::from_utf8_lossy(&body).into(),
            )),
            _ => Err(DeviceError::Sync(String::from_utf8_lossy(&body).into())),
        }
    }
}
