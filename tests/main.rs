//! rovgate's integration tests, in one test binary (`cargo test --test it`): one module per
//! file of `tests/`, each driving the real `rovgate` binary and real peers and caches
//! (`support`). A single binary links rovgate and its dependencies once instead of once
//! per file. Run one file's tests with `cargo test --test it bgp_bird::`.

mod support;

mod actions;
mod add_path;
mod api;
mod ars_reference;
mod aspa;
mod bgp_bird;
mod bgp_exabgp;
mod bgp_gobgp;
mod bgp_malformed;
mod bgp_openbgpd;
mod birdwatcher;
mod bmp_add_path;
mod bmp_export;
mod bmp_senders;
mod bmp_station;
mod checks;
mod checks_report;
mod cli;
mod export;
mod extended_next_hop;
mod full_table;
mod hardening;
mod http_access;
mod lab;
mod members_irr;
mod refused;
mod reload;
mod replay;
mod replay_churn;
mod replay_speakers;
mod report;
mod report_pages;
mod rov;
mod rov_startup;
mod rov_vrps;
mod rtr;
mod rtr_corrupt;
mod rtr_server;
mod security;
mod web;
