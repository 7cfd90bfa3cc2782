use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use idm_domain::paging::PageRequest;
use idm_ports::repos::{transact, TxMode, UserListFilter};

#[derive(QueryableByName)]
struct Detail {
    #[diesel(sql_type = Text)]
    detail: String,
}
#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn plan() {
    let (_dir, url) = idm_adapters_diesel::testdb::fresh_sqlite_url();
    let path = url.strip_prefix("sqlite://").unwrap().to_owned();
    {
        let db = idm_adapters_diesel::Database::connect(&url, 2, std::time::Duration::from_secs(10)).unwrap();
        db.migrate().unwrap();
        let client = idm_adapters_diesel::contract::client();
        transact(&db, TxMode::Write, |r| Ok(r.clients().insert(&client)?)).unwrap();
        std::fs::write("/tmp/client_id", &client.id).unwrap();
        let base = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let ids: Vec<usize> = (0..100_000).collect();
        for chunk in ids.chunks(5000) {
            transact(&db, TxMode::Write, |r| {
                for i in chunk {
                    let mut u = idm_adapters_diesel::contract::user(&client.id);
                    u.ext_id = idm_domain::ExtId::parse(&format!("u{i:06}")).unwrap();
                    u.login_id = format!("user{i:06}");
                    u.name.family_name = Some(format!("Family{:04}", i % 5_000));
                    u.contacts.email = Some(format!("User{i:06}@bench.example"));
                    u.created = base + chrono::Duration::milliseconds(*i as i64);
                    r.users().insert(&u)?;
                }
                Ok(())
            }).unwrap();
        }
    }
    let client_id = std::fs::read_to_string("/tmp/client_id").unwrap();
    let db = idm_adapters_diesel::Database::connect(&url, 1, std::time::Duration::from_secs(10)).unwrap();
    let mut c = SqliteConnection::establish(&path).unwrap();
    for t in ["sqlite_stat1", "sqlite_stat4"] {
        let n: Result<Vec<N>, _> = diesel::sql_query(format!("SELECT count(*) AS n FROM {t}")).load(&mut c);
        eprintln!("{t}: {:?}", n.map(|v| v[0].n));
    }
    let q = "EXPLAIN QUERY PLAN SELECT id FROM users WHERE client_id = ? AND ((client_id = ? AND lower(login_id) >= lower(?) AND lower(login_id) < lower(?)) OR (client_id = ? AND lower(family_name) >= lower(?) AND lower(family_name) < lower(?)) OR (client_id = ? AND lower(email) >= lower(?) AND lower(email) < lower(?))) ORDER BY created, ext_id LIMIT 101";
    for p in ["user", "zzz"] {
        let hi = format!("{p}\u{10FFFF}");
        let rows: Vec<Detail> = diesel::sql_query(q)
            .bind::<Text, _>(&client_id).bind::<Text, _>(&client_id).bind::<Text, _>(p).bind::<Text, _>(&hi)
            .bind::<Text, _>(&client_id).bind::<Text, _>(p).bind::<Text, _>(&hi)
            .bind::<Text, _>(&client_id).bind::<Text, _>(p).bind::<Text, _>(&hi)
            .load(&mut c).unwrap();
        eprintln!("== {p}: {:?}", rows.iter().map(|r| r.detail.clone()).collect::<Vec<_>>());
        let filter = UserListFilter { prefix: Some(p.into()), ..Default::default() };
        for n in 0..3 {
            let t = std::time::Instant::now();
            let rows = transact(&db, TxMode::Read, |r| Ok(r.users().list_by_client(&client_id, &filter, &PageRequest::default())?)).unwrap();
            eprintln!("  run {n}: {} rows in {:?}", rows.len(), t.elapsed());
        }
    }
    let _ = c.batch_execute("SELECT 1");
}
