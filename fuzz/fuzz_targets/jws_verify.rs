//! Any bytes as a bearer token (JWS compact) and as a JWKS document for the OIDC verifier
//! (`vern_server::oidc`, used by the Helsinki GDPR API and request identity): splitting,
//! base64url, header and claims JSON, key selection, RSA/ECDSA verification and the claim
//! checks must never panic. The input is split at the first NUL: token, then JWKS; without a
//! NUL a fixed JWKS with one RSA and one EC key is used, so the token paths get most of the
//! time.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vern_server::oidc::{IssuerConfig, verify_offline};

const JWKS: &[u8] = br#"{"keys":[
 {"kty":"RSA","kid":"r1","alg":"RS256","use":"sig","e":"AQAB",
  "n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"},
 {"kty":"EC","kid":"e1","crv":"P-256","alg":"ES256",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

fuzz_target!(|data: &[u8]| {
    let (token, jwks) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, JWKS),
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let mut config = IssuerConfig::new("https://id.example/", vec!["vern".into()]);
    config.scope_claims = vec![
        "scope".into(),
        "scp".into(),
        "authorization.permissions.scopes".into(),
        "https://api.example/".into(),
    ];
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let _ = verify_offline(&config, jwks, token, now);
});
