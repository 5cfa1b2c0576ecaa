//! Fetching a running rovgate's what-if report.
//!
//! Where it sits: `rovgate report --url`. The daemon's HTTP task answers
//! `GET /api/v1/report[?peer=NAME]` with a [`Report`] as JSON (built from its RIB view and
//! VRP snapshot); this side reads it back so it renders exactly as an offline report does.

use std::io::Read;
use std::time::Duration;

use super::{Report, ReportError};

/// How long to wait for the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for each read: a report over a large RIB takes a while to build.
const READ_TIMEOUT: Duration = Duration::from_secs(300);

/// `GET {url}/api/v1/report` (with `?peer=NAME` when `peer` is given) as a [`Report`].
pub fn fetch(url: &str, peer: Option<&str>) -> Result<Report, ReportError> {
    let endpoint = format!("{}/api/v1/report", url.trim_end_matches('/'));
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .build();
    let mut request = agent.get(&endpoint);
    if let Some(name) = peer {
        request = request.query("peer", name);
    }
    let response = request.call().map_err(|e| ReportError::Fetch {
        url: endpoint.clone(),
        error: Box::new(e),
    })?;
    let mut body = Vec::new();
    (response.into_reader().read_to_end(&mut body)).map_err(|error| ReportError::Read {
        url: endpoint.clone(),
        error,
    })?;
    serde_json::from_slice(&body).map_err(|error| ReportError::Json {
        url: endpoint,
        error,
    })
}
