//! The app inside a real `HttpServer`, as the server crate runs it, over a raw socket.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use actix_web::{web, HttpServer};

use super::support::*;
use crate::app;

fn raw_request(addr: SocketAddr, request: String) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_rt::test]
async fn a_real_server_answers_with_envelopes() {
    let mut m = Mocks::new();
    m.clients
        .expect_create_client()
        .returning(|_, cmd| cmd.map(|_| client()));
    let state = m.state();
    let server = HttpServer::new(move || app(state.clone()))
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);

    let auth = basic(LOGIN, PASSWORD);
    let (huge, unknown, ok) = web::block(move || {
        let huge = raw_request(
            addr,
            format!(
                "POST /nevisidm/api/core/v1/clients HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n{{"
            ),
        );
        let unknown = raw_request(addr, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".into());
        let body = r#"{"name":"Acme"}"#;
        let ok = raw_request(
            addr,
            format!(
                "POST /nevisidm/api/core/v1/clients HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        (huge, unknown, ok)
    })
    .await
    .unwrap();
    handle.stop(true).await;

    assert!(huge.starts_with("HTTP/1.1 413"), "{huge}");
    assert!(
        huge.contains(
            r#"{"errors":[{"code":"errors.invalidData","message":"Request body too large."}]}"#
        ),
        "{huge}"
    );
    assert!(
        huge.to_ascii_lowercase().contains("x-request-id:"),
        "{huge}"
    );
    assert!(unknown.starts_with("HTTP/1.1 404"), "{unknown}");
    assert!(unknown.contains("errors.invalidUri"), "{unknown}");
    assert!(ok.starts_with("HTTP/1.1 201"), "{ok}");
    assert!(
        ok.to_ascii_lowercase()
            .contains("location: /nevisidm/api/core/v1/clients/acme"),
        "{ok}"
    );
}
