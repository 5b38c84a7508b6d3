//! STUB (replaced by branch `scan`).
#![allow(missing_docs)]
use crate::blob::ByteStream;
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum ScanVerdict {
    Clean,
    Infected { signature: String },
    Unscannable { reason: String },
    NotScanned,
}
impl ScanVerdict {
    pub fn is_clean(&self) -> bool {
        matches!(self, Self::Clean)
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnscannablePolicy {
    #[default]
    Block,
    Allow,
}
impl UnscannablePolicy {
    pub fn admits(self, verdict: &ScanVerdict) -> bool {
        match verdict {
            ScanVerdict::Clean | ScanVerdict::NotScanned => true,
            ScanVerdict::Infected { .. } => false,
            ScanVerdict::Unscannable { .. } => self == Self::Allow,
        }
    }
}
#[async_trait::async_trait]
pub trait ContentScanner: Send + Sync + 'static {
    async fn scan(&self, content: ByteStream) -> crate::Result<ScanVerdict>;
}
pub struct NoScanner;
#[async_trait::async_trait]
impl ContentScanner for NoScanner {
    async fn scan(&self, _content: ByteStream) -> crate::Result<ScanVerdict> {
        Ok(ScanVerdict::NotScanned)
    }
}
