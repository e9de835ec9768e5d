//! Flight SQL over TLS: `medallion-scheduler --tls-cert --tls-key` (a server certificate signed by
//! a certificate authority made here with openssl) serves Flight SQL on `--flight-sql-port` over
//! TLS only. The real ADBC driver trusting that authority connects over `grpc+tls://` and gets the
//! same answers as `medallion sql`; a client trusting another authority, a plaintext client on the
//! TLS port and a plaintext Flight SQL client on the scheduler port are all refused. The executor
//! still reaches the scheduler port (plaintext Ballista gRPC), so queries run as usual.
//!
//! The ADBC driver runs in the Python of [`common::adbc::python`].

mod common;

use std::fs;
use std::path::PathBuf;

use common::adbc::probe;
use common::cluster::{Cluster, free_ports};
use common::tls::{authority, server_certificate};
use common::*;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flight_sql_is_served_over_tls_only() {
    let work = tempfile::tempdir().expect("temp dir");
    let certs = work.path().join("certs");
    fs::create_dir_all(&certs).expect("certs folder");
    authority(&certs, "ca");
    authority(&certs, "other-ca");
    server_certificate(&certs, "ca");
    let ca = fs::read_to_string(certs.join("ca.pem")).expect("ca.pem");
    let other_ca = fs::read_to_string(certs.join("other-ca.pem")).expect("other-ca.pem");

    let lake = work.path().join("lake");
    write_lake(
        &lake,
        &[
            Accident::clear_day_in_la("a1", 2, "2021-03-05 08:15:00"),
            Accident::clear_day_in_la("a2", 3, "2021-04-05 09:15:00"),
        ],
        Format::Parquet,
    );
    let flight_sql_port = free_ports(1)[0].to_string();
    let path = |p: PathBuf| p.to_str().expect("utf-8").to_string();
    let (cert, key) = (
        path(certs.join("server.pem")),
        path(certs.join("server.key")),
    );
    let cluster = Cluster::start_with(
        1,
        &[
            "--lake",
            &path(lake.clone()),
            "--flight-sql-anonymous",
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--flight-sql-port",
            &flight_sql_port,
        ],
        &[],
    );
    let sql = "SELECT id, severity FROM accidents ORDER BY id";
    let tls_uri = format!("grpc+tls://127.0.0.1:{flight_sql_port}");
    let results = probe(
        &tls_uri,
        &json!([
            {"name": "trusted", "user": null, "sql": [sql], "tls_root_certs": ca},
            {"name": "other authority", "user": null, "sql": [sql], "tls_root_certs": other_ca},
        ]),
        work.path(),
    );
    let trusted = &results[0];
    assert_eq!(trusted["connected"], true, "{trusted}\n{}", cluster.logs());
    let statement = &trusted["statements"][0];
    assert_eq!(statement["ok"], true, "{statement}\n{}", cluster.logs());
    let expected = embedded_sql(
        &{
            let catalog = work.path().join("medallion.toml");
            fs::write(&catalog, format!("lake = \"{}\"\n", path(lake.clone()))).expect("write");
            path(catalog)
        },
        sql,
    );
    assert_eq!(statement["rows"], json!(expected), "{statement}");
    let refused = |result: &Value, what: &str| {
        let failed = result["connected"] == false
            || result["statements"]
                .as_array()
                .is_some_and(|s| s.iter().all(|s| s["ok"] == false));
        assert!(failed, "{what} was let in: {result}");
    };
    refused(&results[1], "a client trusting another authority");

    // Plaintext: on the TLS port, and Flight SQL on the scheduler port.
    for uri in [
        format!("grpc://127.0.0.1:{flight_sql_port}"),
        format!("grpc://127.0.0.1:{}", cluster.port),
    ] {
        let results = probe(
            &uri,
            &json!([{"name": "plaintext", "user": null, "sql": [sql]}]),
            work.path(),
        );
        refused(&results[0], &format!("a plaintext client of {uri}"));
    }
    let log = cluster.logs();
    assert!(log.contains("TLS handshake refused"), "{log}");
}
