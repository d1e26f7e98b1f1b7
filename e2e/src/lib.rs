//! The browser tests (tests/) and the app benchmark (examples/) drive the real app in Chromium; this library is empty.
