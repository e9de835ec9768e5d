//! Plan codecs shared by the client, the scheduler and the executors.
//!
//! Ballista ships logical plans from the client to the scheduler and physical stages from the
//! scheduler to the executors as protobuf. DataFusion's built-in encoders know Parquet/CSV/JSON;
//! everything medallion adds (ORC tables and scans, the MySQL and Parquet part sinks) goes through these two codecs,
//! which wrap Ballista's own and fall back to them for everything else. Every process must install
//! both (see [`crate::session`]).

mod logical;
mod physical;

pub use logical::MedallionLogicalCodec;
pub use physical::MedallionPhysicalCodec;

/// Prefixes a payload with a tag naming the node kind, so a decoder can tell medallion's nodes from
/// Ballista's without trial decoding.
pub(crate) fn tagged(tag: &[u8], payload: &[u8], buf: &mut Vec<u8>) {
    buf.extend_from_slice(tag);
    buf.extend_from_slice(payload);
}

/// A payload that is a UTF-8 string (a folder path).
pub(crate) fn utf8(payload: &[u8]) -> datafusion::error::Result<String> {
    String::from_utf8(payload.to_vec()).map_err(|e| {
        datafusion::error::DataFusionError::Internal(format!("decoding a folder path: {e}"))
    })
}

/// The payload after `tag`, when `buf` starts with it.
pub(crate) fn untag<'a>(tag: &[u8], buf: &'a [u8]) -> Option<&'a [u8]> {
    buf.strip_prefix(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_do_not_match_other_payloads() {
        let mut buf = Vec::new();
        tagged(b"medallion.orc_scan:", b"payload", &mut buf);
        assert_eq!(untag(b"medallion.orc_scan:", &buf), Some(&b"payload"[..]));
        assert_eq!(untag(b"medallion.mysql_sink:", &buf), None);
    }
}
