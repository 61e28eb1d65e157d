//! Portability: a ZIP (readable by Python's zipfile) with data.json (DPV terms) and
//! records.csv, holding provided and observed data under consent or contract, and counting
//! what is left out.

use std::io::Write as _;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{applicant, id_of, spawn_app};

/// Entries of a ZIP, read by Python's standard library (an independent reader).
pub(crate) fn unzip(bytes: &[u8]) -> Value {
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, io, json, zipfile\n\
             z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\n\
             assert z.testzip() is None\n\
             print(json.dumps({n: z.read(n).decode() for n in z.namelist()}))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_package_holds_provided_data_with_dpv_terms() {
    let app = spawn_app().await;
    let s = id_of(
        &app.create_subject(&applicant("applicant@example.com"))
            .await,
    );
    let r = app
        .get(&app.admin_token, &format!("/v1/subjects/{s}/portability"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/zip");
    let files = unzip(&r.bytes().await.unwrap());
    let data: Value = serde_json::from_str(files["data.json"].as_str().unwrap()).unwrap();
    assert_eq!(data["subject_id"], s.as_str());
    assert_eq!(data["@context"]["dpv"], "https://w3id.org/dpv#");
    let records = data["records"].as_array().unwrap();
    // The CV (provided, pre-contract steps) is portable; data kept for legal claims is not.
    assert_eq!(records.len(), 1, "{data}");
    assert_eq!(records[0]["category"], "recruitment.cv");
    assert_eq!(records[0]["kind"], "provided");
    assert_eq!(records[0]["dpv:hasPersonalData"], "dpv-pd:Professional");
    assert_eq!(records[0]["dpv:hasLegalBasis"], "dpv:Contract");
    assert_eq!(records[0]["value"]["summary"], "ten years of baking");
    assert_eq!(data["excluded"]["basis_not_consent_or_contract"], 2);
    let csv = files["records.csv"].as_str().unwrap();
    assert!(csv.starts_with("record_id,kind,category"));
    assert_eq!(csv.lines().count(), 2);
    assert!(files["README.txt"].as_str().unwrap().contains("art. 20"));
}
