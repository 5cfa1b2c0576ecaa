//! Fetching a running rovgate's what-if report.
//!
//! Where it sits: `rovgate report --url`. The daemon's HTTP task answers
//! `GET /api/v1/report[?peer=NAME]` with a page of a [`Report`] as JSON (built from its
//! RIB view and VRP snapshot); this side reads every page of one build, in the largest
//! pages the daemon gives, and puts them together, so it renders exactly as an offline
//! report does.

use std::io::Read;
use std::time::Duration;

use super::{Report, ReportError, ReportPage, MAX_PAGE};

/// How long to wait for the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for each read: a report over a large RIB takes a while to build.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
/// How many times the report is read from its first page again when the daemon replaced
/// it with a newer build while its pages were read.
pub const ATTEMPTS: usize = 3;

/// `GET {url}/api/v1/report` (with `?peer=NAME` when `peer` is given), every page, as one
/// [`Report`].
pub fn fetch(url: &str, peer: Option<&str>) -> Result<Report, ReportError> {
    let endpoint = format!("{}/api/v1/report", url.trim_end_matches('/'));
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .build();
    for _ in 1..ATTEMPTS {
        match read_pages(&agent, &endpoint, peer) {
            Err(ReportError::Replaced { .. }) => continue,
            done => return done,
        }
    }
    read_pages(&agent, &endpoint, peer)
}

/// Every page of one build, put together.
fn read_pages(
    agent: &ureq::Agent,
    endpoint: &str,
    peer: Option<&str>,
) -> Result<Report, ReportError> {
    let first = get(agent, endpoint, peer, 0, None)?;
    let (total, id) = (first.total, first.id);
    let mut report = first.report;
    let mut read = routes(&report);
    while read < total {
        let page = get(agent, endpoint, peer, read, Some(id))?;
        let more = routes(&page.report);
        if page.id != id {
            return Err(ReportError::Replaced {
                url: endpoint.to_string(),
            });
        }
        if more == 0 || !report.append(page.report) {
            return Err(ReportError::Pages {
                url: endpoint.to_string(),
            });
        }
        read += more;
    }
    Ok(report)
}

/// How many invalid routes a report (or a page of one) holds.
fn routes(report: &Report) -> u64 {
    (report.peers.iter())
        .map(|p| p.invalid_routes.len() as u64)
        .sum()
}

/// One page: the invalid routes from `offset` on, of build `id` when given.
fn get(
    agent: &ureq::Agent,
    endpoint: &str,
    peer: Option<&str>,
    offset: u64,
    id: Option<u64>,
) -> Result<ReportPage, ReportError> {
    let mut request = agent.get(endpoint);
    if let Some(name) = peer {
        request = request.query("peer", name);
    }
    request = (request.query("offset", &offset.to_string())).query("limit", &MAX_PAGE.to_string());
    if let Some(id) = id {
        request = request.query("id", &id.to_string());
    }
    let url = endpoint.to_string();
    let response = match request.call() {
        Err(ureq::Error::Status(409, _)) => return Err(ReportError::Replaced { url }),
        Err(e) => {
            let error = Box::new(e);
            return Err(ReportError::Fetch { url, error });
        }
        Ok(response) => response,
    };
    let mut body = Vec::new();
    if let Err(error) = response.into_reader().read_to_end(&mut body) {
        return Err(ReportError::Read { url, error });
    }
    serde_json::from_slice(&body).map_err(|error| ReportError::Json { url, error })
}
